#include "support/shared_fixture.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/stft.hpp"
#include "support/signals.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <cctype>

using namespace mtag::dsp;
namespace fs = std::filesystem;

namespace {

const fs::path kLibrosa = fs::path(MTAG_SHARED_DIR) / "fixtures" / "librosa";

// Reads a little-endian float32, C-order .npy file; returns its shape and values.
std::vector<float> read_npy_f4(const fs::path& path, std::vector<std::size_t>& shape) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    char magic[6];
    in.read(magic, 6);
    REQUIRE(std::memcmp(magic, "\x93NUMPY", 6) == 0);
    unsigned char version[2];
    in.read(reinterpret_cast<char*>(version), 2);
    std::size_t header_len = 0;
    if (version[0] == 1) {
        unsigned char b[2];
        in.read(reinterpret_cast<char*>(b), 2);
        header_len = b[0] | (b[1] << 8);
    } else {
        unsigned char b[4];
        in.read(reinterpret_cast<char*>(b), 4);
        header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::size_t>(b[3]) << 24);
    }
    std::string header(header_len, ' ');
    in.read(header.data(), static_cast<std::streamsize>(header_len));
    REQUIRE(header.find("'descr': '<f4'") != std::string::npos);
    REQUIRE(header.find("'fortran_order': False") != std::string::npos);
    const std::size_t open = header.find("'shape': (");
    REQUIRE(open != std::string::npos);
    shape.clear();
    std::size_t count = 1;
    for (std::size_t i = open + 10; i < header.size() && header[i] != ')';) {
        if (std::isdigit(static_cast<unsigned char>(header[i]))) {
            std::size_t used = 0;
            shape.push_back(std::stoul(header.substr(i), &used));
            count *= shape.back();
            i += used;
        } else {
            ++i;
        }
    }
    std::vector<float> values(count);
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(count * sizeof(float)));
    REQUIRE(in.gcount() == static_cast<std::streamsize>(count * sizeof(float)));
    return values;
}

using mtag::test::gaussian_noise;

}  // namespace

TEST_CASE("stft: matches librosa's STFT fixtures (center=False)", "[stft][fixture]") {
    const fs::path cases = kLibrosa / "stft_cases.json";
    if (!mtag::test::require_fixture(cases, "the shared librosa fixtures")) return;
    LoadOptions load;
    load.mono = false;
    const Audio audio = load_audio(kLibrosa / "test1_22050.wav", load);
    REQUIRE(audio.channels == 2);
    std::vector<float> y(audio.frames());
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = (audio.samples[2 * i] + audio.samples[2 * i + 1]) / 2.0f;

    const auto list = nlohmann::json::parse(std::ifstream(cases));
    REQUIRE(list.size() >= 4);
    for (const auto& c : list) {
        INFO("case " << c["file"].get<std::string>());
        StftOptions o;
        o.n_fft = c["n_fft"];
        o.hop_length = c["hop_length"];
        o.win_length = c["win_length"];
        o.window = c["window"].get<std::string>().rfind("ones", 0) == 0 ? WindowKind::rectangular : WindowKind::hann;
        o.center = c["center"];
        std::vector<std::size_t> shape;
        const auto ref = read_npy_f4(kLibrosa / c["file"].get<std::string>(), shape);
        REQUIRE(shape.size() == 3);
        ComplexMatrix out;
        Stft(o).compute(y, out);
        REQUIRE(out.rows == shape[0]);
        REQUIRE(out.cols == shape[1]);
        double peak = 0.0, worst = 0.0;
        for (std::size_t i = 0; i < out.size(); ++i) {
            const std::complex<double> r(ref[2 * i], ref[2 * i + 1]);
            peak = std::max(peak, std::abs(r));
            worst = std::max(worst, std::abs(std::complex<double>(out.data[i]) - r));
        }
        INFO("max error " << worst << " of peak " << peak);
        CHECK(worst <= 1e-6 * peak);  // float32 rounding of the largest magnitude (measured ~1.5e-7)
    }
}

TEST_CASE("stft: a sine at a bin centre peaks in that bin", "[stft]") {
    const int n_fft = 512, bin = 37;
    std::vector<float> x(8000);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = static_cast<float>(std::sin(2.0 * std::numbers::pi * bin * static_cast<double>(i) / n_fft));
    FloatMatrix mag;
    Stft({.n_fft = n_fft, .hop_length = 128}).magnitude(x, mag);
    REQUIRE(mag.rows == 257);
    // Frames fully inside the signal: the peak is at `bin`, with |X| = sum(hann)/2 = n_fft/4.
    for (std::size_t t = 4; t + 4 < mag.cols; ++t) {
        std::size_t best = 0;
        for (std::size_t k = 0; k < mag.rows; ++k)
            if (mag(k, t) > mag(best, t)) best = k;
        CHECK(best == bin);
        CHECK(mag(bin, t) == Approx(n_fft / 4.0).epsilon(1e-4));
    }
}

