// Tests dsp/feature_config: JSON round trips, hash stability and sensitivity, validation messages.
#include "dsp/error.hpp"
#include "dsp/feature_config.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace mtag::dsp;
using nlohmann::json;

namespace {

std::string error_of(const json& j) {
    try {
        FeatureConfig::from_json(j);
    } catch (const mtag::Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("feature config defaults are the documented log-mel") {
    const FeatureConfig c = FeatureConfig{}.resolved();
    CHECK(c.kind == FeatureKind::logmel);
    CHECK(c.sample_rate == 16000);
    CHECK(c.n_fft == 512);
    CHECK(c.hop_length == 256);
    CHECK(c.win_length == 512);
    CHECK(c.n_mels == 96);
    CHECK(c.fmin == 0.0);
    CHECK(c.fmax == 8000.0);
    CHECK(c.log == LogCompression::db);
    CHECK(c.amin == 1e-10);
    CHECK(c.top_db == 80.0);
    CHECK(c.bins() == 96);
    CHECK(c.frames_for(16000 * 30) == 1 + 16000 * 30 / 256);

    const FeatureConfig cqt = FeatureConfig::defaults_for(FeatureKind::cqt).resolved();
    CHECK(cqt.fmin == Approx(32.70319566257483));
    CHECK(cqt.hop_length == 512);
    CHECK(cqt.sample_rate == 22050);
    CHECK(cqt.log == LogCompression::none);
    CHECK(cqt.amin == 1e-5);  // magnitude
    CHECK(cqt.bins() == 84);

    FeatureConfig uncentred;
    uncentred.center = false;
    CHECK(uncentred.frames_for(511) == 0);
    CHECK(uncentred.frames_for(512 + 256 * 3) == 4);
}

TEST_CASE("feature config JSON round trip for every kind") {
    for (FeatureKind kind :
         {FeatureKind::stft, FeatureKind::mel, FeatureKind::logmel, FeatureKind::cqt, FeatureKind::mfcc}) {
        FeatureConfig c = FeatureConfig::defaults_for(kind);
        c.sample_rate = 22050;
        c.hop_length = 512;
        c.n_fft = 2048;
        c.ref = DbRef::max();
        c.top_db = -1.0;
        const json j = c.to_json();
        const FeatureConfig back = FeatureConfig::from_json(j);
        CHECK(back == c);
        CHECK(back.hash() == c.hash());
        CHECK(j.at("top_db").is_null());
        CHECK(j.at("ref") == "max");
        // Through a file too.
        const std::string path = std::string(MTAG_TEST_TMP) + "/feature_config_" + to_string(kind) + ".json";
        std::filesystem::create_directories(MTAG_TEST_TMP);
        c.save(path);
        CHECK(FeatureConfig::load(path) == c);
    }
    // A partial config takes the kind's defaults.
    const FeatureConfig partial = FeatureConfig::from_json(json{{"kind", "cqt"}, {"n_bins", 72}});
    CHECK(partial.hop_length == 512);
    CHECK(partial.n_bins == 72);
    CHECK(partial.log == LogCompression::none);
}

TEST_CASE("feature config hash is stable and follows only relevant fields") {
    const FeatureConfig a;
    // The pinned value guards against accidental changes of key names, defaults or the canonical form:
    // changing it invalidates every user's feature cache, so it must be deliberate (bump config_version).
    CHECK(a.hash() == FeatureConfig::from_json(json::object()).hash());
    CHECK(a.hash().size() == 16);
    CHECK(
        a.canonical_json().dump() ==
        R"({"amin":1e-10,"center":true,"config_version":1,"fmax":8000.0,"fmin":0.0,"hop_length":256,"htk":false,)"
        R"("kind":"logmel","log":"db","mel_norm":"slaney","n_fft":512,"n_mels":96,"pad_mode":"constant",)"
        R"("power":2.0,"ref":1.0,"sample_rate":16000,"top_db":80.0,"win_length":512,"window":"hann"})");

    FeatureConfig b = a;
    b.n_mels = 128;
    CHECK(b.hash() != a.hash());
    b = a;
    b.top_db = -1;
    CHECK(b.hash() != a.hash());
    b = a;
    b.pad_mode = "reflect";
    CHECK(b.hash() != a.hash());
    // Explicit values equal to the auto ones hash the same.
    b = a;
    b.win_length = 512;
    b.fmax = 8000;
    CHECK(b.hash() == a.hash());
    // Fields a kind does not use do not change its hash.
    FeatureConfig cqt = FeatureConfig::defaults_for(FeatureKind::cqt);
    FeatureConfig cqt2 = cqt;
    cqt2.n_mels = 40;
    cqt2.n_fft = 4096;
    CHECK(cqt2.hash() == cqt.hash());
    cqt2.bins_per_octave = 24;
    cqt2.n_bins = 168;
    CHECK(cqt2.hash() != cqt.hash());
}

TEST_CASE("feature config rejects unknown keys, wrong types and bad values with clear messages") {
    CHECK_THAT(error_of(json{{"n_mel", 96}}),
               Catch::Contains("unknown key 'n_mel'") && Catch::Contains("n_mels"));
    CHECK_THAT(error_of(json{{"n_fft", "512"}}), Catch::Contains("'n_fft' must be an integer"));
    CHECK_THAT(error_of(json{{"n_fft", 512.5}}), Catch::Contains("'n_fft' must be an integer"));
    // Found by fuzz_feature_config: 6e125 reached a float-to-int conversion (undefined behaviour).
    CHECK_THAT(error_of(json{{"n_fft", 6e125}}), Catch::Contains("'n_fft' is out of range"));
    CHECK_THAT(error_of(json{{"n_fft", 3000000000LL}}), Catch::Contains("'n_fft' is out of range"));
    CHECK_THAT(error_of(json{{"n_fft", 10000000000000000000ULL}}), Catch::Contains("'n_fft' is out of range"));
    CHECK_THAT(error_of(json{{"n_fft", -3000000000LL}}), Catch::Contains("'n_fft' is out of range"));
    CHECK_THAT(error_of(json{{"center", 1}}), Catch::Contains("'center' must be true or false"));
    CHECK_THAT(error_of(json{{"kind", "chroma"}}), Catch::Contains("'chroma' is unknown"));
    CHECK_THAT(error_of(json{{"fmax", 9000}}), Catch::Contains("exceeds Nyquist 8000"));
    CHECK_THAT(error_of(json{{"fmin", 9000}, {"fmax", 8000}}), Catch::Contains("'fmin'"));
    CHECK_THAT(error_of(json{{"win_length", 1024}}), Catch::Contains("'win_length'"));
    CHECK_THAT(error_of(json{{"window", "kaiser"}}), Catch::Contains("'kaiser' is unknown"));
    CHECK_THAT(error_of(json{{"pad_mode", "edge"}}), Catch::Contains("'pad_mode'"));
    CHECK_THAT(error_of(json{{"log", "ln"}}), Catch::Contains("'ln' is unknown"));
    CHECK_THAT(error_of(json{{"log", "none"}}), Catch::Contains("use kind mel"));
    CHECK_THAT(error_of(json{{"kind", "mfcc"}, {"n_mfcc", 200}}), Catch::Contains("'n_mfcc'"));
    CHECK_THAT(error_of(json{{"kind", "cqt"}, {"sample_rate", 4000}}), Catch::Contains("Nyquist"));
    CHECK_THAT(error_of(json{{"ref", "min"}}), Catch::Contains("'ref'"));
    CHECK_THAT(error_of(json{{"config_version", 99}}), Catch::Contains("config_version"));
    CHECK_THAT(error_of(json::array()), Catch::Contains("must be a JSON object"));

    const std::string path = std::string(MTAG_TEST_TMP) + "/broken_config.json";
    std::filesystem::create_directories(MTAG_TEST_TMP);
    std::ofstream(path) << "{\"kind\": \"logmel\",";
    CHECK_THROWS_WITH(FeatureConfig::load(path),
                      Catch::Contains("not valid JSON") && Catch::Contains("broken_config.json"));
}
