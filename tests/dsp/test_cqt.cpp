#include "dsp/cqt.hpp"

#include "dsp/error.hpp"
#include "dsp/fft.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

using mtag::dsp::Cqt;
using mtag::dsp::CqtOptions;
using mtag::dsp::CqtPadMode;
using mtag::dsp::FloatMatrix;

namespace {

double midi_to_hz(double midi) {
    return 440.0 * std::pow(2.0, (midi - 69.0) / 12.0);
}

std::vector<float> sine(double freq, double sr, double seconds, double amplitude = 1.0) {
    std::vector<float> y(static_cast<std::size_t>(seconds * sr));
    for (std::size_t i = 0; i < y.size(); ++i)
        y[i] = static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * freq * i / sr));
    return y;
}

// Median over frames of each row.
std::vector<double> row_medians(const FloatMatrix& c) {
    std::vector<double> med(c.rows);
    std::vector<float> row;
    for (std::size_t r = 0; r < c.rows; ++r) {
        auto span = c.row(r);
        row.assign(span.begin(), span.end());
        std::nth_element(row.begin(), row.begin() + row.size() / 2, row.end());
        med[r] = row[row.size() / 2];
    }
    return med;
}

std::size_t argmax(const std::vector<double>& v) {
    return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// The librosa checks (tests/test_constantq.py, test_cqt_position): the median response to a C4 tone peaks in
// the C4 bin, every other bin is below 0.6 of the peak, and every bin beyond the neighbours below 0.05.
void check_peak(const FloatMatrix& c, std::size_t expected) {
    const auto med = row_medians(c);
    const std::size_t peak = argmax(med);
    REQUIRE(peak == expected);
    double near = 0, far = 0;
    for (std::size_t r = 0; r < med.size(); ++r) {
        if (r == peak) continue;
        const double rel = med[r] / med[peak];
        near = std::max(near, rel);
        if (r + 1 < peak || r > peak + 1) far = std::max(far, rel);
    }
    CAPTURE(near, far);
    CHECK(near < 0.6);
    CHECK(far < 0.05);
}

}  // namespace

TEST_CASE("cqt: a 261.6 Hz sine peaks in the C4 bin (librosa's test_cqt_position)", "[cqt]") {
    const double sr = 22050;
    const auto y = sine(midi_to_hz(60), sr, 2.0);
    for (int hop : {256, 512}) {
        for (int note_min : {12, 18, 24, 30, 36}) {
            CAPTURE(hop, note_min);
            Cqt cqt({.sample_rate = sr, .hop_length = hop, .fmin = midi_to_hz(note_min)});
            FloatMatrix c;
            cqt.compute(y, c);
            REQUIRE(c.rows == 84);
            check_peak(c, static_cast<std::size_t>(60 - note_min));
        }
    }
}

TEST_CASE("cqt: tones at every MIDI note 24..107 land in their own bin", "[cqt]") {
    const double sr = 22050;
    Cqt cqt({.sample_rate = sr});
    FloatMatrix c;
    for (int note = 24; note <= 107; ++note) {
        CAPTURE(note);
        cqt.compute(sine(midi_to_hz(note), sr, 1.5, 0.5), c);
        REQUIRE(argmax(row_medians(c)) == static_cast<std::size_t>(note - 24));
    }
}

TEST_CASE("cqt: white noise gives a mean magnitude near 1 in every bin", "[cqt]") {
    // librosa's test_cqt_white_noise: 60 bins from C1, mean over time within 0.25 of 1, with scale=True and
    // with scale=False divided by sqrt(length). Theory says more: a Hann kernel of unit L1 norm scaled by
    // sqrt(L) has E|C|^2 = L sum(w^2) / (sum w)^2 = 1.5, so |C| (Rayleigh) has mean sqrt(1.5 pi) / 2 = 1.085;
    // bins above C3 average enough independent frames in 20 s to be held to 0.05 of that.
    const double sr = 22050;
    std::mt19937_64 rng(20240601);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> y(static_cast<std::size_t>(20 * sr));
    for (auto& v : y) v = normal(rng);
    for (bool scale : {true, false}) {
        CAPTURE(scale);
        Cqt cqt({.sample_rate = sr, .n_bins = 60, .scale = scale});
        FloatMatrix c;
        cqt.compute(y, c);
        const double expected = std::sqrt(1.5 * std::numbers::pi) / 2.0;
        for (std::size_t r = 0; r < c.rows; ++r) {
            double mean = 0;
            for (float v : c.row(r)) mean += v;
            mean /= static_cast<double>(c.cols);
            if (!scale) mean /= std::sqrt(cqt.lengths()[r]);
            CAPTURE(r, mean);
            CHECK(std::abs(mean - 1.0) < 0.25);
            if (r >= 24) CHECK(std::abs(mean - expected) < 0.05);
        }
    }
}