TEST_CASE("stft: Parseval's theorem per frame (rectangular window)", "[stft]") {
    const int n = 256;
    const auto x = gaussian_noise(4 * n, 7);
    ComplexMatrix X;
    Stft({.n_fft = n, .hop_length = n, .window = WindowKind::rectangular, .center = false}).compute(x, X);
    REQUIRE(X.cols == 4);
    for (std::size_t t = 0; t < 4; ++t) {
        double time_energy = 0.0, freq_energy = 0.0;
        for (int i = 0; i < n; ++i) time_energy += double(x[t * n + i]) * x[t * n + i];
        for (std::size_t k = 0; k < X.rows; ++k) {
            const double e = std::norm(std::complex<double>(X(k, t)));
            freq_energy += (k == 0 || k == X.rows - 1) ? e : 2.0 * e;  // one-sided spectrum
        }
        CHECK(freq_energy / n == Approx(time_energy).epsilon(1e-5));
    }
}

TEST_CASE("stft: frame counts and option defaults", "[stft]") {
    Stft centred({.n_fft = 512, .hop_length = 128});
    CHECK(centred.frame_count(1000) == 1 + 1000 / 128);
    CHECK(centred.frame_count(0) == 1);
    Stft plain({.n_fft = 512, .hop_length = 128, .center = false});
    CHECK(plain.frame_count(1000) == 1 + (1000 - 512) / 128);
    CHECK(plain.frame_count(511) == 0);
    CHECK_THROWS_AS(plain.compute(std::vector<float>(511), *std::make_unique<ComplexMatrix>()), mtag::Error);

    Stft defaults(StftOptions{});
    CHECK(defaults.n_fft() == 2048);
    CHECK(defaults.options().win_length == 2048);
    CHECK(defaults.hop_length() == 512);
    CHECK(Stft({.n_fft = 1024, .win_length = 400}).hop_length() == 100);  // win_length / 4
    CHECK_THROWS_AS(Stft({.n_fft = 512, .win_length = 1024}), mtag::Error);
    CHECK_THROWS_AS(Stft({.n_fft = 0}), mtag::Error);
    CHECK(parse_pad_mode("reflect") == PadMode::reflect);
    CHECK_THROWS_AS(parse_pad_mode("edge"), mtag::Error);

    ComplexMatrix X;
    centred.compute(gaussian_noise(1000, 1), X);
    CHECK(X.rows == 257);
    CHECK(X.cols == 8);
}

TEST_CASE("stft: a short window is zero-padded and centred in the frame", "[stft]") {
    Stft s({.n_fft = 16, .win_length = 8});
    const auto w = s.window();
    REQUIRE(w.size() == 16);
    for (int i = 0; i < 4; ++i) CHECK(w[i] == 0.0f);
    for (int i = 12; i < 16; ++i) CHECK(w[i] == 0.0f);
    CHECK(w[8] == 1.0f);  // peak of the 8-sample periodic Hann at offset 4 + 4
}

TEST_CASE("stft: reflect padding equals the STFT of the numpy-reflect-padded signal", "[stft]") {
    const int n_fft = 64, hop = 16;
    const auto x = gaussian_noise(300, 3);
    std::vector<float> padded;
    for (int k = n_fft / 2; k >= 1; --k) padded.push_back(x[k]);
    padded.insert(padded.end(), x.begin(), x.end());
    for (int k = 1; k <= n_fft / 2; ++k) padded.push_back(x[x.size() - 1 - k]);
    ComplexMatrix a, b;
    Stft({.n_fft = n_fft, .hop_length = hop, .pad_mode = PadMode::reflect}).compute(x, a);
    Stft({.n_fft = n_fft, .hop_length = hop, .center = false}).compute(padded, b);
    REQUIRE(a.cols == b.cols);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(std::abs(a.data[i] - b.data[i]) < 1e-5f);
}

