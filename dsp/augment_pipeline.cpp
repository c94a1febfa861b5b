#include "dsp/augment_pipeline.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/biquad.hpp"
#include "dsp/equalizer.hpp"
#include "dsp/error.hpp"
#include "dsp/noise.hpp"
#include "dsp/phase_vocoder.hpp"
#include "dsp/pitch_shift.hpp"
#include "dsp/random.hpp"
#include "dsp/simple_effects.hpp"

#include <cmath>
#include <fstream>
#include <map>

namespace mtag::dsp {

namespace {

using json = nlohmann::json;

// Every transform's keys and their defaults (audiomentations-like); a key not listed is an error.
const std::map<std::string, json>& transform_defaults() {
    static const std::map<std::string, json> defaults = {
        {"pitch_shift",
         {{"p", 0.5},
          {"semitones", {-4.0, 4.0}},
          {"n_fft", 0},
          {"phase_locking", "identity"},
          {"resample_quality", to_string(default_pitch_shift_quality)}}},  // see dsp/pitch_shift.hpp
        {"time_stretch",
         {{"p", 0.5},
          {"rate", {0.8, 1.25}},
          {"keep_length", true},
          {"n_fft", 0},
          {"phase_locking", "identity"}}},
        {"seven_band_eq", {{"p", 0.5}, {"gain_db", {-12.0, 12.0}}, {"q", {0.5, 1.33}}}},
        {"filter",
         {{"p", 0.5},
          {"filter", "peaking"},
          {"frequency_hz", {50.0, 8000.0}},
          {"gain_db", {-12.0, 12.0}},
          {"q", {0.5, 2.0}}}},
        {"coloured_noise", {{"p", 0.5}, {"snr_db", {5.0, 40.0}}, {"beta", {0.0, 2.0}}}},
        {"background_noise",
         {{"p", 0.5}, {"snr_db", {5.0, 40.0}}, {"files", json::array()}, {"sample_rate", 0}}},
        {"gain", {{"p", 0.5}, {"gain_db", {-12.0, 12.0}}}},
        {"polarity", {{"p", 0.5}}},
        {"shift", {{"p", 0.5}, {"fraction", {-0.5, 0.5}}, {"seconds", nullptr}}},
        {"crop", {{"p", 1.0}, {"seconds", 0.0}}},
    };
    return defaults;
}

ParamRange get_range(const json& settings, const std::string& key, const std::string& context) {
    const json& value = settings.at(key);
    ParamRange range;
    if (value.is_number()) {
        range.min = range.max = value.get<double>();
    } else if (value.is_array() && value.size() == 2 && value[0].is_number() && value[1].is_number()) {
        range.min = value[0].get<double>();
        range.max = value[1].get<double>();
    } else {
        throw Error(context, "'" + key + "' must be a number or [min, max], got " + value.dump());
    }
    if (!(range.min <= range.max) || !std::isfinite(range.min) || !std::isfinite(range.max))
        throw Error(context, "'" + key + "' needs min <= max, got " + value.dump());
    return range;
}

void check_within(const ParamRange& range, double low, double high, const std::string& key,
                  const std::string& context) {
    if (range.min < low || range.max > high)
        throw Error(context, "'" + key + "' must lie within [" + std::to_string(low) + ", " +
                                 std::to_string(high) + "], got [" + std::to_string(range.min) + ", " +
                                 std::to_string(range.max) + "]");
}

PhaseLocking parse_locking(const json& value, const std::string& context) {
    const std::string name = value.is_string() ? value.get<std::string>() : "";
    if (name == "identity") return PhaseLocking::identity;
    if (name == "none") return PhaseLocking::none;
    throw Error(context, "'phase_locking' must be \"identity\" or \"none\", got " + value.dump());
}

double draw(Rng& rng, const ParamRange& range) {
    return rng.uniform(range.min, range.max);
}

double draw_log(Rng& rng, const ParamRange& range) {
    return std::exp(rng.uniform(std::log(range.min), std::log(range.max)));
}

AugmentTransform make_transform(const json& spec, std::size_t index, const std::filesystem::path& base_dir) {
    std::string context = "augmentation transform #" + std::to_string(index);
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
        throw Error(context, "must be an object with a \"type\" string, got " + spec.dump());
    AugmentTransform transform;
    transform.type = spec["type"].get<std::string>();
    context += " (" + transform.type + ")";
    const auto found = transform_defaults().find(transform.type);
    if (found == transform_defaults().end())
        throw Error(context,
                    "unknown type; expected pitch_shift, time_stretch, seven_band_eq, filter, "
                    "coloured_noise, background_noise, gain, polarity, shift or crop");
    json settings = found->second;
    for (const auto& [key, value] : spec.items()) {
        if (key == "type") continue;
        if (key == "color" && transform.type == "coloured_noise") {
            const double beta = parse_noise_beta(value.is_string() ? value.get<std::string>() : value.dump());
            settings["beta"] = {beta, beta};
            continue;
        }
        if (!settings.contains(key)) throw Error(context, "unknown key '" + key + "'");
        settings[key] = value;
    }
    if (!settings["p"].is_number()) throw Error(context, "'p' must be a number");
    transform.p = settings["p"].get<double>();
    if (!(transform.p >= 0.0 && transform.p <= 1.0)) throw Error(context, "'p' must lie in [0, 1]");

    const std::string& type = transform.type;
    if (type == "pitch_shift") {
        check_within(get_range(settings, "semitones", context), -24, 24, "semitones", context);
        parse_locking(settings["phase_locking"], context);
        if (!settings["resample_quality"].is_string())
            throw Error(context, "'resample_quality' must be a string, one of " + resample_quality_names());
        parse_resample_quality(settings["resample_quality"].get<std::string>());
    } else if (type == "time_stretch") {
        const ParamRange rate = get_range(settings, "rate", context);
        check_within(rate, min_stretch_rate, max_stretch_rate, "rate", context);
        parse_locking(settings["phase_locking"], context);
        if (!settings["keep_length"].is_boolean())
            throw Error(context, "'keep_length' must be true or false");
    } else if (type == "seven_band_eq") {
        const ParamRange q = get_range(settings, "q", context);
        check_within(get_range(settings, "gain_db", context), -40, 40, "gain_db", context);
        check_within(q, 0.05, 50, "q", context);
    } else if (type == "filter") {
        if (!settings["filter"].is_string()) throw Error(context, "'filter' must be a filter type name");
        parse_biquad_type(settings["filter"].get<std::string>());
        check_within(get_range(settings, "frequency_hz", context), 1, 1e6, "frequency_hz", context);
        check_within(get_range(settings, "gain_db", context), -40, 40, "gain_db", context);
        check_within(get_range(settings, "q", context), 0.05, 50, "q", context);
    } else if (type == "coloured_noise") {
        get_range(settings, "snr_db", context);
        check_within(get_range(settings, "beta", context), 0, 3, "beta", context);
    } else if (type == "background_noise") {
        get_range(settings, "snr_db", context);
        const json& files = settings["files"];
        if (!files.is_array() || files.empty())
            throw Error(context, "'files' must list at least one noise recording");
        if (!settings["sample_rate"].is_number_integer() || settings["sample_rate"].get<int>() <= 0)
            throw Error(context, "'sample_rate' must be the clips' sample rate (a positive integer)");
        transform.recording_sample_rate = settings["sample_rate"].get<int>();
        for (const json& file : files) {
            if (!file.is_string()) throw Error(context, "'files' entries must be paths");
            std::filesystem::path path = file.get<std::string>();
            if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
            Audio audio = load_audio(path, {.sample_rate = transform.recording_sample_rate, .mono = true});
            transform.recordings.push_back(std::move(audio.samples));
        }
    } else if (type == "gain") {
        get_range(settings, "gain_db", context);
    } else if (type == "shift") {
        check_within(get_range(settings, "fraction", context), -1, 1, "fraction", context);
        if (!settings["seconds"].is_null()) get_range(settings, "seconds", context);
    } else if (type == "crop") {
        if (!settings["seconds"].is_number() || !(settings["seconds"].get<double>() > 0.0))
            throw Error(context, "'seconds' (the crop length) must be a positive number");
    }
    transform.settings = std::move(settings);
    return transform;
}

// Applies one transform that fired, drawing its parameters; returns what it drew.
nlohmann::ordered_json run_transform(const AugmentTransform& t, std::vector<float>& audio, int sample_rate,
                                     Rng& rng) {
    const json& s = t.settings;
    const std::string& context = t.type;
    nlohmann::ordered_json record = {{"type", t.type}};
    if (t.type == "pitch_shift") {
        const double semitones = draw(rng, get_range(s, "semitones", context));
        PitchShiftOptions options;
        options.stretch.n_fft = s["n_fft"].get<int>();
        options.stretch.phase_locking = parse_locking(s["phase_locking"], context);
        options.resample_quality = parse_resample_quality(s["resample_quality"].get<std::string>());
        audio = pitch_shift(audio, sample_rate, semitones, options);
        record["semitones"] = semitones;
    } else if (t.type == "time_stretch") {
        const double rate = draw_log(rng, get_range(s, "rate", context));
        const std::size_t length = audio.size();
        audio = time_stretch(audio, rate,
                             {.sample_rate = sample_rate,
                              .n_fft = s["n_fft"].get<int>(),
                              .phase_locking = parse_locking(s["phase_locking"], context)});
        if (s["keep_length"].get<bool>()) fix_length(audio, length);
        record["rate"] = rate;
    } else if (t.type == "seven_band_eq") {
        const ParamRange gain = get_range(s, "gain_db", context), q = get_range(s, "q", context);
        const std::vector<BiquadDesign> bands = random_seven_band_eq(
            {.min_gain_db = gain.min, .max_gain_db = gain.max, .min_q = q.min, .max_q = q.max}, sample_rate,
            rng);
        apply_filters(audio, bands, sample_rate);
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& b : bands)
            list.push_back({{"filter", to_string(b.type)},
                            {"frequency_hz", b.frequency},
                            {"gain_db", b.gain_db},
                            {"q", b.q}});
        record["bands"] = list;
    } else if (t.type == "filter") {
        const ParamRange f = get_range(s, "frequency_hz", context), gain = get_range(s, "gain_db", context),
                         q = get_range(s, "q", context);
        const BiquadDesign design = random_filter({.type = parse_biquad_type(s["filter"].get<std::string>()),
                                                   .min_frequency = f.min,
                                                   .max_frequency = f.max,
                                                   .min_gain_db = gain.min,
                                                   .max_gain_db = gain.max,
                                                   .min_q = q.min,
                                                   .max_q = q.max},
                                                  sample_rate, rng);
        apply_filters(audio, std::span<const BiquadDesign>(&design, 1), sample_rate);
        record["filter"] = to_string(design.type);
        record["frequency_hz"] = design.frequency;
        record["gain_db"] = design.gain_db;
        record["q"] = design.q;
    } else if (t.type == "coloured_noise") {
        const double snr = draw(rng, get_range(s, "snr_db", context));
        const double beta = draw(rng, get_range(s, "beta", context));
        add_coloured_noise(audio, beta, snr, rng);
        record["snr_db"] = snr;
        record["beta"] = beta;
    } else if (t.type == "background_noise") {
        if (sample_rate != t.recording_sample_rate)
            throw Error("background_noise", "configured for " + std::to_string(t.recording_sample_rate) +
                                                " Hz clips, got a clip at " + std::to_string(sample_rate) +
                                                " Hz");
        const double snr = draw(rng, get_range(s, "snr_db", context));
        const std::size_t which = rng.below(t.recordings.size());
        const std::size_t offset = add_noise_recording(audio, t.recordings[which], snr, rng);
        record["snr_db"] = snr;
        record["file"] = s["files"][which].get<std::string>();
        record["offset"] = offset;
    } else if (t.type == "gain") {
        const double gain_db = draw(rng, get_range(s, "gain_db", context));
        apply_gain_db(audio, gain_db);
        record["gain_db"] = gain_db;
    } else if (t.type == "polarity") {
        invert_polarity(audio);
    } else if (t.type == "shift") {
        // "seconds", when given, replaces the fraction of the clip's length.
        const bool in_seconds = !s["seconds"].is_null();
        const double amount = draw(rng, get_range(s, in_seconds ? "seconds" : "fraction", context));
        const double scale = in_seconds ? sample_rate : static_cast<double>(audio.size());
        const auto samples = static_cast<std::int64_t>(std::llround(amount * scale));
        shift(audio, samples);
        record["samples"] = samples;
    } else if (t.type == "crop") {
        const auto length = static_cast<std::size_t>(std::llround(s["seconds"].get<double>() * sample_rate));
        std::int64_t start = 0;
        if (audio.size() > length) start = static_cast<std::int64_t>(rng.below(audio.size() - length + 1));
        audio = crop(audio, start, length);
        record["start"] = start;
        record["length"] = length;
    }
    return record;
}

}  // namespace

