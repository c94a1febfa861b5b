// Tests data/extract/segments and the segment-sharing workers of data/extract/extract: a long file's feature
// computed segment by segment equals the whole-file stream (bit for bit without resampling, to float rounding
// with it), and `run_extract` writes the same .npy bytes with one thread or several.
#include "data/extract/extract.hpp"
#include "data/extract/segments.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/feature_extractor.hpp"
#include "dsp/npy.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>

using namespace mtag;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::path(MTAG_TEST_TMP) / "extract_segments" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// `seconds` of stereo: a slow chirp on the left, a tone with a tremolo on the right, so every frame differs.
fs::path write_long(const fs::path& path, double seconds, int rate) {
    dsp::Audio audio;
    audio.sample_rate = rate;
    audio.channels = 2;
    const auto n = static_cast<std::size_t>(seconds * rate);
    audio.samples.resize(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        audio.samples[2 * i] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * (200.0 * t + 10.0 * t * t)));
        audio.samples[2 * i + 1] =
            static_cast<float>(0.2 * (1.0 + 0.5 * std::sin(3.0 * t)) * std::sin(2 * std::numbers::pi * 1234.5 * t));
    }
    dsp::save_audio(path, audio);
    return path;
}

dsp::FloatMatrix segmented(const fs::path& path, dsp::FeatureExtractor& extractor, dsp::Mp3Decode mp3) {
    const std::optional<data::SegmentPlan> plan = data::plan_segments(path, extractor);
    REQUIRE(plan);
    REQUIRE(plan->segments() >= 2);
    std::vector<dsp::FloatMatrix> parts(plan->segments());
    // Out of order on purpose: a segment depends on nothing but the file.
    for (std::size_t k = parts.size(); k-- > 0;)
        data::compute_segment(path, *plan, k, extractor, dsp::default_resample_quality, mp3, parts[k]);
    dsp::FloatMatrix out;
    data::join_segments(parts, extractor, out);
    return out;
}

double max_abs_difference(const dsp::FloatMatrix& a, const dsp::FloatMatrix& b) {
    REQUIRE(a.rows == b.rows);
    REQUIRE(a.cols == b.cols);
    double worst = 0.0;
    for (std::size_t i = 0; i < a.data.size(); ++i)
        worst = std::max(worst, static_cast<double>(std::abs(a.data[i] - b.data[i])));
    return worst;
}

std::string bytes_of(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("segments: without resampling, the segments give the whole-file stream's feature bit for bit", "[segments]") {
    const fs::path dir = scratch("native");
    const fs::path wav = write_long(dir / "long.wav", 150.0, 16000);
    dsp::FeatureExtractor extractor(dsp::FeatureConfig{});  // log-mel at 16 kHz
    dsp::FloatMatrix whole;
    extractor.compute_file(wav, whole);
    const dsp::FloatMatrix parts = segmented(wav, extractor, dsp::Mp3Decode::full);
    REQUIRE(parts.cols == whole.cols);
    CHECK(parts.data == whole.data);
}

TEST_CASE("segments: with resampling (FLAC and MP3 at 44.1 kHz) they match the stream to float rounding", "[segments]") {
    const fs::path dir = scratch("resampled");
    const fs::path flac = write_long(dir / "long.flac", 140.0, 44100);
    const fs::path mp3 = write_long(dir / "long.mp3", 140.0, 44100);
    dsp::FeatureExtractor extractor(dsp::FeatureConfig{});
    for (const auto& [path, mode] : {std::pair{flac, dsp::Mp3Decode::full}, std::pair{mp3, dsp::Mp3Decode::full},
                                     std::pair{mp3, dsp::Mp3Decode::fast}}) {
        INFO(path.filename().string() << " " << dsp::to_string(mode));
        dsp::FloatMatrix whole;
        extractor.compute_file(path, whole, dsp::default_resample_quality, mode);
        const dsp::FloatMatrix parts = segmented(path, extractor, mode);
        const double worst = max_abs_difference(whole, parts);
        INFO("max |dB difference| " << worst);
        CHECK(worst < 0.01);
    }
    // An MP3's exact frame count comes from libmpg123's header scan, equal to what decoding yields.
    CHECK(dsp::count_mp3_frames(mp3) == static_cast<std::int64_t>(dsp::load_audio(mp3, {.mono = false}).frames()));
}

TEST_CASE("segments: run_extract writes the same .npy with one thread or three for one long file", "[segments]") {
    const fs::path dir = scratch("threads");
    write_long(dir / "music" / "long.mp3", 200.0, 44100);
    std::string first;
    for (const int jobs : {1, 3}) {
        data::ExtractOptions options;
        options.inputs = {(dir / "music").string()};
        options.out_dir = dir / ("out" + std::to_string(jobs));
        options.jobs = jobs;
        options.quiet = true;
        const data::ExtractSummary summary = data::run_extract(options);
        REQUIRE(summary.computed == 1);
        const std::string bytes = bytes_of(options.out_dir / "long.npy");
        REQUIRE(bytes.size() > 1000);
        if (first.empty()) first = bytes;
        else CHECK(bytes == first);
    }
}
