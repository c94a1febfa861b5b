#include "dsp/feature_config.hpp"

#include "dsp/error.hpp"
#include "dsp/json_integer.hpp"
#include "dsp/number_text.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

namespace mtag::dsp {

using nlohmann::json;

namespace {

// Bumped when the meaning of a key or the numerics behind a config change, so old caches miss.
constexpr int kConfigVersion = 1;
constexpr double kC1 = 32.70319566257483;  // librosa.note_to_hz('C1')

[[noreturn]] void bad(const std::string& where, const std::string& key, const std::string& problem) {
    throw Error(where, "'" + key + "' " + problem);
}

std::string json_type(const json& value) {
    return std::string(value.type_name()) + " " + value.dump();
}

int get_int(const json& value, const std::string& where, const std::string& key) {
    if (!json_is_integral(value)) bad(where, key, "must be an integer, got " + json_type(value));
    const std::optional<int> v = json_integer<int>(value);  // range-checked: 6e125 is an error, not UB
    if (!v) bad(where, key, "is out of range, got " + json_type(value));
    return *v;
}
double get_double(const json& value, const std::string& where, const std::string& key) {
    if (!value.is_number()) bad(where, key, "must be a number, got " + json_type(value));
    return value.get<double>();
}
bool get_bool(const json& value, const std::string& where, const std::string& key) {
    if (!value.is_boolean()) bad(where, key, "must be true or false, got " + json_type(value));
    return value.get<bool>();
}
std::string get_string(const json& value, const std::string& where, const std::string& key) {
    if (!value.is_string()) bad(where, key, "must be a string, got " + json_type(value));
    return value.get<std::string>();
}

// Stores one JSON value into a config; `key` names the value in error messages.
using Setter =
    std::function<void(FeatureConfig&, const json&, const std::string& where, const std::string& key)>;

// Setters for plain members; `null_value` (when given) is what JSON null means ("auto").
Setter int_field(int FeatureConfig::*member, std::optional<int> null_value = std::nullopt) {
    return [=](FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
        c.*member = v.is_null() && null_value ? *null_value : get_int(v, w, k);
    };
}
Setter double_field(double FeatureConfig::*member, std::optional<double> null_value = std::nullopt) {
    return [=](FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
        c.*member = v.is_null() && null_value ? *null_value : get_double(v, w, k);
    };
}
Setter bool_field(bool FeatureConfig::*member) {
    return [=](FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
        c.*member = get_bool(v, w, k);
    };
}
Setter string_field(std::string FeatureConfig::*member) {
    return [=](FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
        c.*member = get_string(v, w, k);
    };
}

void set_kind(FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
    c.kind = parse_feature_kind(get_string(v, w, k));
}
void set_mel_norm(FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
    c.mel_norm = v.is_null() ? "none" : get_string(v, w, k);  // librosa norm=None
}
void set_log(FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
    c.log = v.is_null() ? LogCompression::none : parse_log_compression(get_string(v, w, k));
}
void set_ref(FeatureConfig& c, const json& v, const std::string& w, const std::string& k) {
    if (v.is_string())
        c.ref = parse_db_ref(v.get<std::string>(), w + ": '" + k + "'");  // "max", or an older card's "1.0"
    else if (v.is_number())
        c.ref = DbRef{DbRef::Kind::value, v.get<double>()};
    else
        bad(w, k, "must be a positive number or \"max\", got " + json_type(v));
}
// Written by to_json for readers; checked, not stored.
void check_version(FeatureConfig&, const json& v, const std::string& w, const std::string& k) {
    if (get_int(v, w, k) != kConfigVersion)
        bad(w, k, "is " + v.dump() + " but this mtag reads version " + std::to_string(kConfigVersion));
}

// One setter per JSON key: the only place key names live besides to_json().
const std::map<std::string, Setter>& setters() {
    using C = FeatureConfig;
    static const std::map<std::string, Setter> table = {
        {"config_version", check_version},
        {"kind", set_kind},
        {"sample_rate", int_field(&C::sample_rate)},
        {"n_fft", int_field(&C::n_fft)},
        {"hop_length", int_field(&C::hop_length, 0)},
        {"win_length", int_field(&C::win_length, 0)},
        {"window", string_field(&C::window)},
        {"center", bool_field(&C::center)},
        {"pad_mode", string_field(&C::pad_mode)},
        {"power", double_field(&C::power)},
        {"n_mels", int_field(&C::n_mels)},
        {"fmin", double_field(&C::fmin, -1.0)},
        {"fmax", double_field(&C::fmax, 0.0)},
        {"htk", bool_field(&C::htk)},
        {"mel_norm", set_mel_norm},
        {"n_bins", int_field(&C::n_bins)},
        {"bins_per_octave", int_field(&C::bins_per_octave)},
        {"filter_scale", double_field(&C::filter_scale)},
        {"cqt_norm", double_field(&C::cqt_norm)},
        {"sparsity", double_field(&C::sparsity)},
        {"cqt_scale", bool_field(&C::cqt_scale)},
        {"n_mfcc", int_field(&C::n_mfcc)},
        {"lifter", double_field(&C::lifter)},
        {"log", set_log},
        {"ref", set_ref},
        {"amin", double_field(&C::amin, 0.0)},
        {"top_db", double_field(&C::top_db, -1.0)},
        {"log1p_c", double_field(&C::log1p_c)},
        {"db_input", string_field(&C::db_input)},
    };
    return table;
}

bool is_stft_kind(FeatureKind kind) {
    return kind != FeatureKind::cqt;
}
bool is_mel_kind(FeatureKind kind) {
    return kind == FeatureKind::mel || kind == FeatureKind::logmel || kind == FeatureKind::mfcc;
}

}  // namespace

std::string to_string(FeatureKind kind) {
    switch (kind) {
        case FeatureKind::stft:
            return "stft";
        case FeatureKind::mel:
            return "mel";
        case FeatureKind::logmel:
            return "logmel";
        case FeatureKind::cqt:
            return "cqt";
        case FeatureKind::mfcc:
            return "mfcc";
    }
    return "?";
}

std::string to_string(LogCompression log) {
    switch (log) {
        case LogCompression::db:
            return "db";
        case LogCompression::log1p:
            return "log1p";
        case LogCompression::none:
            return "none";
    }
    return "?";
}

FeatureKind parse_feature_kind(const std::string& name) {
    for (FeatureKind k :
         {FeatureKind::stft, FeatureKind::mel, FeatureKind::logmel, FeatureKind::cqt, FeatureKind::mfcc})
        if (to_string(k) == name) return k;
    throw Error("feature kind", "'" + name + "' is unknown (expected stft, mel, logmel, cqt or mfcc)");
}

LogCompression parse_log_compression(const std::string& name) {
    for (LogCompression l : {LogCompression::db, LogCompression::log1p, LogCompression::none})
        if (to_string(l) == name) return l;
    throw Error("log compression", "'" + name + "' is unknown (expected db, log1p or none)");
}

FeatureConfig FeatureConfig::defaults_for(FeatureKind kind) {
    FeatureConfig c;
    c.kind = kind;
    if (kind == FeatureKind::stft || kind == FeatureKind::mel || kind == FeatureKind::cqt)
        c.log = LogCompression::none;
    if (kind == FeatureKind::cqt) {
        c.sample_rate = 22050;
        c.hop_length = 512;
    }
    return c;
}

bool FeatureConfig::is_power() const {
    return kind != FeatureKind::cqt && power != 1.0;
}

bool FeatureConfig::db_of_power() const {
    return db_input == "auto" ? is_power() : db_input == "power";
}

double FeatureConfig::ref_value() const { return ref.is_max() ? 0.0 : ref.value; }

DbRef parse_db_ref(const std::string& text, const std::string& where) {
    if (text == "max") return DbRef::max();
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size()) return DbRef{DbRef::Kind::value, value};
    } catch (const std::exception&) {
    }
    throw Error(where, "must be a positive number or \"max\", got '" + text + "'");
}

