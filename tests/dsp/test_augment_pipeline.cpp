#include "dsp/augment_pipeline.hpp"

#include "dsp/error.hpp"
#include "spectrum_probe.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace mtag::dsp;
using nlohmann::json;

namespace {

json everything_config() {
    json config = AugmentPipeline::default_config();
    for (auto& t : config["transforms"]) t["p"] = 1.0;
    config["transforms"].push_back({{"type", "filter"}, {"p", 1.0}, {"filter", "high_shelf"}});
    config["transforms"].push_back({{"type", "polarity"}, {"p", 1.0}});
    config["transforms"].push_back({{"type", "shift"}, {"p", 1.0}, {"fraction", {-0.1, 0.1}}});
    return config;
}

}  // namespace

TEST_CASE("augment pipeline: deterministic for a seed, varies with seed, clip and epoch") {
    const AugmentPipeline pipeline(everything_config());
    const std::vector<float> x = mtag::test::sine(440.0, 16000, 16000, 0.3);
    const AugmentResult a = pipeline.apply(x, 16000, 42, 3, 1);
    const AugmentResult b = pipeline.apply(x, 16000, 42, 3, 1);
    REQUIRE(a.audio == b.audio);
    REQUIRE(a.applied == b.applied);
    REQUIRE(a.applied.size() == 8);
    REQUIRE(a.applied[0]["type"] == "pitch_shift");
    REQUIRE(a.applied[0]["semitones"].get<double>() >= -4.0);
    REQUIRE(a.audio.size() == x.size());  // time_stretch keeps the length by default
    REQUIRE(pipeline.apply(x, 16000, 43, 3, 1).audio != a.audio);
    REQUIRE(pipeline.apply(x, 16000, 42, 4, 1).audio != a.audio);
    REQUIRE(pipeline.apply(x, 16000, 42, 3, 2).audio != a.audio);
}

TEST_CASE("augment pipeline: probabilities fire at about p and the record lists what fired") {
    const AugmentPipeline pipeline(
        json{{"transforms", {{{"type", "gain"}, {"p", 0.3}}, {{"type", "polarity"}, {"p", 0.0}}}}});
    const std::vector<float> x(100, 0.5f);
    int fired = 0;
    for (std::uint64_t clip = 0; clip < 2000; ++clip) {
        const AugmentResult r = pipeline.apply(x, 8000, 1, clip);
        for (const auto& entry : r.applied) {
            REQUIRE(entry["type"] == "gain");
            const double g = entry["gain_db"].get<double>();
            REQUIRE(r.audio[0] == Approx(0.5 * std::pow(10.0, g / 20.0)).epsilon(1e-5));
            ++fired;
        }
    }
    REQUIRE(fired > 520);
    REQUIRE(fired < 680);
}

TEST_CASE("augment pipeline: safe and identical from several threads at once") {
    const AugmentPipeline pipeline(everything_config());
    const std::vector<float> x = mtag::test::sine(220.0, 16000, 8000, 0.3);
    const int clips = 8;
    std::vector<std::vector<float>> serial(clips), parallel(clips);
    for (int c = 0; c < clips; ++c) serial[c] = pipeline.apply(x, 16000, 9, c).audio;
    std::vector<std::thread> threads;
    for (int worker = 0; worker < 4; ++worker)
        threads.emplace_back([&, worker] {
            for (int c = worker; c < clips; c += 4) parallel[c] = pipeline.apply(x, 16000, 9, c).audio;
        });
    for (auto& thread : threads) thread.join();
    for (int c = 0; c < clips; ++c) REQUIRE(parallel[c] == serial[c]);
}

TEST_CASE("augment pipeline: crop gives the asked length, bad configs name the transform and key") {
    const AugmentPipeline crop(json{{"transforms", {{{"type", "crop"}, {"seconds", 0.5}}}}});
    const std::vector<float> x(16000, 0.1f);
    REQUIRE(crop.apply(x, 16000, 1).audio.size() == 8000);
    REQUIRE(crop.apply(std::vector<float>(100, 0.1f), 16000, 1).audio.size() == 8000);
    REQUIRE_THROWS_WITH(AugmentPipeline(json{{"transforms", {{{"type", "reverb"}}}}}),
                        Catch::Contains("unknown type"));
    REQUIRE_THROWS_WITH(AugmentPipeline(json{{"transforms", {{{"type", "gain"}, {"gian_db", 3}}}}}),
                        Catch::Contains("unknown key 'gian_db'"));
    REQUIRE_THROWS_WITH(
        AugmentPipeline(json{{"transforms", {{{"type", "pitch_shift"}, {"semitones", {-30, 2}}}}}}),
        Catch::Contains("semitones"));
    REQUIRE_THROWS_WITH(AugmentPipeline(json{{"transforms", {{{"type", "gain"}, {"p", 2}}}}}),
                        Catch::Contains("'p'"));
    REQUIRE(AugmentPipeline().to_json()["transforms"].size() == 5);
}
