#include "data/plot/spectrogram_plot.hpp"

#include "dsp/error.hpp"
#include "dsp/mel.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::data::plot {

namespace {

using dsp::FeatureKind;

constexpr double k_top_db = 80.0;

bool is_mel(const dsp::FeatureConfig& c) { return c.kind == FeatureKind::mel || c.kind == FeatureKind::logmel; }

// The figure's layout: the axes leave room for labels on the left and the colour bar on the right.
Rect axes_rect(const SpectrogramOptions& o, bool colorbar) {
    return {70, o.title.empty() ? 20.0 : 36.0, o.width - (colorbar ? 160 : 90), o.height - (o.title.empty() ? 70 : 86)};
}

std::vector<Tick> time_ticks(double t0, double t1) {
    std::vector<Tick> ticks = nice_ticks(t0, t1, 8);
    for (Tick& t : ticks) t.label += t.label == "0" ? "" : "";
    return ticks;
}

// Mel axis ticks at round frequencies, placed at their mel positions (librosa's y_axis='mel').
std::vector<Tick> mel_ticks(const dsp::FeatureConfig& c) {
    std::vector<Tick> ticks;
    for (double hz : {0.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0}) {
        if (hz < c.fmin - 1e-9 || hz > c.fmax + 1e-9) continue;
        char label[32];
        std::snprintf(label, sizeof label, "%g", hz);
        ticks.push_back({dsp::hz_to_mel(hz, c.htk), label});
    }
    return ticks;
}

// The C of every octave in [fmin, fmax] (C1 = 32.70 Hz), labelled by name.
std::vector<Tick> note_ticks(double fmin, double fmax) {
    std::vector<Tick> ticks;
    for (int octave = -1; octave <= 10; ++octave) {
        const double hz = 440.0 * std::pow(2.0, (12.0 * (octave + 1) - 69.0) / 12.0);
        if (hz >= fmin && hz <= fmax) ticks.push_back({hz, note_name(hz)});
    }
    return ticks;
}

// Values as shown: dB relative to the maximum for spectra without log compression, else unchanged.
std::vector<float> display_values(const dsp::FloatMatrix& m, const dsp::FeatureConfig& c, std::string& unit) {
    std::vector<float> v = m.data;
    if (c.kind == FeatureKind::mfcc) {
        unit = "MFCC";
        return v;
    }
    if (c.log == dsp::LogCompression::db) {
        unit = "dB";
        return v;
    }
    if (c.log == dsp::LogCompression::log1p) {
        unit = "log(1+Cx)";
        return v;
    }
    unit = "dB";
    const double scale = c.is_power() ? 10.0 : 20.0;
    const double amin = c.is_power() ? 1e-10 : 1e-5;
    float peak = 0;
    for (float x : v) peak = std::max(peak, x);
    const double ref = scale * std::log10(std::max<double>(peak, amin));
    for (float& x : v) x = static_cast<float>(std::max(scale * std::log10(std::max<double>(x, amin)) - ref, -k_top_db));
    return v;
}

}  // namespace

std::string note_name(double hz) {
    static const char* names[] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    const int midi = static_cast<int>(std::lround(69 + 12 * std::log2(hz / 440.0)));
    const int pc = ((midi % 12) + 12) % 12;
    return std::string(names[pc]) + std::to_string(midi / 12 - 1 - (midi < 0 && pc != 0 ? 1 : 0));
}

double frequency_axis_value(const dsp::FeatureConfig& config, double hz) {
    return is_mel(config) ? dsp::hz_to_mel(hz, config.htk) : hz;
}