FeatureConfig FeatureConfig::resolved() const {
    FeatureConfig c = *this;
    if (c.win_length == 0) c.win_length = c.n_fft;
    if (c.hop_length == 0) c.hop_length = std::max(1, c.win_length / 4);
    if (c.fmin < 0) c.fmin = c.kind == FeatureKind::cqt ? kC1 : 0.0;
    if (c.fmax == 0) c.fmax = c.sample_rate / 2.0;
    if (c.amin == 0) c.amin = c.db_of_power() ? 1e-10 : 1e-5;
    c.validate();
    return c;
}

void FeatureConfig::validate() const {
    const std::string w = "feature config";
    if (sample_rate < 1000 || sample_rate > 768000)
        bad(w, "sample_rate", std::to_string(sample_rate) + " is outside 1000..768000 Hz");
    if (hop_length < 0)
        bad(w, "hop_length", "must be positive (or 0 for win_length/4), got " + std::to_string(hop_length));
    if (window != "hann" && window != "hamming" && window != "blackman" && window != "rectangular")
        bad(w, "window", "'" + window + "' is unknown (expected hann, hamming, blackman or rectangular)");
    if (pad_mode != "constant" && pad_mode != "reflect")
        bad(w, "pad_mode", "'" + pad_mode + "' is unknown (expected constant or reflect)");
    const double nyquist = sample_rate / 2.0;
    if (is_stft_kind(kind)) {
        if (n_fft < 8 || n_fft > 65536) bad(w, "n_fft", std::to_string(n_fft) + " is outside 8..65536");
        if (win_length < 0 || win_length > n_fft)
            bad(w, "win_length",
                std::to_string(win_length) + " must be in 1..n_fft (" + std::to_string(n_fft) + ")");
        if (!(power > 0))
            bad(w, "power", "must be positive (1 magnitude, 2 power), got " + number_text(power));
    }
    if (is_mel_kind(kind)) {
        if (n_mels < 1 || n_mels > 1024) bad(w, "n_mels", std::to_string(n_mels) + " is outside 1..1024");
        if (fmax < 0 || fmax > nyquist)
            bad(w, "fmax", number_text(fmax) + " Hz exceeds Nyquist " + number_text(nyquist) + " Hz");
        const double top = fmax == 0 ? nyquist : fmax;
        if (fmin >= top)
            bad(w, "fmin", number_text(fmin) + " Hz must be below fmax " + number_text(top) + " Hz");
        if (mel_norm != "slaney" && mel_norm != "none")
            bad(w, "mel_norm", "'" + mel_norm + "' is unknown (expected slaney or none)");
    }
    if (kind == FeatureKind::cqt) {
        if (n_bins < 1 || n_bins > 1024) bad(w, "n_bins", std::to_string(n_bins) + " is outside 1..1024");
        if (bins_per_octave < 1 || bins_per_octave > 96)
            bad(w, "bins_per_octave", std::to_string(bins_per_octave) + " is outside 1..96");
        const double low = fmin < 0 ? kC1 : fmin;
        if (!(low > 0)) bad(w, "fmin", "must be positive for cqt, got " + number_text(fmin));
        const double top = low * std::pow(2.0, (n_bins - 1) / static_cast<double>(bins_per_octave));
        if (top >= nyquist)
            bad(w, "n_bins",
                "puts the top bin at " + number_text(top) + " Hz, at or above Nyquist " +
                    number_text(nyquist) + " Hz (lower n_bins or fmin, or raise sample_rate)");
        if (!(filter_scale > 0)) bad(w, "filter_scale", "must be positive, got " + number_text(filter_scale));
        if (sparsity < 0 || sparsity >= 1) bad(w, "sparsity", number_text(sparsity) + " is outside [0, 1)");
        if (!(cqt_norm > 0)) bad(w, "cqt_norm", "must be positive, got " + number_text(cqt_norm));
    }
    if (kind == FeatureKind::mfcc) {
        if (n_mfcc < 1 || n_mfcc > n_mels)
            bad(w, "n_mfcc",
                std::to_string(n_mfcc) + " must be in 1..n_mels (" + std::to_string(n_mels) + ")");
        if (lifter < 0) bad(w, "lifter", "must be >= 0, got " + number_text(lifter));
        if (log != LogCompression::db)
            bad(w, "log", "must be db for mfcc (MFCCs are taken of the dB mel spectrogram)");
    }
    if (kind == FeatureKind::logmel && log == LogCompression::none)
        bad(w, "log", "is none for logmel (use kind mel for a linear mel spectrogram)");
    if (log == LogCompression::db) {
        if (!ref.is_max() && !(ref.value > 0))
            bad(w, "ref", "must be positive or \"max\", got " + number_text(ref.value));
        if (amin < 0) bad(w, "amin", "must be positive (or 0 for auto), got " + number_text(amin));
        if (db_input != "auto" && db_input != "power" && db_input != "amplitude")
            bad(w, "db_input", "'" + db_input + "' is unknown (expected auto, power or amplitude)");
    }
    if (log == LogCompression::log1p && !(log1p_c > 0))
        bad(w, "log1p_c", "must be positive, got " + number_text(log1p_c));
}

