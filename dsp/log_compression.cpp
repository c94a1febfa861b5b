#include "dsp/log_compression.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace mtag::dsp {

namespace {

// Natural log of a normal positive float as exponent * ln 2 + log(m), m in [sqrt(1/2), sqrt(2)), with
// log(m) = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716, summed to s^11 (truncation < 3e-9).
// Branch-free so the compiler vectorises the loops that call it.
inline void log_parts(float x, float& exponent, float& log_mantissa) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
    std::int32_t e = static_cast<std::int32_t>(bits >> 23) - 127;
    float m = std::bit_cast<float>((bits & 0x007fffffu) | 0x3f800000u);
    const bool big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    e += big ? 1 : 0;
    const float s = (m - 1.0f) / (m + 1.0f);
    const float s2 = s * s;
    const float series =
        1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11)))));
    exponent = static_cast<float>(e);
    log_mantissa = 2.0f * s * series;
}

// log10(2) and ln(2) split into a head exact in a few bits (so exponent * head is exact) and a tail.
constexpr float kLog10_2Hi = 0.30102539062f;
constexpr float kLog10_2Lo = 4.6050389811952e-06f;
constexpr float kLog10E = 0.43429448190325176f;
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.428606765330187e-06f;

inline float fast_log10(float x) {
    float e, lm;
    log_parts(x, e, lm);
    return e * kLog10_2Hi + (e * kLog10_2Lo + lm * kLog10E);
}

inline float fast_log(float x) {
    float e, lm;
    log_parts(x, e, lm);
    return e * kLn2Hi + (e * kLn2Lo + lm);
}

void check_db_args(const char* what, float amin, std::optional<float> top_db) {
    if (!(amin > 0.0f)) throw Error(what, "amin must be positive, got " + std::to_string(amin));
    if (top_db && !(*top_db >= 0.0f)) throw Error(what, "top_db must be non-negative, got " + std::to_string(*top_db));
}

float max_of(std::span<const float> x) {
    float m = -std::numeric_limits<float>::infinity();
    for (float v : x) m = std::max(m, v);
    return m;
}

// The shared core: S <- scale * log10(max(amin, S)) - offset, then optional top_db.
void to_db(std::span<float> S, float scale, float amin, float offset, std::optional<float> top_db) {
    float* p = S.data();
    const std::size_t n = S.size();
    if (amin >= std::numeric_limits<float>::min()) {
        for (std::size_t i = 0; i < n; ++i) p[i] = scale * fast_log10(std::max(amin, p[i])) - offset;
    } else {  // subnormal floor: the bit tricks assume normal floats
        for (std::size_t i = 0; i < n; ++i) p[i] = scale * std::log10(std::max(amin, p[i])) - offset;
    }
    if (top_db && n > 0) apply_top_db(S, max_of(S), *top_db);
}

float reference_value(std::span<const float> S, DbReference ref, bool magnitude) {
    if (!ref.use_max) return std::abs(ref.value);
    if (S.empty()) return 1.0f;
    if (!magnitude) return max_of(S);
    float m = 0.0f;
    for (float v : S) m = std::max(m, std::abs(v));
    return m;
}

}  // namespace

void log10_normal(std::span<float> x) {
    for (float& v : x) v = fast_log10(v);
}

void apply_top_db(std::span<float> db, float max_db, float top_db) {
    const float floor = max_db - top_db;
    for (float& v : db) v = std::max(v, floor);
}

void power_to_db(std::span<float> S, DbReference ref, float amin, std::optional<float> top_db) {
    check_db_args("power_to_db", amin, top_db);
    const float r = reference_value(S, ref, false);
    to_db(S, 10.0f, amin, 10.0f * std::log10(std::max(amin, r)), top_db);
}

void power_to_db(FloatMatrix& S, DbReference ref, float amin, std::optional<float> top_db) {
    power_to_db(std::span<float>(S.data), ref, amin, top_db);
}

void amplitude_to_db(std::span<float> S, DbReference ref, float amin, std::optional<float> top_db) {
    check_db_args("amplitude_to_db", amin, top_db);
    const float r = reference_value(S, ref, true);
    // ref: librosa.amplitude_to_db squares magnitude, ref and amin and calls power_to_db; 20 log10 |x| with
    // the floor amin is the same thing without squaring (which would underflow amin^2 for tiny amin).
    for (float& v : S) v = std::abs(v);
    to_db(S, 20.0f, amin, 20.0f * std::log10(std::max(amin, r)), top_db);
}

void amplitude_to_db(FloatMatrix& S, DbReference ref, float amin, std::optional<float> top_db) {
    amplitude_to_db(std::span<float>(S.data), ref, amin, top_db);
}

void log1p_compress(std::span<float> S, float C) {
    if (!(C > 0.0f)) throw Error("log1p compression", "C must be positive, got " + std::to_string(C));
    for (float& v : S) {
        // log1p(y) = log(u) + (y - (u - 1)) / u with u = 1 + y rounded: recovers the bits lost in 1 + y.
        const float y = std::max(0.0f, C * v);
        const float u = 1.0f + y;
        v = fast_log(u) + (y - (u - 1.0f)) / u;
    }
}

void log1p_compress(FloatMatrix& S, float C) { log1p_compress(std::span<float>(S.data), C); }

}  // namespace mtag::dsp
