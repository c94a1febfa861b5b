#pragma once
// Log compression of spectrograms, in place: decibels (ref: librosa.power_to_db / amplitude_to_db,
// librosa 0.11 semantics) and log(1 + C x) (Dieleman & Schrauwen 2014; musicnn).
//
// Conventions a reader could guess wrong:
// - power_to_db expects a POWER spectrogram (|X|^2, 10 log10); amplitude_to_db a MAGNITUDE one (20 log10).
// - top_db clips to (max - top_db) where max is the maximum over the WHOLE input passed in, in dB after
//   the reference is applied. When a long signal is processed in blocks, convert each block with
//   top_db disabled, track the maximum, then call apply_top_db on everything (what librosa would do on the
//   whole array).
// - log10 is evaluated with a vectorised polynomial accurate to about 1e-7 relative (float rounding),
//   not by std::log10, so results can differ from librosa's float32 in the last bit or two.
#include "dsp/matrix.hpp"

#include <optional>
#include <span>

namespace mtag::dsp {

// The dB reference: a fixed value (librosa ref=1.0) or the input's maximum (ref=np.max, giving 0 dB peaks).
struct DbReference {
    DbReference(float v = 1.0f) : value(v) {}  // implicit: power_to_db(S, 1.0f)
    static DbReference max() {
        DbReference r;
        r.use_max = true;
        return r;
    }
    float value = 1.0f;    // used when use_max is false; its absolute value is taken, as librosa
    bool use_max = false;
};

// S <- 10 log10(max(amin, S)) - 10 log10(max(amin, ref)), then clipped below at max - top_db.
// amin > 0 and top_db >= 0 (or std::nullopt to disable) are checked (mtag::Error).
void power_to_db(std::span<float> S, DbReference ref = 1.0f, float amin = 1e-10f,
                 std::optional<float> top_db = 80.0f);
void power_to_db(FloatMatrix& S, DbReference ref = 1.0f, float amin = 1e-10f,
                 std::optional<float> top_db = 80.0f);

// S <- 20 log10(max(amin, |S|)) - 20 log10(max(amin, ref)), then top_db clipping, i.e.
// power_to_db(S^2, ref^2, amin^2, top_db) as librosa computes it.
void amplitude_to_db(std::span<float> S, DbReference ref = 1.0f, float amin = 1e-5f,
                     std::optional<float> top_db = 80.0f);
void amplitude_to_db(FloatMatrix& S, DbReference ref = 1.0f, float amin = 1e-5f,
                     std::optional<float> top_db = 80.0f);

// db <- max(db, max_db - top_db): the top_db step on its own, for blockwise processing.
void apply_top_db(std::span<float> db, float max_db, float top_db);

// S <- log(1 + C S) (natural log), C > 0; 10000 as in Dieleman & Schrauwen 2014 and musicnn. S is a
// magnitude or power spectrogram (>= 0); negative values are treated as 0.
void log1p_compress(std::span<float> S, float C = 10000.0f);
void log1p_compress(FloatMatrix& S, float C = 10000.0f);

// x <- log10(x) for x >= FLT_MIN (normal positive floats), vectorised; exposed for tests and fused users.
void log10_normal(std::span<float> x);

}  // namespace mtag::dsp