int FeatureConfig::bins() const {
    switch (kind) {
        case FeatureKind::stft:
            return n_fft / 2 + 1;
        case FeatureKind::mel:
        case FeatureKind::logmel:
            return n_mels;
        case FeatureKind::cqt:
            return n_bins;
        case FeatureKind::mfcc:
            return n_mfcc;
    }
    return 0;
}

std::int64_t FeatureConfig::frames_for(std::int64_t samples) const {
    const FeatureConfig c = resolved();
    if (c.center || c.kind == FeatureKind::cqt) return 1 + samples / c.hop_length;
    if (samples < c.n_fft) return 0;
    return 1 + (samples - c.n_fft) / c.hop_length;
}

json FeatureConfig::to_json() const {
    const FeatureConfig c = resolved();
    json j;
    j["config_version"] = kConfigVersion;
    j["kind"] = to_string(c.kind);
    j["sample_rate"] = c.sample_rate;
    j["n_fft"] = c.n_fft;
    j["hop_length"] = c.hop_length;
    j["win_length"] = c.win_length;
    j["window"] = c.window;
    j["center"] = c.center;
    j["pad_mode"] = c.pad_mode;
    j["power"] = c.power;
    j["n_mels"] = c.n_mels;
    j["fmin"] = c.fmin;
    j["fmax"] = c.fmax;
    j["htk"] = c.htk;
    j["mel_norm"] = c.mel_norm;
    j["n_bins"] = c.n_bins;
    j["bins_per_octave"] = c.bins_per_octave;
    j["filter_scale"] = c.filter_scale;
    j["cqt_norm"] = c.cqt_norm;
    j["sparsity"] = c.sparsity;
    j["cqt_scale"] = c.cqt_scale;
    j["n_mfcc"] = c.n_mfcc;
    j["lifter"] = c.lifter;
    j["log"] = to_string(c.log);
    j["ref"] = c.ref.is_max() ? json("max") : json(c.ref.value);
    j["amin"] = c.amin;
    j["top_db"] = c.top_db < 0 ? json(nullptr) : json(c.top_db);
    j["log1p_c"] = c.log1p_c;
    j["db_input"] = c.db_input;
    return j;
}

