#include "data/pipeline/feature_cache.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

// A fake front end: [bins, 5] filled from the file's size and the bin count, counting its calls.
struct Counter {
    std::atomic<int> calls{0};
    mtag::dsp::FloatMatrix compute(const fs::path& audio, std::size_t bins) {
        ++calls;
        mtag::dsp::FloatMatrix m(bins, 5);
        for (std::size_t i = 0; i < m.size(); ++i)
            m.data[i] = static_cast<float>(fs::file_size(audio) % 997 + i);
        return m;
    }
};

}  // namespace

TEST_CASE("feature_cache: computes once, then serves the memory-mapped .npy") {
    const auto dir = mtag::test::fresh_dir("cache_basic");
    mtag::test::write_tone(dir / "a.wav", 0.3);
    mtag::dsp::FeatureConfig config;
    FeatureCache cache(dir / "cache", config);
    CHECK(cache.folder() == dir / "cache" / config.resolved().hash());
    CHECK(fs::exists(cache.folder() / "config.json"));
    Counter counter;
    auto fn = [&](const fs::path& p) { return counter.compute(p, 96); };
    CHECK_FALSE(cache.find(dir / "a.wav"));
    const auto first = cache.get_or_compute(dir / "a.wav", fn);
    const auto second = cache.get_or_compute(dir / "a.wav", fn);
    CHECK(counter.calls == 1);
    CHECK(cache.hits() == 1);
    CHECK(cache.misses() == 1);
    REQUIRE(second.shape() == std::vector<std::size_t>{96, 5});
    CHECK(std::vector<float>(second.values().begin(), second.values().end()) ==
          std::vector<float>(first.values().begin(), first.values().end()));
    // Another process (a new FeatureCache on the same folder) finds it too.
    FeatureCache reopened(dir / "cache", config);
    CHECK(reopened.find(dir / "a.wav"));
    CHECK_THROWS_WITH(cache.get_or_compute(dir / "missing.wav", fn), Catch::Contains("does not exist"));
}

TEST_CASE("feature_cache: a changed config or a changed audio file never reads stale features") {
    const auto dir = mtag::test::fresh_dir("cache_stale");
    mtag::test::write_tone(dir / "a.wav", 0.3);
    mtag::dsp::FeatureConfig config96, config64;
    config64.n_mels = 64;
    FeatureCache cache96(dir / "cache", config96);
    FeatureCache cache64(dir / "cache", config64);
    CHECK(cache96.folder() != cache64.folder());
    Counter counter;
    cache96.get_or_compute(dir / "a.wav", [&](const fs::path& p) { return counter.compute(p, 96); });
    CHECK_FALSE(cache64.find(dir / "a.wav"));
    const auto m64 =
        cache64.get_or_compute(dir / "a.wav", [&](const fs::path& p) { return counter.compute(p, 64); });
    CHECK(counter.calls == 2);
    CHECK(m64.shape()[0] == 64);
    // Rewrite the audio (another length, a later mtime): the old entry is not used.
    const auto old_entry = cache96.entry_path(dir / "a.wav");
    mtag::test::write_tone(dir / "a.wav", 0.5);
    fs::last_write_time(dir / "a.wav", fs::last_write_time(dir / "a.wav") + std::chrono::seconds(3));
    CHECK(cache96.entry_path(dir / "a.wav") != old_entry);
    CHECK_FALSE(cache96.find(dir / "a.wav"));
    const auto fresh =
        cache96.get_or_compute(dir / "a.wav", [&](const fs::path& p) { return counter.compute(p, 96); });
    CHECK(counter.calls == 3);
    CHECK(fresh.values()[0] == static_cast<float>(fs::file_size(dir / "a.wav") % 997));
    // Features of the wrong shape under the right name are recomputed, not served.
    mtag::dsp::save_npy(cache96.entry_path(dir / "a.wav"), mtag::dsp::FloatMatrix(3, 3));
    CHECK_FALSE(cache96.find(dir / "a.wav"));
    cache96.get_or_compute(dir / "a.wav", [&](const fs::path& p) { return counter.compute(p, 96); });
    CHECK(counter.calls == 4);
    // A front end that disagrees with the config is an error, not a cache entry.
    CHECK_THROWS_WITH(
        cache64.get_or_compute(dir / "a.wav", [&](const fs::path&) { return mtag::dsp::FloatMatrix(3, 3); }),
        Catch::Contains("3 bins"));
}

TEST_CASE("feature_cache: a tampered config.json is refused, concurrent use is safe") {
    const auto dir = mtag::test::fresh_dir("cache_conflict");
    mtag::dsp::FeatureConfig config;
    FeatureCache cache(dir / "cache", config);
    mtag::test::write_text(cache.folder() / "config.json", "{\"kind\": \"cqt\"}");
    CHECK_THROWS_WITH(FeatureCache(dir / "cache", config), Catch::Contains("another config"));
    fs::remove(cache.folder() / "config.json");
    FeatureCache again(dir / "cache", config);
    for (int i = 0; i < 4; ++i)
        mtag::test::write_tone(dir / (std::string("c") + std::to_string(i) + ".wav"), 0.1 + 0.05 * i);
    Counter counter;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 4; ++i) {
                const auto m =
                    again.get_or_compute(dir / (std::string("c") + std::to_string(i) + ".wav"),
                                         [&](const fs::path& p) { return counter.compute(p, 96); });
                CHECK(m.shape()[0] == 96);
            }
        });
    for (auto& t : threads) t.join();
    CHECK(counter.calls >= 4);
    CHECK(counter.calls <= 16);
}