json AugmentPipeline::default_config() {
    return {{"transforms",
             {{{"type", "pitch_shift"}, {"p", 0.5}, {"semitones", {-4.0, 4.0}}},
              {{"type", "time_stretch"}, {"p", 0.5}, {"rate", {0.8, 1.25}}, {"keep_length", true}},
              {{"type", "seven_band_eq"}, {"p", 0.5}, {"gain_db", {-12.0, 12.0}}},
              {{"type", "coloured_noise"}, {"p", 0.5}, {"snr_db", {5.0, 40.0}}, {"beta", {0.0, 2.0}}},
              {{"type", "gain"}, {"p", 0.5}, {"gain_db", {-12.0, 12.0}}}}}};
}

AugmentPipeline::AugmentPipeline() : AugmentPipeline(default_config()) {}

AugmentPipeline::AugmentPipeline(const json& config, const std::filesystem::path& base_dir) {
    if (!config.is_object() || !config.contains("transforms") || !config["transforms"].is_array())
        throw Error("augmentation config", "must be an object with a \"transforms\" array");
    for (const auto& [key, value] : config.items())
        if (key != "transforms") throw Error("augmentation config", "unknown key '" + key + "'");
    std::size_t index = 0;
    for (const json& spec : config["transforms"])
        m_transforms.push_back(make_transform(spec, index++, base_dir));
}