json FeatureConfig::canonical_json() const {
    const json full = to_json();
    std::vector<std::string> keys = {"config_version", "kind",     "sample_rate", "hop_length",
                                     "center",         "pad_mode", "log"};
    if (is_stft_kind(kind)) keys.insert(keys.end(), {"n_fft", "win_length", "window", "power"});
    if (is_mel_kind(kind)) keys.insert(keys.end(), {"n_mels", "fmin", "fmax", "htk", "mel_norm"});
    if (kind == FeatureKind::cqt)
        keys.insert(keys.end(), {"fmin", "n_bins", "bins_per_octave", "filter_scale", "cqt_norm", "sparsity",
                                 "cqt_scale", "window"});
    if (kind == FeatureKind::mfcc) keys.insert(keys.end(), {"n_mfcc", "lifter"});
    if (log == LogCompression::db) keys.insert(keys.end(), {"ref", "amin", "top_db"});
    // Hashed only when set, so the hashes of configs written before the key existed do not change.
    if (log == LogCompression::db && db_input != "auto") keys.push_back("db_input");
    if (log == LogCompression::log1p) keys.push_back("log1p_c");
    json j = json::object();
    for (const std::string& key : keys) j[key] = full.at(key);
    return j;
}

std::string FeatureConfig::hash() const {
    // ref: FNV-1a, 64-bit offset basis and prime (Fowler, Noll, Vo).
    const std::string text = canonical_json().dump();
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char byte : text) {
        h ^= byte;
        h *= 0x100000001b3ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

FeatureConfig FeatureConfig::from_json(const json& j, const std::string& where) {
    if (!j.is_object()) throw Error(where, "must be a JSON object, got " + json_type(j));
    FeatureKind kind = FeatureKind::logmel;
    if (j.contains("kind")) kind = parse_feature_kind(get_string(j.at("kind"), where, "kind"));
    FeatureConfig c = defaults_for(kind);
    const auto& table = setters();
    for (const auto& [key, value] : j.items()) {
        const auto it = table.find(key);
        if (it == table.end()) {
            std::string known;
            for (const auto& [name, setter] : table) known += (known.empty() ? "" : ", ") + name;
            throw Error(where, "unknown key '" + key + "' (known keys: " + known + ")");
        }
        try {
            it->second(c, value, where, key);
        } catch (const Error& e) {
            const std::string message = e.what();
            if (message.rfind(where, 0) == 0) throw;
            throw Error(where, "'" + key + "': " + message);
        }
    }
    try {
        c.resolved();
    } catch (const Error& e) {
        throw Error(where, e.what());
    }
    return c;
}

FeatureConfig FeatureConfig::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error("feature config '" + path + "'", "cannot be opened");
    json j;
    try {
        j = json::parse(in);
    } catch (const json::parse_error& e) {
        throw Error("feature config '" + path + "'", std::string("is not valid JSON: ") + e.what());
    }
    // features.json written by `mtag extract` holds the config under "config".
    if (j.is_object() && j.contains("config") && j.contains("outputs")) j = j.at("config");
    return from_json(j, "feature config '" + path + "'");
}

void FeatureConfig::save(const std::string& path) const {
    std::ofstream out(path);
    out << to_json().dump(2) << "\n";
    if (!out) throw Error("feature config '" + path + "'", "cannot be written");
}

bool FeatureConfig::operator==(const FeatureConfig& other) const {
    return to_json() == other.to_json();
}

}  // namespace mtag::dsp