TEST_CASE("cqt: frame count and centring follow the STFT (frames = 1 + len / hop)", "[cqt]") {
    const double sr = 22050;
    Cqt cqt({.sample_rate = sr, .hop_length = 512});
    FloatMatrix c;
    for (std::size_t n : {1u, 511u, 512u, 513u, 22050u, 44100u}) {
        std::vector<float> y(n, 0.0f);
        cqt.compute(y, c);
        CHECK(c.cols == 1 + n / 512);
        CHECK(cqt.n_frames(n) == 1 + n / 512);
    }
    // A click at sample p shows most in the frame whose centre t * hop is nearest to p: in the top bin (a
    // kernel of 97 samples) only when it is that close, in C5 (730 samples) in both neighbouring frames.
    for (std::size_t p : {10u * 512u, 10u * 512u + 200u, 10u * 512u + 300u}) {
        std::vector<float> y(30 * 512, 0.0f);
        y[p] = 1.0f;
        cqt.compute(y, c);
        const auto c5 = c.row(48);
        const std::size_t frame =
            static_cast<std::size_t>(std::max_element(c5.begin(), c5.end()) - c5.begin());
        CHECK(frame == (p + 256) / 512);
        CHECK(c5[frame] > 0.0f);
    }
    for (std::size_t p : {10u * 512u - 40u, 10u * 512u, 10u * 512u + 40u}) {
        std::vector<float> y(30 * 512, 0.0f);
        y[p] = 1.0f;
        cqt.compute(y, c);
        const auto top = c.row(83);
        const std::size_t frame =
            static_cast<std::size_t>(std::max_element(top.begin(), top.end()) - top.begin());
        CHECK(frame == 10);
    }
}

TEST_CASE("cqt: a segment aligned as alignment() says reproduces the whole signal's frames within reach()",
          "[cqt]") {
    // Hop 441 runs every octave at 22.05 kHz (FFT sizes up to 16384): FFTW_MEASURE planning of those sizes
    // would take seconds, and planning is not under test.
    mtag::dsp::set_fft_planning(mtag::dsp::FftPlanning::estimate);
    const double sr = 22050;
    std::mt19937_64 rng(11);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::vector<float> y(static_cast<std::size_t>(12 * sr));
    for (auto& v : y) v = normal(rng);
    for (int hop : {512, 441}) {
        CAPTURE(hop);
        Cqt cqt({.sample_rate = sr, .hop_length = hop});
        FloatMatrix whole, part;
        cqt.compute(y, whole);
        const std::size_t align = cqt.alignment();
        const std::size_t reach = cqt.reach();
        REQUIRE(align % static_cast<std::size_t>(hop) == 0);
        const std::size_t start = (2 * reach / align + 1) * align;  // well inside the signal
        const std::size_t stop = std::min(y.size(), start + 3 * reach + 40 * static_cast<std::size_t>(hop));
        cqt.compute(std::span<const float>(y).subspan(start, stop - start), part);
        const std::size_t offset = start / static_cast<std::size_t>(hop);
        std::size_t compared = 0;
        for (std::size_t j = 0; j < part.cols; ++j) {
            const std::size_t centre = start + j * static_cast<std::size_t>(hop);
            if (centre < start + reach || centre + reach > stop) continue;
            for (std::size_t r = 0; r < part.rows; ++r) REQUIRE(part(r, j) == whole(r, offset + j));
            ++compared;
        }
        CHECK(compared >= 10);
    }
}

