#pragma once
// A JSON number read as an integer of type T, range-checked before any conversion. Every config reader
// (feature configs, training configs) goes through it: converting a double outside T's range is undefined
// behaviour, and a 64-bit integer narrowed to int wraps silently -- both were found by the fuzzers
// (tests/fuzz: train_config, feature_config), where 6e125 or 2^40 reached a cast.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace mtag::dsp {

// True when `j` is an integer, or a float with no fractional part (JSON writers print 512 as 512.0).
inline bool json_is_integral(const nlohmann::json& j) {
    return j.is_number_integer() || (j.is_number_float() && std::floor(j.get<double>()) == j.get<double>());
}

// `j` as a T, or nullopt when it is not integral or does not fit in T. Floats beyond 2^53 are refused too:
// above it a double no longer holds every integer, so the value may not be the one the user wrote.
template <class T>
std::optional<T> json_integer(const nlohmann::json& j) {
    if (!json_is_integral(j)) return std::nullopt;
    if (j.is_number_unsigned()) {
        const std::uint64_t v = j.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
        return static_cast<T>(v);
    }
    if (j.is_number_integer()) {
        const std::int64_t v = j.get<std::int64_t>();
        if (std::is_unsigned_v<T> ? v < 0 || static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                                  : v < static_cast<std::int64_t>(std::numeric_limits<T>::lowest()) ||
                                        v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
            return std::nullopt;
        return static_cast<T>(v);
    }
    const double v = j.get<double>();
    if (!(v >= static_cast<double>(std::numeric_limits<T>::lowest()) && v <= static_cast<double>(std::numeric_limits<T>::max()) &&
          std::fabs(v) < 9007199254740992.0))
        return std::nullopt;
    return static_cast<T>(v);
}

}  // namespace mtag::dsp
