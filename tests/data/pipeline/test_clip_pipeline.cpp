#include "data/pipeline/clip_pipeline.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <set>

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

TEST_CASE("clip_pipeline: augmentation acts on the waveform, normalisation on the features") {
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

TEST_CASE("clip_pipeline: corrupt, truncated and missing files are skipped by the loader and reported") {
    Fixture f;
    // Clips 0 and 1 are readable; add a truncated WAV (header cut short), a file of garbage and a
    // missing file.
    const fs::path truncated = f.dir / "truncated.wav", garbage = f.dir / "garbage.wav", missing = f.dir / "missing.wav";
    write_chirp(truncated, 1.0);
    fs::resize_file(truncated, 30);
    mtag::test::write_text(garbage, std::string(4000, 'x'));
    for (const fs::path& path : {truncated, garbage, missing})
        f.dataset.clips.push_back({path.stem().string(), path, path.filename().string(), {1}, Split::train, {}});
    WaveformCache waveforms({.sample_rate = 16000});
    for (WaveformCache* cache : {static_cast<WaveformCache*>(nullptr), &waveforms}) {
        const SampleFn fn = make_clip_sample_fn(
            {.features = f.config, .chunking = {.length = 32}, .waveforms = cache}, make_front_end(f.config));
        BatchLoader loader(f.dataset, {0, 1, 2, 3, 4, 5}, fn, {.batch_size = 2, .workers = 2, .seed = 4});
        for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
            loader.start_epoch(epoch);
            std::set<std::size_t> delivered;
            while (auto batch = loader.next()) {
                CHECK(batch->inputs.size() == batch->size() * 96 * 32);
                delivered.insert(batch->clip_indices.begin(), batch->clip_indices.end());
            }
            CHECK(delivered == std::set<std::size_t>{0, 1, 2});
            const std::vector<ClipFailure> failures = loader.epoch_failures();
            REQUIRE(failures.size() == 3);  // once per clip per epoch
            std::set<fs::path> paths;
            for (const ClipFailure& failure : failures) {
                paths.insert(failure.path);
                CHECK_THAT(failure.reason, Catch::Contains(failure.path.filename().string()));
            }
            CHECK(paths == std::set<fs::path>{truncated, garbage, missing});
        }
    }
    CHECK(waveforms.misses() == 3);  // the readable clips decoded once; failures are not cached
    CHECK(waveforms.hits() == 3);
}

TEST_CASE("clip_pipeline: the waveform cache gives the same examples as decoding, and keeps its bound") {
    Fixture f;
    const mtag::dsp::AugmentPipeline augment;  // the default pipeline
    WaveformCache waveforms({.sample_rate = 16000});
    const ClipPipelineOptions plain{.features = f.config, .chunking = {.length = 48}, .augment = &augment};
    ClipPipelineOptions cached = plain;
    cached.waveforms = &waveforms;
    const SampleFn decode_fn = make_clip_sample_fn(plain, make_front_end(f.config));
    const SampleFn cache_fn = make_clip_sample_fn(cached, make_front_end(f.config));
    for (int pass = 0; pass < 2; ++pass)
        for (std::uint64_t seed : {1, 2, 3}) {
            // Clip 0 has no duration (both decode the whole clip): identical examples, cached or not.
            CHECK(run(cache_fn, f.dataset, 0, seed).input.data == run(decode_fn, f.dataset, 0, seed).input.data);
            CHECK(run(cache_fn, f.dataset, 2, seed).input.data == run(decode_fn, f.dataset, 2, seed).input.data);
        }
    CHECK(waveforms.misses() == 2);
    CHECK(waveforms.hits() == 10);
    CHECK(waveforms.bytes() == (48000 + 4800) * sizeof(float));
    // A bound below one clip: nothing is kept, every request decodes.
    WaveformCache tiny({.max_bytes = 1000, .sample_rate = 16000});
    CHECK(tiny.get(f.dataset.clips[0].audio_path)->size() == 48000);
    CHECK(tiny.get(f.dataset.clips[0].audio_path)->size() == 48000);
    CHECK(tiny.misses() == 2);
    CHECK(tiny.bytes() == 0);
    // A cache at another rate than the front end's is refused.
    WaveformCache other({.sample_rate = 22050});
    ClipPipelineOptions mismatched = plain;
    mismatched.waveforms = &other;
    CHECK_THROWS_WITH(make_clip_sample_fn(mismatched, make_front_end(f.config)), Catch::Contains("22050 Hz"));
}
