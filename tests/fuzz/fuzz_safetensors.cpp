// libFuzzer target: nn::parse_safetensors (weights, checkpoints and imported models are safetensors).
#include "dsp/error.hpp"
#include "fuzz_support.hpp"
#include "nn/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto file = mtag::nn::parse_safetensors(mtag::fuzz::as_string(data, size), "fuzz input");
        for (const auto& [name, tensor] : file.tensors) (void)tensor.value.size();
    } catch (const mtag::Error&) {
    }
    return 0;
}