SpectrogramPlot plot_spectrogram(const dsp::FloatMatrix& feature, const dsp::FeatureConfig& config,
                                 const SpectrogramOptions& options) {
    const dsp::FeatureConfig c = config.resolved();
    if (feature.rows == 0 || feature.cols == 0) throw Error("plot spectrogram", "the feature is empty (no frames)");
    const double sr = c.sample_rate, hop = c.hop_length;
    // Frame t is centred at t * hop (center=true) or at t * hop + n_fft / 2; each column spans one hop.
    const double first_centre = (c.center ? 0.0 : c.n_fft / 2.0) / sr;
    const double x0 = options.offset_seconds + first_centre - 0.5 * hop / sr;
    const double x1 = x0 + static_cast<double>(feature.cols) * hop / sr;
    const std::size_t n = feature.rows;

    Axes axes;
    axes.rect = axes_rect(options, true);
    axes.x = {std::max(options.offset_seconds, x0), x1, Scale::linear, "Time (s)", time_ticks(options.offset_seconds, x1)};
    double y0 = 0, y1 = 1;
    switch (c.kind) {
        case FeatureKind::mel:
        case FeatureKind::logmel: {
            // Bands are equally spaced in mel: centre i at point i+1 of n_mels+2 points from fmin to fmax.
            const double m0 = dsp::hz_to_mel(c.fmin, c.htk), m1 = dsp::hz_to_mel(c.fmax, c.htk);
            const double step = (m1 - m0) / static_cast<double>(n + 1);
            y0 = m0 + 0.5 * step;
            y1 = m1 - 0.5 * step;
            axes.y = {y0, y1, Scale::linear, "Hz (mel scale)", mel_ticks(c)};
            break;
        }
        case FeatureKind::stft: {
            const double step = sr / c.n_fft;
            y0 = -0.5 * step;
            y1 = (static_cast<double>(n) - 0.5) * step;
            axes.y = {0, sr / 2, Scale::linear, "Hz", nice_ticks(0, sr / 2, 6)};
            break;
        }
        case FeatureKind::cqt: {
            const double ratio = std::pow(2.0, 0.5 / c.bins_per_octave);
            y0 = c.fmin / ratio;
            y1 = c.fmin * std::pow(2.0, (static_cast<double>(n) - 1) / c.bins_per_octave) * ratio;
            axes.y = {y0, y1, Scale::log, "Note (log Hz)", note_ticks(y0, y1)};
            break;
        }
        case FeatureKind::mfcc: {
            y0 = -0.5;
            y1 = static_cast<double>(n) - 0.5;
            axes.y = {y0, y1, Scale::linear, "MFCC", nice_ticks(0, static_cast<double>(n) - 1, 5)};
            break;
        }
    }
    std::string unit;
    const std::vector<float> values = display_values(feature, c, unit);
    double vmin = values[0], vmax = values[0];
    for (float v : values)
        if (std::isfinite(v)) vmin = std::min<double>(vmin, v), vmax = std::max<double>(vmax, v);
    if (vmax <= vmin) vmax = vmin + 1;

    SpectrogramPlot plot{Figure(options.width, options.height), axes, vmin, vmax};
    draw_image(plot.figure, axes, values, n, feature.cols, x0, x1, y0, y1, options.cmap, vmin, vmax);
    draw_axes(plot.figure, axes);
    const Rect& r = axes.rect;
    draw_colorbar(plot.figure, {r.x + r.width + 20, r.y + 14, 16, r.height - 14}, options.cmap, vmin, vmax,
                  unit == "dB" && c.log == dsp::LogCompression::none ? "dB (re max)" : unit);
    std::string title = options.title.empty() ? "" : options.title;
    if (!title.empty()) draw_text(plot.figure, r.x + r.width / 2, 16, title, 13, 0.5, {0, 0, 0}, true);
    return plot;
}

SpectrogramPlot plot_waveform(std::span<const float> samples, int sample_rate, const SpectrogramOptions& options) {
    if (samples.empty()) throw Error("plot waveform", "no samples");
    Axes axes;
    axes.rect = axes_rect(options, false);
    const double t0 = options.offset_seconds, t1 = t0 + static_cast<double>(samples.size()) / sample_rate;
    float peak = 0;
    for (float s : samples) peak = std::max(peak, std::abs(s));
    const double limit = peak > 0 ? peak * 1.05 : 1.0;
    axes.x = {t0, t1, Scale::linear, "Time (s)", time_ticks(t0, t1)};
    axes.y = {-limit, limit, Scale::linear, "Amplitude", nice_ticks(-limit, limit, 4)};
    SpectrogramPlot plot{Figure(options.width, options.height), axes, -limit, limit};
    // One vertical min..max segment per pixel column, drawn as a closed envelope.
    const auto columns = static_cast<std::size_t>(std::max(1.0, axes.rect.width));
    std::vector<double> xs, ys;
    std::vector<double> lows(columns), highs(columns), centres(columns);
    for (std::size_t col = 0; col < columns; ++col) {
        const std::size_t a = col * samples.size() / columns, b = std::max(a + 1, (col + 1) * samples.size() / columns);
        float lo = samples[a], hi = samples[a];
        for (std::size_t i = a; i < std::min(b, samples.size()); ++i) lo = std::min(lo, samples[i]), hi = std::max(hi, samples[i]);
        lows[col] = lo;
        highs[col] = hi;
        centres[col] = t0 + (static_cast<double>(a) + 0.5 * static_cast<double>(b - a)) / sample_rate;
    }
    for (std::size_t col = 0; col < columns; ++col) xs.push_back(centres[col]), ys.push_back(highs[col]);
    for (std::size_t col = columns; col-- > 0;) xs.push_back(centres[col]), ys.push_back(lows[col]);
    xs.push_back(xs.front());
    ys.push_back(ys.front());
    draw_line(plot.figure, axes, xs, ys, series_color(0), 1.0);
    draw_axes(plot.figure, axes);
    if (!options.title.empty())
        draw_text(plot.figure, axes.rect.x + axes.rect.width / 2, 16, options.title, 13, 0.5, {0, 0, 0}, true);
    return plot;
}

}  // namespace mtag::data::plot