TEST_CASE("stft: frame ranges from covering blocks equal the whole-signal STFT", "[stft]") {
    const auto x = gaussian_noise(5000, 11);
    for (PadMode mode : {PadMode::constant, PadMode::reflect}) {
        for (bool center : {true, false}) {
            Stft s({.n_fft = 256, .hop_length = 100, .center = center, .pad_mode = mode});
            ComplexMatrix whole;
            s.compute(x, whole);
            const std::int64_t len = static_cast<std::int64_t>(x.size());
            const std::int64_t frames = s.frame_count(len);
            for (std::int64_t f0 = 0; f0 < frames; f0 += 13) {
                const std::int64_t n = std::min<std::int64_t>(13, frames - f0);
                const SampleRange r = s.samples_for_frames(f0, n, len);
                // Copy only the covering samples, so reading outside them would be caught by the check.
                const std::vector<float> piece(x.begin() + r.begin, x.begin() + r.end);
                ComplexMatrix part;
                s.compute_frames({piece, r.begin, len}, f0, n, part);
                REQUIRE(part.cols == static_cast<std::size_t>(n));
                for (std::size_t k = 0; k < part.rows; ++k)
                    for (std::int64_t j = 0; j < n; ++j)
                        REQUIRE(part(k, j) == whole(k, static_cast<std::size_t>(f0 + j)));
                FloatMatrix mag;
                s.spectrogram_frames({piece, r.begin, len}, f0, n, 1.0f, mag);
                REQUIRE(mag.cols == static_cast<std::size_t>(n));
                for (std::size_t k = 0; k < mag.rows; ++k)
                    for (std::int64_t j = 0; j < n; ++j) REQUIRE(mag(k, j) == std::abs(part(k, j)));
            }
            // A block that does not cover the frames is refused.
            const std::vector<float> tiny(x.begin() + 1000, x.begin() + 1100);
            ComplexMatrix part;
            CHECK_THROWS_AS(s.compute_frames({tiny, 1000, len}, 20, 5, part), mtag::Error);
        }
    }
}

TEST_CASE("stft: magnitude and power agree with the complex STFT", "[stft]") {
    const auto x = gaussian_noise(3000, 5);
    Stft s({.n_fft = 128, .hop_length = 32, .window = WindowKind::hamming});
    ComplexMatrix X;
    FloatMatrix mag, pow;
    s.compute(x, X);
    s.magnitude(x, mag);
    s.power(x, pow);
    REQUIRE(mag.size() == X.size());
    for (std::size_t i = 0; i < X.size(); ++i) {
        CHECK(mag.data[i] == Approx(std::abs(X.data[i])).margin(1e-6));
        CHECK(pow.data[i] == Approx(std::norm(X.data[i])).margin(1e-6));
    }
}

TEST_CASE("stft: istft(stft(x)) reconstructs x for Hann with hop <= n_fft/4", "[stft][istft]") {
    const auto x = gaussian_noise(6007, 21);
    struct Case { int n_fft, hop, win; };
    for (const Case c : {Case{512, 128, 0}, Case{512, 64, 0}, Case{1024, 256, 0}, Case{1024, 100, 400}}) {
        for (PadMode mode : {PadMode::constant, PadMode::reflect}) {
            INFO("n_fft " << c.n_fft << " hop " << c.hop << " win " << c.win << " " << pad_mode_name(mode));
            Stft s({.n_fft = c.n_fft, .hop_length = c.hop, .win_length = c.win, .pad_mode = mode});
            ComplexMatrix X;
            s.compute(x, X);
            std::vector<float> y;
            s.inverse(X, static_cast<std::int64_t>(x.size()), y);
            REQUIRE(y.size() == x.size());
            float worst = 0.0f;
            for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(y[i] - x[i]));
            CHECK(worst < 1e-5f);
        }
    }
}

TEST_CASE("stft: istft honours an exact output length", "[stft][istft]") {
    const auto x = gaussian_noise(2000, 8);
    Stft s({.n_fft = 256, .hop_length = 64});
    ComplexMatrix X;
    s.compute(x, X);
    std::vector<float> y;
    s.inverse(X, 1500, y);  // truncated: the first 1500 samples
    REQUIRE(y.size() == 1500);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(std::abs(y[i] - x[i]) < 1e-5f);
    s.inverse(X, 2500, y);  // longer than the frames reach: zero-filled
    REQUIRE(y.size() == 2500);
    CHECK(y[2499] == 0.0f);
    s.inverse(X, -1, y);  // natural length: frames * hop
    CHECK(y.size() == static_cast<std::size_t>(64 * (X.cols - 1)));
    ComplexMatrix wrong(100, 3);
    CHECK_THROWS_AS(s.inverse(wrong, -1, y), mtag::Error);
}

#include "torchaudio_fixture.hpp"

TEST_CASE("stft: centred reflect-padded power spectrogram equals torchaudio's", "[stft][fixture]") {
    const auto x = mtag::test::torchaudio_signal();
    const auto c = mtag::test::torchaudio_cases().at(0);  // the case that stores its power spectrogram
    const FloatMatrix ref = mtag::test::json_matrix((*c.json)["power_spectrogram"]);
    FloatMatrix pow;
    Stft(c.stft).power(x, pow);
    REQUIRE(pow.rows == ref.rows);
    REQUIRE(pow.cols == ref.cols);
    const double err = mtag::test::relative_to_peak(pow, ref);
    INFO(c.name << ": max error relative to the peak " << err);
    CHECK(err < 2e-6);  // measured 2e-7
}
