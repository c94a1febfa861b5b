#pragma once
// Spectrograms and waveforms as librosa's specshow / waveshow draw them: time in seconds on x, the
// feature's own frequency scale on y (mel-spaced Hz ticks for mel and log-mel, a log axis with note names
// for CQT, linear Hz for STFT, coefficient numbers for MFCC), a colour bar in dB.
#include "data/plot/figure.hpp"
#include "dsp/feature_config.hpp"
#include "dsp/matrix.hpp"

#include <span>
#include <string>

namespace mtag::data::plot {

struct SpectrogramOptions {
    ColorMap cmap = ColorMap::magma;
    double width = 900, height = 420;  // points (PNG pixels)
    std::string title;
    double offset_seconds = 0;  // time of the first sample shown (the x axis starts there)
};

struct SpectrogramPlot {
    Figure figure;
    Axes axes;               // data units: seconds on x; mel (mel, logmel), Hz (stft, cqt) or index (mfcc) on y
    double vmin = 0, vmax = 0;  // the colour range (dB for spectra)
};

// The feature [bins, frames] computed for `config` (resolved). Spectra without log compression are shown
// in dB relative to their maximum (librosa power_to_db / amplitude_to_db with ref=np.max, top_db=80);
// log-compressed ones as they are.
SpectrogramPlot plot_spectrogram(const dsp::FloatMatrix& feature, const dsp::FeatureConfig& config,
                                 const SpectrogramOptions& options = {});

// The waveform (min/max envelope per pixel column) of mono samples.
SpectrogramPlot plot_waveform(std::span<const float> samples, int sample_rate, const SpectrogramOptions& options = {});

// Where a frequency lies on the y axis of plot_spectrogram for `config`: mel units for mel and log-mel,
// Hz for STFT and CQT.
double frequency_axis_value(const dsp::FeatureConfig& config, double hz);

// "A4" for 440 Hz (the nearest equal-tempered note; C4 = middle C).
std::string note_name(double hz);

}  // namespace mtag::data::plot