TEST_CASE("cqt: recursive octaves agree with direct time-domain filtering at the full rate", "[cqt]") {
    // Independent reference: each kernel built per librosa.filters.wavelet at the input rate (Hann,
    // L1-normalised, np.arange(-L // 2, L // 2) sample positions), convolved with the signal in double
    // precision around each frame centre, scaled by sqrt(L) (scale) or L. The recursive transform differs by
    // its sparsified kernels, the half-band decimators and the kernels rebuilt per octave (lengths rounded at
    // the lower rate).
    const int hop = 512;
    auto make_signal = [](double sr) {
        std::mt19937_64 rng(7);
        std::normal_distribution<double> normal(0.0, 0.3);
        std::vector<float> y(static_cast<std::size_t>(4 * sr));
        for (std::size_t i = 0; i < y.size(); ++i) {
            double v = normal(rng);
            for (int note : {31, 45, 52, 64, 79, 95})
                v += 0.5 * std::sin(2 * std::numbers::pi * midi_to_hz(note) * i / sr);
            y[i] = static_cast<float>(v);
        }
        // Fade in and out over 0.75 s (longer than half the C1 kernel): at an abrupt edge the kernel cut by
        // the zero padding sees the whole band, which the decimated octaves no longer carry, so edge frames
        // of the low octaves would measure the decimators' band limit rather than the transform.
        const std::size_t fade = static_cast<std::size_t>(0.75 * sr);
        for (std::size_t i = 0; i < fade; ++i) {
            const float g = static_cast<float>(0.5 - 0.5 * std::cos(std::numbers::pi * i / fade));
            y[i] *= g;
            y[y.size() - 1 - i] *= g;
        }
        return y;
    };
    const double alpha = (std::pow(2.0, 2.0 / 12) - 1) / (std::pow(2.0, 2.0 / 12) + 1);
    auto reference = [&](const std::vector<float>& y, double sr, bool scale, int row, std::size_t frames) {
        const double f = midi_to_hz(24 + row);
        const double length = sr / (alpha * f);
        const double start = std::floor(-length / 2);
        const int count = static_cast<int>(std::floor(length / 2) - start);
        std::vector<std::complex<double>> k(count);
        double l1 = 0;
        for (int j = 0; j < count; ++j) {
            const double w = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * j / count);
            k[j] = std::polar(w, 2 * std::numbers::pi * f / sr * (start + j));
            l1 += w;
        }
        std::vector<double> out(frames);
        for (std::size_t t = 0; t < frames; ++t) {
            // Kernel sample j meets signal sample t * hop + ceil(count / 2) - j (the FFT product's
            // orientation).
            std::complex<double> acc = 0;
            const std::ptrdiff_t base = static_cast<std::ptrdiff_t>(t) * hop + (count + 1) / 2;
            for (int j = 0; j < count; ++j) {
                const std::ptrdiff_t s = base - j;
                if (s >= 0 && s < static_cast<std::ptrdiff_t>(y.size()))
                    acc += k[j] * static_cast<double>(y[s]);
            }
            out[t] = std::abs(acc) / l1 * (scale ? std::sqrt(length) : length);
        }
        return out;
    };
    struct Case {
        double sr, sparsity;
        bool scale;
        double top_tolerance, low_tolerance;
    };
    // Tolerances, as a fraction of the bin's largest reference value over all frames (measured worst in
    // brackets). Top octave at 22.05 kHz, sparsity 0: 1e-3 [4.4e-4], the part of each kernel at negative
    // frequencies that librosa's product over bins 0..n_fft/2 leaves out. Decimated octaves: 0.02 [8.9e-3 at
    // C1]: kernels rebuilt at the decimated rate have a whole number of samples there (up to half a low-rate
    // sample longer and off-centre), so the noise envelope is read up to ~1.5 ms apart. Sparsity 0.01 adds up
    // to 1% [9.7e-3]. At 44.1 kHz every octave is decimated at least once (early decimation), C1 eight times,
    // so its half-sample offset spans 2.9 ms: 0.04 [3.0e-2]; scale=false checks the unscaled path.
    for (const Case& cs : {Case{22050, 0.0, true, 1e-3, 0.02}, Case{22050, 0.01, true, 0.015, 0.03},
                           Case{44100, 0.01, false, 0.03, 0.04}}) {
        const auto y = make_signal(cs.sr);
        Cqt cqt({.sample_rate = cs.sr, .hop_length = hop, .sparsity = cs.sparsity, .scale = cs.scale});
        CHECK(cqt.early_decimations() == (cs.sr > 40000 ? 1 : 0));
        FloatMatrix c;
        cqt.compute(y, c);
        for (int row : {83, 77, 72, 71, 55, 40, 28, 7, 0}) {
            const auto ref = reference(y, cs.sr, cs.scale, row, c.cols);
            double worst = 0;
            const double peak = *std::max_element(ref.begin(), ref.end());
            for (std::size_t t = 0; t < c.cols; ++t)
                worst = std::max(worst, std::abs(c(row, t) - ref[t]) / peak);
            CAPTURE(cs.sr, cs.sparsity, cs.scale, row, worst, peak);
            CHECK(worst < (row >= 72 ? cs.top_tolerance : cs.low_tolerance));
        }
    }
}

