// libFuzzer target: the training config's public parse entry, data::TrainConfig::from_json (`mtag train
// --config`), on any JSON document the bytes parse to.
#include "data/train/train_config.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto json = nlohmann::json::parse(data, data + size, nullptr, false);
    if (json.is_discarded()) return 0;  // not JSON: the file readers report that themselves
    try {
        (void)mtag::data::TrainConfig::from_json(json);
    } catch (const mtag::Error&) {
    }
    return 0;
}
