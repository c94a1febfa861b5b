// libFuzzer target: dsp::read_npy_header and dsp::load_npy on a file holding the fuzzer's bytes.
#include "dsp/error.hpp"
#include "dsp/npy.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = mtag::fuzz::write_input("input.npy", data, size);
    try {
        (void)mtag::dsp::read_npy_header(path);
    } catch (const mtag::Error&) {
    }
    try {
        (void)mtag::dsp::load_npy(path);
    } catch (const mtag::Error&) {
    }
    return 0;
}
