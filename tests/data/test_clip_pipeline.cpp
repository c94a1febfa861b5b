#include "data/clip_pipeline.hpp"
#include "dsp/error.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

// A 16 kHz chirp (200 -> 2000 Hz) so that every crop looks different.
void write_chirp(const fs::path& path, double seconds) {
    mtag::dsp::Audio audio;
    audio.sample_rate = 16000;
    audio.channels = 1;
    audio.samples.resize(static_cast<std::size_t>(seconds * 16000));
    double phase = 0.0;
    for (std::size_t i = 0; i < audio.samples.size(); ++i) {
        const double hz = 200.0 + 1800.0 * i / audio.samples.size();
        phase += 2 * std::numbers::pi * hz / 16000;
        audio.samples[i] = 0.3f * static_cast<float>(std::sin(phase));
    }
    fs::create_directories(path.parent_path());
    mtag::dsp::save_audio(path, audio, mtag::dsp::SampleFormat::float32);
}

struct Fixture {
    fs::path dir = mtag::test::fresh_dir("clip_pipeline");
    Dataset dataset;
    mtag::dsp::FeatureConfig config;
    Fixture() {
        config.top_db = -1.0;  // clipping depends on the whole input's maximum; off for exact comparisons
        dataset.vocabulary = {"x"};
        for (int i = 0; i < 3; ++i) {
            const fs::path path = dir / (std::string("c") + std::to_string(i) + ".wav");
            write_chirp(path, i == 2 ? 0.3 : 3.0);  // clip 2 is shorter than a chunk
            Clip clip{std::to_string(i), path, path.filename().string(), {1}, Split::train, {}};
            if (i == 1) clip.duration_seconds = 3.0;  // decodes only the window
            dataset.clips.push_back(clip);
        }
    }
    mtag::dsp::FloatMatrix full_features(std::size_t clip) const {
        const auto audio = mtag::dsp::load_audio(dataset.clips[clip].audio_path, {.sample_rate = 16000});
        mtag::dsp::FloatMatrix m;
        make_front_end(config)(audio.samples, m);
        return m;
    }
};

Sample run(const SampleFn& fn, const Dataset& d, std::size_t clip, std::uint64_t seed,
           std::size_t repeat = 0) {
    Sample s;
    fn(d.clips[clip], {.clip_index = clip, .epoch = 0, .repeat = repeat, .seed = seed}, s);
    return s;
}

}  // namespace

TEST_CASE("clip_pipeline: random training crops are seeded and match the full clip's frames") {
    Fixture f;
    const ClipPipelineOptions options{.features = f.config, .chunking = {.length = 64}};
    const SampleFn fn = make_clip_sample_fn(options, make_front_end(f.config));
    for (std::size_t clip : {0, 1}) {
        const Sample a = run(fn, f.dataset, clip, 11), b = run(fn, f.dataset, clip, 11),
                     c = run(fn, f.dataset, clip, 12);
        REQUIRE(a.input.rows == 96);
        REQUIRE(a.input.cols == 64);
        CHECK(a.input.data == b.input.data);
        CHECK(a.input.data != c.input.data);
        // The interior frames of the crop equal some 64-frame window of the whole clip's features.
        const auto full = f.full_features(clip);
        double best = 1e30;
        for (std::size_t offset = 0; offset + 64 <= full.cols; ++offset) {
            double err = 0.0;
            for (std::size_t bin = 0; bin < 96; bin += 5)
                for (std::size_t t = 4; t < 60; t += 7)
                    err = std::max(err, std::abs(double(a.input(bin, t)) - full(bin, offset + t)));
            best = std::min(best, err);
        }
        CHECK(best < 0.05);  // dB
    }
    // A short clip is padded with silence (the log floor), not with 0 dB.
    const Sample s = run(fn, f.dataset, 2, 1);
    CHECK(s.input(10, 63) < -90.0f);
}

TEST_CASE("clip_pipeline: evaluation chunks from the cache equal columns of the full features") {
    Fixture f;
    FeatureCache cache(f.dir / "cache", f.config);
    ClipPipelineOptions options{
        .features = f.config,
        .chunking = {.length = 64, .eval = EvalChunking::evenly_spaced, .eval_chunks = 4},
        .train = false,
        .cache = &cache};
    const SampleFn fn = make_clip_sample_fn(options, make_front_end(f.config));
    const auto full = f.full_features(0);
    const auto offsets = eval_chunk_offsets(full.cols, options.chunking);
    REQUIRE(offsets.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        const Sample s = run(fn, f.dataset, 0, 99, k);
        for (std::size_t bin = 0; bin < 96; bin += 19)
            for (std::size_t t = 0; t < 64; t += 9)
                CHECK(s.input(bin, t) == Approx(full(bin, offsets[k] + t)).margin(1e-4));
    }
    CHECK(cache.misses() == 1);
    CHECK(cache.hits() == 3);
}

TEST_CASE("clip_pipeline: augmentation acts on the waveform; normalisation on the features") {
    Fixture f;
    const mtag::dsp::AugmentPipeline gain(
        nlohmann::json::parse(R"({"transforms": [{"type": "gain", "p": 1.0, "gain_db": [6, 6]}]})"));
    mtag::dsp::FeatureConfig config = f.config;
    const SampleFn plain =
        make_clip_sample_fn({.features = config, .chunking = {.length = 32}}, make_front_end(config));
    const SampleFn louder = make_clip_sample_fn(
        {.features = config, .chunking = {.length = 32}, .augment = &gain}, make_front_end(config));
    const Sample a = run(plain, f.dataset, 1, 5), b = run(louder, f.dataset, 1, 5);
    CHECK(b.input(20, 16) - a.input(20, 16) == Approx(6.0).margin(0.01));
    Normalization norm;
    norm.mean.assign(96, 10.0f);
    norm.std.assign(96, 2.0f);
    const SampleFn normalised = make_clip_sample_fn(
        {.features = config, .chunking = {.length = 32}, .normalization = &norm}, make_front_end(config));
    const Sample c = run(normalised, f.dataset, 1, 5);
    CHECK(c.input(20, 16) == Approx((a.input(20, 16) - 10.0f) / 2.0f));
    mtag::dsp::FeatureConfig bad = config;
    bad.fmax = 20000;  // above Nyquist at 16 kHz
    CHECK_THROWS_AS(make_front_end(bad), mtag::Error);
}
