// libFuzzer target: data::KerasWeightsFile (the Keras 1 HDF5 importer behind `mtag model import` and
// `fetch`) on a file holding the fuzzer's bytes: the layer table, then every dataset of every layer.
// libhdf5 itself is not what is under test (it has its own fuzzing, and a crash inside it is reported to
// HDF5); what is, is that mtag checks what the library hands back (ranks, sizes, types, names).
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
