// mtag.load, stft/istft, feature.melspectrogram/mfcc, cqt, power_to_db/amplitude_to_db, filters.mel.
// Spectral features go through dsp::FeatureExtractor with a dsp::FeatureConfig, the path `mtag extract`
// takes, so an array computed here equals the CLI's .npy for the same parameters. Plans (FFT, filterbank,
// CQT kernels) are kept per thread and per configuration, so repeated calls pay only for the transform.
#include "app/python/binding.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/cqt.hpp"
#include "dsp/feature_config.hpp"
#include "dsp/feature_extractor.hpp"
#include "dsp/log_compression.hpp"
#include "dsp/mel.hpp"
#include "dsp/mfcc.hpp"
#include "dsp/stft.hpp"

#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>

namespace mtag::python {

namespace {

using dsp::FeatureConfig;
using dsp::FeatureKind;

// The extractor for a config, built once per thread (extractors own scratch buffers: one per thread).
dsp::FeatureExtractor& extractor_for(const FeatureConfig& config) {
    thread_local std::map<std::string, std::unique_ptr<dsp::FeatureExtractor>> cache;
    const std::string key = config.hash();
    auto it = cache.find(key);
    if (it == cache.end()) {
        if (cache.size() > 32) cache.clear();  // a script sweeping parameters does not grow without bound
        it = cache.emplace(key, std::make_unique<dsp::FeatureExtractor>(config)).first;
    }
    return *it->second;
}

}  // namespace

dsp::ResampleQuality resample_quality(const std::string& res_type) {
    // mtag's own names first: librosa's soxr_* and the sinc_* of libsamplerate (and best/medium/fastest).
    try {
        return dsp::parse_resample_quality(res_type);
    } catch (const Error&) {
    }
    // librosa's other res_type values, onto the nearest converter mtag has: resampy's kaiser_best and
    // kaiser_fast onto libsamplerate's best and medium sinc; the band-limited fft/scipy/polyphase onto the
    // default; samplerate's linear and zero_order_hold onto its fastest sinc.
    if (res_type == "kaiser_best") return dsp::ResampleQuality::sinc_best;
    if (res_type == "kaiser_fast") return dsp::ResampleQuality::sinc_medium;
    if (res_type == "fft" || res_type == "scipy" || res_type == "polyphase") return dsp::default_resample_quality;
    if (res_type == "linear" || res_type == "zero_order_hold") return dsp::ResampleQuality::sinc_fastest;
    throw ValueError("res_type: got '" + res_type + "', expected one of " + dsp::resample_quality_names() +
                     ", or librosa's kaiser_best, kaiser_fast, fft, scipy, polyphase, linear, zero_order_hold");
}

namespace {

py::tuple load(const std::string& path, int sr, bool mono, double offset, double duration,
               const std::string& res_type, const std::string& mp3_decode) {
    if (mp3_decode != "full" && mp3_decode != "fast")
        throw ValueError("mp3_decode: got '" + mp3_decode + "', expected 'full' or 'fast'");
    dsp::LoadOptions options{.sample_rate = sr,
                             .mono = mono,
                             .offset_seconds = offset,
                             .duration_seconds = duration,
                             .resample_quality = resample_quality(res_type),
                             .mp3_decode = dsp::parse_mp3_decode(mp3_decode)};
    if (sr < 0) throw ValueError("sr: got " + std::to_string(sr) + ", expected a positive rate or None");
    if (offset < 0) throw ValueError("offset: got " + std::to_string(offset) + ", expected >= 0");
    dsp::Audio audio;
    {
        ComputeScope compute;
        audio = on_file(path, [&] { return dsp::load_audio(path, options); });
    }
    const int rate = audio.sample_rate;
    if (mono || audio.channels == 1)
        return py::make_tuple(to_numpy(std::move(audio.samples), {static_cast<py::ssize_t>(audio.frames())}),
                              rate);
    // librosa's layout for mono=False: [channels, samples].
    const auto channels = static_cast<py::ssize_t>(audio.channels), frames = static_cast<py::ssize_t>(audio.frames());
    std::vector<float> planar(audio.samples.size());
    {
        ComputeScope compute;
        for (py::ssize_t c = 0; c < channels; ++c)
            for (py::ssize_t i = 0; i < frames; ++i) planar[c * frames + i] = audio.samples[i * channels + c];
    }
    return py::make_tuple(to_numpy(std::move(planar), {channels, frames}), rate);
}

dsp::StftOptions stft_options(int n_fft, int hop_length, int win_length, const std::string& window, bool center,
                              const std::string& pad_mode) {
    return validated([&] {
        return dsp::StftOptions{.n_fft = n_fft,
                                .hop_length = hop_length,
                                .win_length = win_length,
                                .window = dsp::parse_window_kind(window),
                                .center = center,
                                .pad_mode = dsp::parse_pad_mode(pad_mode)};
    });
}

py::array_t<std::complex<float>> stft(const py::handle& y, int n_fft, int hop_length, int win_length,
                                      const std::string& window, bool center, const std::string& pad_mode) {
    const FloatArray x = samples_of(y);
    const dsp::Stft plan = validated([&] {
        return dsp::Stft(stft_options(n_fft, hop_length, win_length, window, center, pad_mode));
    });
    dsp::ComplexMatrix out;
    {
        ComputeScope compute;
        validated([&] { plan.compute(span_of(x), out); return 0; });
    }
    return to_numpy(std::move(out));
}

py::array_t<float> istft(const py::handle& stft_matrix, int n_fft, int hop_length, int win_length,
                         const std::string& window, bool center, std::int64_t length) {
    const ComplexArray d = ComplexArray::ensure(stft_matrix);
    if (!d || d.ndim() != 2) throw ValueError("stft_matrix: expected a 2-D complex array [1 + n_fft/2, frames]");
    const auto bins = static_cast<int>(d.shape(0));
    if (n_fft <= 0) n_fft = 2 * (bins - 1);
    if (bins != n_fft / 2 + 1)
        throw ValueError("stft_matrix: " + std::to_string(bins) + " rows, expected 1 + n_fft/2 = " +
                         std::to_string(n_fft / 2 + 1));
    const dsp::Stft plan =
        validated([&] { return dsp::Stft(stft_options(n_fft, hop_length, win_length, window, center, "constant")); });
    dsp::ComplexMatrix in;
    in.rows = static_cast<std::size_t>(bins);
    in.cols = static_cast<std::size_t>(d.shape(1));
    std::vector<float> out;
    {
        ComputeScope compute;
        in.data.assign(d.data(), d.data() + d.size());
        plan.inverse(in, length, out);
    }
    const auto n = static_cast<py::ssize_t>(out.size());
    return to_numpy(std::move(out), {n});
}

// The mel, logmel, mfcc and stft kinds share these keys.
FeatureConfig spectral_config(FeatureKind kind, int sr, int n_fft, int hop_length, int win_length,
                              const std::string& window, bool center, const std::string& pad_mode, double power,
                              int n_mels, double fmin, double fmax, bool htk, const std::string& norm) {
    FeatureConfig c = FeatureConfig::defaults_for(kind);
    c.sample_rate = sr;
    c.n_fft = n_fft;
    c.hop_length = hop_length;
    c.win_length = win_length;
    c.window = window;
    c.center = center;
    c.pad_mode = pad_mode;
    c.power = power;
    c.n_mels = n_mels;
    c.fmin = fmin;
    c.fmax = fmax;
    c.htk = htk;
    c.mel_norm = norm;
    return c;
}

py::array_t<float> run_extractor(const FeatureConfig& config, const FloatArray& x) {
    dsp::FloatMatrix out;
    {
        ComputeScope compute;
        dsp::FeatureExtractor& extractor = validated([&]() -> dsp::FeatureExtractor& { return extractor_for(config); });
        validated([&] { extractor.compute(span_of(x), out); return 0; });
    }
    return to_numpy(std::move(out));
}

FloatArray matrix_of(const py::handle& S, const char* what) {
    FloatArray a = FloatArray::ensure(S);
    if (!a || a.ndim() != 2) throw ValueError(std::string(what) + ": expected a 2-D array [bins, frames]");
    return a;
}

dsp::FloatMatrix copy_matrix(const FloatArray& a) {
    dsp::FloatMatrix m;
    m.rows = static_cast<std::size_t>(a.shape(0));
    m.cols = static_cast<std::size_t>(a.shape(1));
    m.data.assign(a.data(), a.data() + a.size());
    return m;
}

py::array_t<float> melspectrogram(const py::object& y, int sr, const py::object& S, int n_fft, int hop_length,
                                  int win_length, const std::string& window, bool center, const std::string& pad_mode,
                                  double power, int n_mels, double fmin, double fmax, bool htk,
                                  const std::string& norm) {
    if (!S.is_none()) {
        // librosa: S is a (power) spectrogram [1 + n_fft/2, frames]; n_fft follows from its rows.
        const FloatArray s = matrix_of(S, "S");
        const int fft = 2 * (static_cast<int>(s.shape(0)) - 1);
        const dsp::MelFilterbank bank = validated([&] {
            return dsp::MelFilterbank({.sample_rate = static_cast<double>(sr), .n_fft = fft, .n_mels = n_mels,
                                       .fmin = fmin, .fmax = fmax, .htk = htk, .norm = dsp::parse_mel_norm(norm)});
        });
        dsp::FloatMatrix out(static_cast<std::size_t>(n_mels), static_cast<std::size_t>(s.shape(1)));
        {
            ComputeScope compute;
            bank.apply(s.data(), static_cast<std::size_t>(s.shape(1)), out.cols, out.data.data(), out.cols);
        }
        return to_numpy(std::move(out));
    }
    if (y.is_none()) throw ValueError("melspectrogram: give y (a signal) or S (a spectrogram)");
    const FloatArray x = samples_of(y);
    const FeatureConfig c = validated([&] {
        FeatureConfig config = spectral_config(FeatureKind::mel, sr, n_fft, hop_length, win_length, window, center,
                                               pad_mode, power, n_mels, fmin, fmax, htk, norm);
        return config.resolved();
    });
    return run_extractor(c, x);
}

py::array_t<float> mfcc(const py::object& y, int sr, const py::object& S, int n_mfcc, int dct_type,
                        const std::string& dct_norm, double lifter, int n_fft, int hop_length, int win_length,
                        const std::string& window, bool center, const std::string& pad_mode, double power,
                        int n_mels, double fmin, double fmax, bool htk, const std::string& norm) {
    if (dct_type != 2 || dct_norm != "ortho")
        throw ValueError("mfcc: only dct_type=2 with norm='ortho' (librosa's defaults) is implemented, got dct_type=" +
                         std::to_string(dct_type) + ", norm='" + dct_norm + "'");
    if (!S.is_none()) {
        const FloatArray s = matrix_of(S, "S");
        const dsp::Mfcc plan = validated([&] {
            return dsp::Mfcc(static_cast<int>(s.shape(0)),
                             dsp::MfccOptions{.n_mfcc = n_mfcc, .lifter = static_cast<float>(lifter)});
        });
        dsp::FloatMatrix out;
        {
            ComputeScope compute;
            plan.compute(copy_matrix(s), out);
        }
        return to_numpy(std::move(out));
    }
    if (y.is_none()) throw ValueError("mfcc: give y (a signal) or S (a log-power mel spectrogram)");
    const FloatArray x = samples_of(y);
    const FeatureConfig c = validated([&] {
        FeatureConfig config = spectral_config(FeatureKind::mfcc, sr, n_fft, hop_length, win_length, window, center,
                                               pad_mode, power, n_mels, fmin, fmax, htk, norm);
        config.n_mfcc = n_mfcc;
        config.lifter = lifter;
        return config.resolved();
    });
    return run_extractor(c, x);
}

// A CQT plan per thread and configuration (dsp::Cqt owns scratch buffers).
dsp::Cqt& cqt_for(const dsp::CqtOptions& o) {
    thread_local std::map<std::string, std::unique_ptr<dsp::Cqt>> cache;
    std::string key = std::to_string(o.sample_rate) + "|" + std::to_string(o.hop_length) + "|" + std::to_string(o.fmin) +
                      "|" + std::to_string(o.n_bins) + "|" + std::to_string(o.bins_per_octave) + "|" +
                      std::to_string(o.tuning) + "|" + std::to_string(o.filter_scale) + "|" +
                      (o.norm ? std::to_string(*o.norm) : "none") + "|" + std::to_string(o.sparsity) + "|" + o.window +
                      "|" + std::to_string(o.scale) + "|" + dsp::to_string(o.pad_mode);
    auto it = cache.find(key);
    if (it == cache.end()) {
        if (cache.size() > 16) cache.clear();
        it = cache.emplace(key, std::make_unique<dsp::Cqt>(o)).first;
    }
    return *it->second;
}

// The complex transform (librosa.cqt's result), or with `magnitude` |C| computed by dsp::Cqt::compute, the
// values `mtag extract --feature cqt` writes (np.abs of the complex result can differ in the last bit: the
// C++ magnitude is computed with fused multiply-adds).
py::object cqt(const py::handle& y, double sr, int hop_length, const std::optional<double>& fmin, int n_bins,
               int bins_per_octave, double tuning, double filter_scale, const std::optional<double>& norm,
               double sparsity, const std::string& window, bool scale, const std::string& pad_mode, bool magnitude) {
    const FloatArray x = samples_of(y);
    dsp::CqtOptions o;
    o.sample_rate = sr;
    o.hop_length = hop_length;
    if (fmin) o.fmin = *fmin;
    o.n_bins = n_bins;
    o.bins_per_octave = bins_per_octave;
    o.tuning = tuning;
    o.filter_scale = filter_scale;
    o.norm = norm;
    o.sparsity = sparsity;
    o.window = window;
    o.scale = scale;
    o.pad_mode = validated([&] { return dsp::parse_cqt_pad_mode(pad_mode); });
    if (magnitude) {
        dsp::FloatMatrix out;
        {
            ComputeScope compute;
            dsp::Cqt& plan = validated([&]() -> dsp::Cqt& { return cqt_for(o); });
            validated([&] { plan.compute(span_of(x), out); return 0; });
        }
        return to_numpy(std::move(out));
    }
    dsp::ComplexMatrix out;
    {
        ComputeScope compute;
        dsp::Cqt& plan = validated([&]() -> dsp::Cqt& { return cqt_for(o); });
        validated([&] { plan.compute_complex(span_of(x), out); return 0; });
    }
    return to_numpy(std::move(out));
}

// power_to_db / amplitude_to_db on an array of any shape: a new float32 array (the input is not modified).
template <bool Power>
py::array_t<float> to_db(const py::handle& S, double ref, bool ref_is_max, double amin,
                         const std::optional<double>& top_db) {
    FloatArray s = FloatArray::ensure(S);
    if (!s) throw ValueError("S: expected a NumPy array of real numbers");
    std::vector<py::ssize_t> shape(s.shape(), s.shape() + s.ndim());
    std::vector<float> values;
    {
        ComputeScope compute;
        values.assign(s.data(), s.data() + s.size());
        const dsp::DbReference reference = ref_is_max ? dsp::DbReference::max() : dsp::DbReference(static_cast<float>(ref));
        const std::optional<float> top = top_db ? std::optional<float>(static_cast<float>(*top_db)) : std::nullopt;
        validated([&] {
            if constexpr (Power)
                dsp::power_to_db(std::span<float>(values), reference, static_cast<float>(amin), top);
            else
                dsp::amplitude_to_db(std::span<float>(values), reference, static_cast<float>(amin), top);
            return 0;
        });
    }
    return to_numpy(std::move(values), shape);
}

py::array_t<float> filters_mel(double sr, int n_fft, int n_mels, double fmin, double fmax, bool htk,
                               const std::string& norm) {
    dsp::FloatMatrix w = validated([&] {
        return dsp::mel_filterbank({.sample_rate = sr, .n_fft = n_fft, .n_mels = n_mels, .fmin = fmin, .fmax = fmax,
                                    .htk = htk, .norm = dsp::parse_mel_norm(norm)});
    });
    return to_numpy(std::move(w));
}

}  // namespace

void bind_audio(py::module_& m) {
    using namespace pybind11::literals;
    m.def("load", &load, "path"_a, "sr"_a, "mono"_a, "offset"_a, "duration"_a, "res_type"_a, "mp3_decode"_a);
    m.def("stft", &stft, "y"_a, "n_fft"_a, "hop_length"_a, "win_length"_a, "window"_a, "center"_a, "pad_mode"_a);
    m.def("istft", &istft, "stft_matrix"_a, "n_fft"_a, "hop_length"_a, "win_length"_a, "window"_a, "center"_a,
          "length"_a);
    m.def("melspectrogram", &melspectrogram, "y"_a, "sr"_a, "S"_a, "n_fft"_a, "hop_length"_a, "win_length"_a,
          "window"_a, "center"_a, "pad_mode"_a, "power"_a, "n_mels"_a, "fmin"_a, "fmax"_a, "htk"_a, "norm"_a);
    m.def("mfcc", &mfcc, "y"_a, "sr"_a, "S"_a, "n_mfcc"_a, "dct_type"_a, "dct_norm"_a, "lifter"_a, "n_fft"_a,
          "hop_length"_a, "win_length"_a, "window"_a, "center"_a, "pad_mode"_a, "power"_a, "n_mels"_a, "fmin"_a,
          "fmax"_a, "htk"_a, "norm"_a);
    m.def("cqt", &cqt, "y"_a, "sr"_a, "hop_length"_a, "fmin"_a, "n_bins"_a, "bins_per_octave"_a, "tuning"_a,
          "filter_scale"_a, "norm"_a, "sparsity"_a, "window"_a, "scale"_a, "pad_mode"_a, "magnitude"_a);
    m.def("power_to_db", &to_db<true>, "S"_a, "ref"_a, "ref_is_max"_a, "amin"_a, "top_db"_a);
    m.def("amplitude_to_db", &to_db<false>, "S"_a, "ref"_a, "ref_is_max"_a, "amin"_a, "top_db"_a);
    m.def("filters_mel", &filters_mel, "sr"_a, "n_fft"_a, "n_mels"_a, "fmin"_a, "fmax"_a, "htk"_a, "norm"_a);
}

}  // namespace mtag::python
