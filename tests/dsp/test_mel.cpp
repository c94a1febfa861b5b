#include "support/shared_fixture.hpp"
#include "dsp/error.hpp"
#include "dsp/mel.hpp"
#include "support/signals.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace mtag::dsp;
namespace fs = std::filesystem;

namespace {

const fs::path kLibrosa = fs::path(MTAG_SHARED_DIR) / "fixtures" / "librosa";

// numpy.allclose's element test with librosa's tolerances.
bool allclose(double a, double b, double rtol = 1e-5, double atol = 1e-8) {
    return std::abs(a - b) <= atol + rtol * std::abs(b);
}

using mtag::test::gaussian_noise;

}  // namespace

TEST_CASE("mel: every librosa mel filterbank fixture", "[mel][fixture]") {
    const fs::path file = kLibrosa / "mel_filterbanks.json";
    if (!mtag::test::require_fixture(file, "the shared librosa fixtures")) return;
    const auto cases = nlohmann::json::parse(std::ifstream(file));
    REQUIRE(cases.size() == 145);
    for (const auto& c : cases) {
        MelOptions o;
        o.sample_rate = c["sr"];
        o.n_fft = c["n_fft"];
        o.n_mels = c["n_mels"];
        o.fmin = c["fmin"];
        o.fmax = c["fmax"].is_null() ? 0.0 : c["fmax"].get<double>();  // null => sr / 2
        o.htk = c["htk"];
        o.norm = c["norm"].is_null() ? MelNorm::none : parse_mel_norm(c["norm"].get<std::string>());
        INFO(c["source"].get<std::string>() << ": sr " << o.sample_rate << " n_fft " << o.n_fft << " n_mels "
                                            << o.n_mels << " fmin " << o.fmin << " fmax " << o.fmax << " htk "
                                            << o.htk << " norm " << mel_norm_name(o.norm));
        const FloatMatrix w = mel_filterbank(o);
        const auto& ref = c["weights"];
        REQUIRE(w.rows == ref.size());
        REQUIRE(w.cols == ref[0].size());
        int bad = 0;
        for (std::size_t m = 0; m < w.rows; ++m)
            for (std::size_t k = 0; k < w.cols; ++k)
                if (!allclose(w(m, k), ref[m][k].get<double>())) ++bad;
        CHECK(bad == 0);
    }
}

TEST_CASE("mel: hz_to_mel and mel_to_hz match librosa's fixtures", "[mel][fixture]") {
    const fs::path file = kLibrosa / "mel_scale.json";
    if (!mtag::test::require_fixture(file, "the shared librosa fixtures")) return;
    const auto cases = nlohmann::json::parse(std::ifstream(file));
    REQUIRE(cases.size() >= 8);
    for (const auto& c : cases) {
        const bool htk = c["htk"];
        const bool to_mel = c["function"] == "hz_to_mel";
        INFO(c["source"].get<std::string>());
        for (std::size_t i = 0; i < c["input"].size(); ++i) {
            const double in = c["input"][i];
            const double got = to_mel ? hz_to_mel(in, htk) : mel_to_hz(in, htk);
            INFO("input " << in << " got " << got << " expected " << c["result"][i].get<double>());
            CHECK(allclose(got, c["result"][i].get<double>()));
        }
    }
}

TEST_CASE("mel: scale formulas and round trips", "[mel]") {
    CHECK(hz_to_mel(1000.0) == Approx(15.0));
    CHECK(hz_to_mel(6400.0) == Approx(42.0));  // 15 + 27 * ln(6.4) / ln(6.4)
    CHECK(hz_to_mel(700.0, true) == Approx(2595.0 * std::log10(2.0)));
    for (double f : {0.0, 50.0, 999.0, 1000.0, 1234.5, 8000.0, 20000.0}) {
        CHECK(mel_to_hz(hz_to_mel(f)) == Approx(f).margin(1e-9));
        CHECK(mel_to_hz(hz_to_mel(f, true), true) == Approx(f).margin(1e-9));
    }
    const auto f = mel_frequencies(10, 20.0, 8000.0);
    REQUIRE(f.size() == 10);
    CHECK(f.front() == Approx(20.0));
    CHECK(f.back() == Approx(8000.0));
}

