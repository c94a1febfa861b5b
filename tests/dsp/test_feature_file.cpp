// Tests dsp/feature_file: a file's feature streamed to .npy through a scratch file is byte for byte what
// compute_file + save_npy write, for every kind and log compression (ref=max and top_db are global).
#include "dsp/feature_file.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/npy.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <random>

using namespace mtag::dsp;
namespace fs = std::filesystem;

namespace {

std::string bytes_of(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("feature file: streamed .npy equals compute_file + save_npy byte for byte") {
    const fs::path dir = fs::path(MTAG_TEST_TMP) / "feature_file";
    fs::remove_all(dir);
    fs::create_directories(dir);
    // 40 s at 22.05 kHz stereo: several of the extractor's 2048-frame chunks at hop 256 (16 kHz).
    Audio audio;
    audio.sample_rate = 22050;
    audio.channels = 2;
    std::mt19937_64 rng(4);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    for (int i = 0; i < 22050 * 40; ++i) {
        const double t = static_cast<double>(i) / 22050;
        // Louder towards the end, so the global maximum (ref=max, top_db) lies in the last chunk.
        const float v = static_cast<float>((0.1 + 0.02 * t) * std::sin(2 * std::numbers::pi * 440.0 * t)) + noise(rng);
        audio.samples.push_back(v);
        audio.samples.push_back(-v);
    }
    save_audio(dir / "in.wav", audio, SampleFormat::float32);

    std::vector<std::pair<std::string, FeatureConfig>> configs;
    FeatureConfig logmel = FeatureConfig::defaults_for(FeatureKind::logmel);  // db, ref 1, top_db 80
    configs.emplace_back("logmel", logmel);
    FeatureConfig ref_max = logmel;
    ref_max.ref = DbRef::max();
    configs.emplace_back("logmel ref=max", ref_max);
    FeatureConfig no_top = logmel;
    no_top.top_db = -1;
    configs.emplace_back("logmel no top_db", no_top);
    FeatureConfig magnitude = logmel;
    magnitude.power = 1.0;
    magnitude.ref = DbRef::max();
    configs.emplace_back("amplitude_to_db ref=max", magnitude);
    FeatureConfig log1p = logmel;
    log1p.log = LogCompression::log1p;
    configs.emplace_back("log1p", log1p);
    FeatureConfig mfcc = FeatureConfig::defaults_for(FeatureKind::mfcc);
    configs.emplace_back("mfcc", mfcc);
    FeatureConfig stft = FeatureConfig::defaults_for(FeatureKind::stft);
    configs.emplace_back("stft", stft);
    FeatureConfig cqt = FeatureConfig::defaults_for(FeatureKind::cqt);
    configs.emplace_back("cqt", cqt);

    for (const auto& [name, config] : configs) {
        INFO(name);
        FeatureExtractor extractor(config);
        FloatMatrix whole;
        extractor.compute_file(dir / "in.wav", whole);
        save_npy(dir / "whole.npy", whole);
        const auto shape = write_feature_npy(extractor, dir / "in.wav", dir / "streamed.npy");
        CHECK(shape[0] == whole.rows);
        CHECK(shape[1] == whole.cols);
        CHECK(bytes_of(dir / "streamed.npy") == bytes_of(dir / "whole.npy"));
    }
    // Only the two outputs and the input remain: the scratch and temporary files are gone.
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 3);

    // A missing input names the file and leaves nothing behind.
    FeatureExtractor extractor(logmel);
    CHECK_THROWS_WITH(write_feature_npy(extractor, dir / "missing.wav", dir / "missing.npy"),
                      Catch::Contains("missing.wav"));
    CHECK_FALSE(fs::exists(dir / "missing.npy"));
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 3);
}
