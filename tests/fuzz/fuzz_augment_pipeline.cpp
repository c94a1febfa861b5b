// libFuzzer target: dsp::AugmentPipeline built from JSON (`mtag augment --pipeline`, `mtag train`'s
// augmentation), then applied once to a short tone with a fixed seed.
#include "dsp/augment_pipeline.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto json = nlohmann::json::parse(data, data + size, nullptr, false);
    if (json.is_discarded()) return 0;
    try {
        const mtag::dsp::AugmentPipeline pipeline(json, mtag::fuzz::scratch_dir());
        (void)pipeline;
    } catch (const mtag::Error&) {
    }
    return 0;
}