TEST_CASE("cqt: complex output, reflect padding and VQT", "[cqt]") {
    const double sr = 22050;
    // A cosine: reflect padding continues it across both ends (a sine would flip sign there).
    std::vector<float> y(static_cast<std::size_t>(2 * sr));
    for (std::size_t i = 0; i < y.size(); ++i)
        y[i] = static_cast<float>(std::cos(2.0 * std::numbers::pi * midi_to_hz(60) * i / sr));
    Cqt cqt({.sample_rate = sr});
    FloatMatrix mag;
    mtag::dsp::ComplexMatrix z;
    cqt.compute(y, mag);
    cqt.compute_complex(y, z);
    REQUIRE(z.rows == mag.rows);
    REQUIRE(z.cols == mag.cols);
    for (std::size_t i = 0; i < z.size(); ++i)
        REQUIRE(std::abs(z.data[i]) == Approx(mag.data[i]).margin(1e-6));

    Cqt reflect({.sample_rate = sr, .pad_mode = CqtPadMode::reflect});
    FloatMatrix r;
    reflect.compute(y, r);
    check_peak(r, 36);
    // Reflection continues the tone past the ends: the first frame sees a whole kernel's worth of it, about
    // the steady-state value, where zero padding gives about half.
    CHECK(r(36, 0) == Approx(r(36, r.cols / 2)).epsilon(0.02));
    CHECK(mag(36, 0) == Approx(0.5 * mag(36, mag.cols / 2)).epsilon(0.1));

    // VQT with librosa.vqt's default (ERB) gamma: shorter low kernels, same peak bin.
    Cqt vqt({.sample_rate = sr, .gamma = std::nullopt});
    for (int k = 0; k < 84; ++k) CHECK(vqt.lengths()[k] < cqt.lengths()[k]);
    FloatMatrix v;
    vqt.compute(y, v);
    CHECK(argmax(row_medians(v)) == 36);
}

TEST_CASE("cqt: Hamming, Blackman and rectangular kernels", "[cqt]") {
    const double sr = 22050;
    const auto y = sine(midi_to_hz(60), sr, 2.0);
    FloatMatrix c;
    Cqt hamming({.sample_rate = sr, .window = "hamming"});
    hamming.compute(y, c);
    check_peak(c, 36);
    // Blackman's wider main lobe reaches the bins two away (0.12 of the peak) and a rectangular kernel leaks
    // more (sidelobes at -13 dB); both still peak in their bin.
    for (const char* window : {"blackman", "ones"}) {
        CAPTURE(window);
        Cqt cqt({.sample_rate = sr, .window = window});
        cqt.compute(y, c);
        CHECK(argmax(row_medians(c)) == 36);
    }
}

TEST_CASE("cqt: hops with few factors of two stop the decimation, as librosa >= 0.9 does", "[cqt]") {
    // librosa 0.7 required hop_length divisible by 2^(octaves - 1); since 0.9 it decimates only while the hop
    // stays even and runs the remaining octaves at that rate (slower, same transform).
    mtag::dsp::set_fft_planning(
        mtag::dsp::FftPlanning::estimate);  // large FFT sizes; planning is not under test
    const double sr = 22050;
    const auto y = sine(midi_to_hz(60), sr, 2.0);
    for (int hop : {441, 100}) {
        CAPTURE(hop);
        Cqt cqt({.sample_rate = sr, .hop_length = hop});
        FloatMatrix c;
        cqt.compute(y, c);
        CHECK(c.cols == 1 + y.size() / static_cast<std::size_t>(hop));
        check_peak(c, 36);
    }
}

TEST_CASE("cqt: early decimation when the bins lie far below Nyquist", "[cqt]") {
    // At 44.1 kHz the default 84 bins end near 4 kHz: librosa decimates once before the first octave.
    const double sr = 44100;
    Cqt cqt({.sample_rate = sr});
    CHECK(cqt.early_decimations() == 1);
    CHECK(Cqt({.sample_rate = 22050}).early_decimations() == 0);
    FloatMatrix c;
    cqt.compute(sine(midi_to_hz(60), sr, 2.0), c);
    CHECK(c.cols == 1 + static_cast<std::size_t>(2 * sr) / 512);
    check_peak(c, 36);
}

TEST_CASE("cqt: invalid options are rejected with the option's name", "[cqt]") {
    auto fails_with = [](const CqtOptions& o, const char* text) {
        CHECK_THROWS_WITH(Cqt(o), Catch::Contains(text));
    };
    fails_with({.sample_rate = 22050, .fmin = 100.0}, "Nyquist");  // 84 bins from 100 Hz reach 12 kHz
    fails_with({.sample_rate = 0}, "sample_rate");
    fails_with({.hop_length = 0}, "hop_length");
    fails_with({.fmin = -1}, "fmin");
    fails_with({.n_bins = 0}, "n_bins");
    fails_with({.bins_per_octave = 0}, "bins_per_octave");
    fails_with({.filter_scale = 0}, "filter_scale");
    fails_with({.norm = 0.0}, "norm");
    fails_with({.sparsity = 1.0}, "sparsity");
    fails_with({.window = "kaiser"}, "window");
    fails_with({.gamma = -1.0}, "gamma");
    CHECK_THROWS_WITH(mtag::dsp::parse_cqt_pad_mode("edge"), Catch::Contains("pad_mode"));
    Cqt cqt({});
    FloatMatrix c;
    CHECK_THROWS_AS(cqt.compute(std::vector<float>{}, c), mtag::Error);
}