AugmentPipeline AugmentPipeline::from_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw Error("augmentation config '" + path.string() + "'", "cannot be opened");
    json config;
    try {
        config = json::parse(in);
    } catch (const json::parse_error& e) {
        throw Error("augmentation config '" + path.string() + "'",
                    std::string("is not valid JSON: ") + e.what());
    }
    try {
        return AugmentPipeline(config, path.parent_path());
    } catch (const Error& e) {
        throw Error("augmentation config '" + path.string() + "'", e.what());
    }
}

json AugmentPipeline::to_json() const {
    json transforms = json::array();
    for (const auto& t : m_transforms) {
        json entry = {{"type", t.type}};
        entry.update(t.settings);
        transforms.push_back(entry);
    }
    return {{"transforms", transforms}};
}

AugmentResult AugmentPipeline::apply(std::span<const float> audio, int sample_rate, std::uint64_t seed,
                                     std::uint64_t clip_index, std::uint64_t epoch) const {
    AugmentResult result;
    result.audio.assign(audio.begin(), audio.end());
    run(result.audio, sample_rate, seed, clip_index, epoch, &result.applied);
    return result;
}

void AugmentPipeline::apply_in_place(std::vector<float>& audio, int sample_rate, std::uint64_t seed,
                                     std::uint64_t clip_index, std::uint64_t epoch) const {
    run(audio, sample_rate, seed, clip_index, epoch, nullptr);
}

void AugmentPipeline::run(std::vector<float>& audio, int sample_rate, std::uint64_t seed, std::uint64_t clip_index,
                          std::uint64_t epoch, nlohmann::ordered_json* applied) const {
    if (sample_rate <= 0) throw Error("augmentation", "sample rate must be positive");
    for (std::size_t i = 0; i < m_transforms.size(); ++i) {
        // Its own stream per transform: its draws do not depend on which other transforms fired.
        Rng rng(derive_seed(seed, clip_index, epoch, i));
        const AugmentTransform& transform = m_transforms[i];
        if (!rng.bernoulli(transform.p)) continue;
        if (audio.empty()) continue;
        nlohmann::ordered_json record = run_transform(transform, audio, sample_rate, rng);
        if (applied) applied->push_back(std::move(record));
    }
}

}  // namespace mtag::dsp