TEST_CASE("mel: sparse bands equal the dense filterbank and its product", "[mel]") {
    MelFilterbank fb({.sample_rate = 16000, .n_fft = 512, .n_mels = 96});
    const FloatMatrix dense = fb.dense();
    REQUIRE(dense.rows == 96);
    REQUIRE(dense.cols == 257);
    std::size_t nonzero = 0;
    for (int m = 0; m < 96; ++m) nonzero += fb.band_weights(m).size();
    CHECK(nonzero < 3 * 257);  // about two weights per bin, not n_mels per bin
    // Slaney norm: each triangle's area in Hz is ~1 (2 / width * width / 2), checked on a fine grid.
    FloatMatrix S(257, 3);
    const auto x = gaussian_noise(S.size(), 2);
    for (std::size_t i = 0; i < S.size(); ++i) S.data[i] = x[i] * x[i];
    FloatMatrix sparse;
    fb.apply(S, sparse);
    std::vector<float> column(257), one(96);
    for (std::size_t t = 0; t < 3; ++t) {
        for (std::size_t k = 0; k < 257; ++k) column[k] = S(k, t);
        fb.apply(column.data(), one.data());
        for (std::size_t m = 0; m < 96; ++m) {
            double ref = 0.0;
            for (std::size_t k = 0; k < 257; ++k) ref += double(dense(m, k)) * S(k, t);
            CHECK(sparse(m, t) == Approx(ref).epsilon(1e-5));
            CHECK(one[m] == Approx(ref).epsilon(1e-5));
        }
    }
}

TEST_CASE("mel: the used bin range bounds every nonzero weight", "[mel]") {
    MelFilterbank fb({.sample_rate = 22050, .n_fft = 1024, .n_mels = 64, .fmin = 300, .fmax = 6000});
    const FloatMatrix w = fb.dense();
    CHECK(fb.used_begin() > 0);
    CHECK(fb.used_end() < fb.bins());
    for (std::size_t m = 0; m < w.rows; ++m)
        for (std::size_t k = 0; k < w.cols; ++k)
            if (w(m, k) != 0.0f) {
                CHECK(static_cast<int>(k) >= fb.used_begin());
                CHECK(static_cast<int>(k) < fb.used_end());
            }
    CHECK(fb.dense()(0, static_cast<std::size_t>(fb.used_begin())) > 0.0f);
}

TEST_CASE("mel: empty bands are counted and their output is zero", "[mel]") {
    // 128 bands over 65 bins: many bands fall between bins (librosa warns "Empty filters detected").
    MelFilterbank fb({.sample_rate = 22050, .n_fft = 128, .n_mels = 128});
    CHECK(fb.empty_bands() > 0);
    std::vector<float> spectrum(65, 1.0f), mel(128, -1.0f);
    fb.apply(spectrum.data(), mel.data());
    int zeros = 0;
    for (float v : mel) zeros += v == 0.0f;
    CHECK(zeros == fb.empty_bands());
    CHECK(MelFilterbank({.sample_rate = 22050, .n_fft = 2048, .n_mels = 128}).empty_bands() == 0);
}

TEST_CASE("mel: options are validated", "[mel]") {
    CHECK_THROWS_AS(MelFilterbank({.sample_rate = 16000, .n_fft = 512, .fmax = 9000}), mtag::Error);
    CHECK_THROWS_AS(MelFilterbank({.sample_rate = 16000, .n_fft = 512, .fmin = 5000, .fmax = 4000}), mtag::Error);
    CHECK_THROWS_AS(MelFilterbank({.sample_rate = 16000, .n_fft = 0}), mtag::Error);
    CHECK_THROWS_AS(MelFilterbank({.sample_rate = 0, .n_fft = 512}), mtag::Error);
    CHECK(MelFilterbank({.sample_rate = 16000, .n_fft = 512}).options().fmax == 8000.0);
    CHECK_THROWS_AS(MelSpectrogram({.n_fft = 512}, {.n_fft = 1024}), mtag::Error);
    CHECK(parse_mel_norm("none") == MelNorm::none);
    CHECK_THROWS_AS(parse_mel_norm("l2"), mtag::Error);
}

