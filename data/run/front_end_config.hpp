#pragma once
// FrontEndConfig: what a model is fed, typed once at the boundary: a spectral front end
// (dsp::FeatureConfig, resolved) or, for sample-level models, the raw waveform at a sample rate. The
// preset's recipe yields one, the training config may replace it, and the model card stores exactly the one
// the model was trained with.
//
// JSON: FeatureConfig's keys ({"kind": "logmel", "sample_rate": 16000, ...}; "ref" a number or "max", and
// the numeric strings of older cards, "1.0", are still read) or {"kind": "waveform", "sample_rate": 22050}.
#include "dsp/feature_config.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace mtag::data {

// Raw audio input of a sample-level model.
struct WaveformInput {
    int sample_rate = 22050;
    bool operator==(const WaveformInput&) const = default;
};

class FrontEndConfig {
  public:
    // The default spectral front end (dsp::FeatureConfig's defaults).
    FrontEndConfig();
    // Resolves and validates `features` (throws mtag::Error naming the field).
    FrontEndConfig(const dsp::FeatureConfig& features);  // NOLINT(google-explicit-constructor): a front end is one
    FrontEndConfig(WaveformInput waveform);              // NOLINT(google-explicit-constructor)

    bool is_waveform() const { return std::holds_alternative<WaveformInput>(m_value); }
    // The rate audio is resampled to before the front end (or the model).
    int sample_rate() const;
    // The spectral front end (resolved); throws mtag::Error for a waveform model.
    const dsp::FeatureConfig& features() const;
    // Feature bins per frame (1 for a waveform).
    int bins() const;

    nlohmann::json to_json() const;
    // Parses either form; unknown keys, wrong types and invalid values throw naming `where` and the key.
    static FrontEndConfig from_json(const nlohmann::json& json, const std::string& where = "features");

    bool operator==(const FrontEndConfig& other) const { return to_json() == other.to_json(); }

  private:
    std::variant<dsp::FeatureConfig, WaveformInput> m_value;
};

}  // namespace mtag::data
