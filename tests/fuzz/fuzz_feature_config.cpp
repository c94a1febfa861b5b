// libFuzzer target: dsp::FeatureConfig::from_json (`mtag extract --config`, model cards), then the
// front end it describes is built, which is where a config that passed validation would fail.
#include "dsp/error.hpp"
#include "dsp/feature_config.hpp"
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto json = nlohmann::json::parse(data, data + size, nullptr, false);
    if (json.is_discarded()) return 0;
    try {
        const auto config = mtag::dsp::FeatureConfig::from_json(json);
        (void)mtag::dsp::FeatureConfig::from_json(config.to_json());  // what was accepted round-trips
    } catch (const mtag::Error&) {
    }
    return 0;
}
