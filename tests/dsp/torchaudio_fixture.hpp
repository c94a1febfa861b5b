#pragma once
// Loads tests/fixtures/dsp/torchaudio_spectral.json (scripts/make_spectral_fixtures.py): a generated signal
// and torchaudio 0.13's Spectrogram / MelSpectrogram / AmplitudeToDB / MFCC outputs for a few settings.
#include "dsp/matrix.hpp"
#include "dsp/mel.hpp"
#include "dsp/stft.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mtag::test {

struct TorchaudioCase {
    std::string name;
    dsp::StftOptions stft;
    dsp::MelOptions mel;
    float power = 2.0f;
    int n_mfcc = 0;
    const nlohmann::json* json = nullptr;  // the case's raw entry (reference matrices)
};

inline const nlohmann::json& torchaudio_fixture() {
    static const nlohmann::json j = nlohmann::json::parse(
        std::ifstream(std::filesystem::path(MTAG_SOURCE_DIR) / "tests" / "fixtures" / "dsp" / "torchaudio_spectral.json"));
    return j;
}

inline std::vector<float> torchaudio_signal() { return torchaudio_fixture()["signal"].get<std::vector<float>>(); }

inline std::vector<TorchaudioCase> torchaudio_cases() {
    std::vector<TorchaudioCase> out;
    for (const auto& c : torchaudio_fixture()["cases"]) {
        TorchaudioCase t;
        t.name = c["name"];
        t.stft.n_fft = c["n_fft"];
        t.stft.hop_length = c["hop_length"];
        t.stft.win_length = c["win_length"];
        t.stft.center = true;
        t.stft.pad_mode = dsp::parse_pad_mode(c["pad_mode"].get<std::string>());
        t.mel.sample_rate = c["sample_rate"];
        t.mel.n_mels = c["n_mels"];
        t.mel.fmin = c["f_min"];
        t.mel.fmax = c["f_max"];
        t.mel.htk = c["mel_scale"] == "htk";
        t.mel.norm = c["norm"].is_null() ? dsp::MelNorm::none : dsp::parse_mel_norm(c["norm"].get<std::string>());
        t.power = c["power"];
        t.n_mfcc = c["n_mfcc"];
        t.json = &c;
        out.push_back(t);
    }
    return out;
}

// A [rows][cols] JSON array as a matrix.
inline dsp::FloatMatrix json_matrix(const nlohmann::json& rows) {
    dsp::FloatMatrix m(rows.size(), rows.empty() ? 0 : rows[0].size());
    for (std::size_t r = 0; r < m.rows; ++r)
        for (std::size_t c = 0; c < m.cols; ++c) m(r, c) = rows[r][c];
    return m;
}

// Largest |a - b| over the largest |b|: float32 agreement "within rounding of the largest value".
inline double relative_to_peak(const dsp::FloatMatrix& a, const dsp::FloatMatrix& b) {
    double peak = 0.0, worst = 0.0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        peak = std::max(peak, std::abs(double(b.data[i])));
        worst = std::max(worst, std::abs(double(a.data[i]) - b.data[i]));
    }
    return peak > 0 ? worst / peak : worst;
}

inline double max_abs_diff(const dsp::FloatMatrix& a, const dsp::FloatMatrix& b) {
    double worst = 0.0;
    for (std::size_t i = 0; i < b.size(); ++i) worst = std::max(worst, std::abs(double(a.data[i]) - b.data[i]));
    return worst;
}

}  // namespace mtag::test