TEST_CASE("mel: MelSpectrogram equals the filterbank applied to the power STFT", "[mel]") {
    const auto x = gaussian_noise(16000, 9);
    for (float power : {2.0f, 1.0f}) {
        for (PadMode mode : {PadMode::constant, PadMode::reflect}) {
            const StftOptions so{.n_fft = 512, .hop_length = 256, .pad_mode = mode};
            const MelOptions mo{.sample_rate = 16000, .n_mels = 96, .htk = true, .norm = MelNorm::none};
            MelSpectrogram ms(so, mo, power);
            FloatMatrix mel;
            ms.compute(x, mel);
            REQUIRE(mel.rows == 96);
            REQUIRE(mel.cols == static_cast<std::size_t>(1 + 16000 / 256));
            FloatMatrix S, ref;
            Stft stft(so);
            if (power == 2.0f) stft.power(x, S); else stft.magnitude(x, S);
            ms.filterbank().apply(S, ref);
            for (std::size_t i = 0; i < mel.size(); ++i) REQUIRE(mel.data[i] == Approx(ref.data[i]).epsilon(1e-5).margin(1e-6));

            // Streaming in blocks of frames gives the same columns.
            const std::int64_t len = static_cast<std::int64_t>(x.size());
            for (std::int64_t f0 = 0; f0 < static_cast<std::int64_t>(mel.cols); f0 += 20) {
                const std::int64_t n = std::min<std::int64_t>(20, mel.cols - f0);
                const SampleRange r = ms.stft().samples_for_frames(f0, n, len);
                const std::vector<float> piece(x.begin() + r.begin, x.begin() + r.end);
                FloatMatrix part;
                ms.compute_frames({piece, r.begin, len}, f0, n, part);
                for (std::size_t m = 0; m < 96; ++m)
                    for (std::int64_t j = 0; j < n; ++j) REQUIRE(part(m, j) == mel(m, f0 + j));
            }
        }
    }
}

TEST_CASE("mel: a tone lands in the band whose centre is nearest", "[mel]") {
    const double sr = 22050, f = 1500.0;
    std::vector<float> x(22050);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(2 * M_PI * f * i / sr));
    MelSpectrogram ms({.n_fft = 2048, .hop_length = 512}, {.sample_rate = sr, .n_mels = 128});
    FloatMatrix mel;
    ms.compute(x, mel);
    const auto centres = mel_frequencies(130, 0.0, sr / 2);
    std::size_t expected = 0;
    for (std::size_t m = 0; m < 128; ++m)
        if (std::abs(centres[m + 1] - f) < std::abs(centres[expected + 1] - f)) expected = m;
    std::size_t best = 0;
    for (std::size_t m = 0; m < 128; ++m)
        if (mel(m, 20) > mel(best, 20)) best = m;
    CHECK(best == expected);
}

#include "dsp/log_compression.hpp"
#include "torchaudio_fixture.hpp"

TEST_CASE("mel: MelSpectrogram and dB equal torchaudio's MelSpectrogram + AmplitudeToDB", "[mel][fixture]") {
    const auto x = mtag::test::torchaudio_signal();
    for (const auto& c : mtag::test::torchaudio_cases()) {
        INFO(c.name);
        const FloatMatrix ref = mtag::test::json_matrix((*c.json)["mel"]);
        const FloatMatrix ref_db = mtag::test::json_matrix((*c.json)["mel_db"]);
        FloatMatrix mel;
        MelSpectrogram(c.stft, c.mel, c.power).compute(x, mel);
        REQUIRE(mel.rows == ref.rows);
        REQUIRE(mel.cols == ref.cols);
        const double err = mtag::test::relative_to_peak(mel, ref);
        INFO("mel: max error relative to the peak " << err);
        CHECK(err < 5e-6);  // measured <= 8.6e-7
        // torchaudio's AmplitudeToDB uses amin 1e-10 for both power and magnitude input.
        if (c.power == 2.0f) power_to_db(mel, 1.0f, 1e-10f, 80.0f);
        else amplitude_to_db(mel, 1.0f, 1e-10f, 80.0f);
        const double db_err = mtag::test::max_abs_diff(mel, ref_db);
        INFO("dB: max abs error " << db_err);
        CHECK(db_err < 5e-4);  // measured <= 7.3e-5 dB
    }
}
