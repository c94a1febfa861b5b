// libFuzzer target: data::KerasWeightsFile (the Keras 1 HDF5 importer behind `mtag model import` and
// `fetch`) on a file holding the fuzzer's bytes: the layer table, then every dataset of every layer.
// libhdf5 runs in a child process (data/pretrained/child_process.hpp), as in the product: a crash inside it
// (libhdf5 1.10 has one, the regression seed regression-hdf5-attr-heap-overflow.h5) must come back as an
// mtag::Error. What is under test is mtag's side: the isolation, the transfer of the contents back, and the
// checks on what the library hands back (ranks, sizes, types, names). The child's coverage does not reach
// libFuzzer, so this target explores less than the in-process ones; its seeds are real Keras files.
#include "data/pretrained/keras_h5.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = mtag::fuzz::write_input("weights.h5", data, size);
    try {
        const mtag::data::KerasWeightsFile file(path);
        for (const auto& layer : file.layers())
            for (const auto& weight : layer.weight_names) {
                try {
                    (void)file.read_dataset(layer, weight);
                } catch (const mtag::Error&) {
                }
            }
    } catch (const mtag::Error&) {
    }
    return 0;
}
