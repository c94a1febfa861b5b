#include "data/run/front_end_config.hpp"

#include "dsp/error.hpp"

namespace mtag::data {

FrontEndConfig::FrontEndConfig() : m_value(dsp::FeatureConfig{}.resolved()) {}

FrontEndConfig::FrontEndConfig(const dsp::FeatureConfig& features) : m_value(features.resolved()) {}

FrontEndConfig::FrontEndConfig(WaveformInput waveform) : m_value(waveform) {
    if (waveform.sample_rate <= 0)
        throw Error("features: 'sample_rate'", "got " + std::to_string(waveform.sample_rate) + ", expected a positive rate in Hz");
}

int FrontEndConfig::sample_rate() const {
    return is_waveform() ? std::get<WaveformInput>(m_value).sample_rate : std::get<dsp::FeatureConfig>(m_value).sample_rate;
}

const dsp::FeatureConfig& FrontEndConfig::features() const {
    if (is_waveform()) throw Error("features", "this is a waveform model; it has no spectral front end");
    return std::get<dsp::FeatureConfig>(m_value);
}

int FrontEndConfig::bins() const { return is_waveform() ? 1 : features().bins(); }

nlohmann::json FrontEndConfig::to_json() const {
    if (is_waveform()) return {{"kind", "waveform"}, {"sample_rate", sample_rate()}};
    return features().to_json();
}

FrontEndConfig FrontEndConfig::from_json(const nlohmann::json& json, const std::string& where) {
    if (!json.is_object()) throw Error(where, "got " + json.dump() + ", expected an object");
    if (json.value("kind", nlohmann::json()) == "waveform") {
        for (const auto& [key, value] : json.items())
            if (key != "kind" && key != "sample_rate")
                throw Error(where + ": '" + key + "'", "unknown key for a waveform front end; expected kind, sample_rate");
        const auto it = json.find("sample_rate");
        if (it == json.end() || !it->is_number_integer() || it->get<int>() <= 0)
            throw Error(where + ": 'sample_rate'",
                        "got " + (it == json.end() ? std::string("nothing") : it->dump()) + ", expected a positive integer (Hz)");
        return FrontEndConfig(WaveformInput{it->get<int>()});
    }
    return FrontEndConfig(dsp::FeatureConfig::from_json(json, where));
}

}  // namespace mtag::data
