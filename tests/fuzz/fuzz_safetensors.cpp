// libFuzzer target: safetensors (weights, checkpoints and imported models), through both readers: the
// in-memory parser (nn::parse_safetensors) and the file reader that loads one tensor at a time
// (nn::SafetensorsReader, what load_weights uses), on the same bytes.
#include "dsp/error.hpp"
#include "fuzz_support.hpp"
#include "nn/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto file = mtag::nn::parse_safetensors(mtag::fuzz::as_string(data, size), "fuzz input");
        for (const auto& [name, tensor] : file.tensors) (void)tensor.value.size();
    } catch (const mtag::Error&) {
    }
    try {
        mtag::nn::SafetensorsReader reader(mtag::fuzz::write_input("weights.safetensors", data, size));
        for (const std::string& name : reader.names()) {
            (void)reader.shape(name);
            (void)reader.read(name).value.size();
        }
    } catch (const mtag::Error&) {
    }
    return 0;
}
