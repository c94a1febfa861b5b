#pragma once
// Normalisation statistics of model inputs, computed from the training split only, in one streaming
// pass, stored in the model card (JSON) and applied unchanged to validation, test and tagging.
//
//  - per_bin: mean and standard deviation per frequency bin (row) of the log features, over all frames
//    of all training clips; x[b, t] -> (x[b, t] - mean[b]) / max(std[b], eps).
//  - global: one mean and standard deviation over every value (e.g. the waveform samples of the
//    training clips, for waveform models).
//  - per_sample: nothing is learned; each input is standardised by its own mean and std at apply time
//    (instance normalisation of waveforms).
//  - mean: the per-bin mean only, subtracted, no scaling (x[b, t] - mean[b]); one mean for a waveform.
//  - pca_whiten: the frames decorrelated and scaled to unit variance, x[:, t] -> W (x[:, t] - mean) with W
//    the ZCA (default) or PCA whitening matrix of the training frames' bins x bins covariance
//    (data/pipeline/whitening.hpp); spectrogram models only.
// Standard deviations are population (ddof = 0, numpy's default); eps guards constant bins.
#include "data/pipeline/whitening.hpp"
#include "data/sets/dataset.hpp"
#include "dsp/matrix.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace mtag::data {

// Mean and sum of squared deviations per bin, updated batch by batch in double precision.
// ref: Welford 1962; Chan, Golub & LeVeque 1979 (pairwise combination of partial statistics)
class RunningStats {
  public:
    explicit RunningStats(std::size_t bins = 0);

    // Adds the frames of a [bins, frames] matrix: row b updates bin b. Throws when the row count differs.
    void add(const dsp::FloatMatrix& features);
    // Adds values to bin `bin` (a waveform to bin 0 of a one-bin accumulator).
    void add(std::span<const float> values, std::size_t bin = 0);
    // Combines another accumulator's statistics into this one (same bins).
    void merge(const RunningStats& other);

    std::size_t bins() const { return m_mean.size(); }
    // Values seen per bin (equal for all bins when only matrices were added).
    std::uint64_t count(std::size_t bin = 0) const { return m_count.empty() ? 0 : m_count[bin]; }
    const std::vector<double>& mean() const { return m_mean; }
    // Population variance per bin.
    std::vector<double> variance() const;

  private:
    std::vector<double> m_mean;
    std::vector<double> m_m2;  // sum of squared deviations from the mean
    std::vector<std::uint64_t> m_count;
};

// none: inputs go to the model as the front end gives them (imported models trained without statistics).
enum class NormalizationKind { per_bin, global, per_sample, none, mean, pca_whiten };

std::string to_string(NormalizationKind kind);
// "per_bin", "global", "per_sample", "none", "mean", "pca_whiten"; throws naming `where` and the valid names.
NormalizationKind parse_normalization_kind(const std::string& name, const std::string& where);

// What a training run asks for (the config's "normalization" and "whitening").
struct NormalizationOptions {
    NormalizationKind kind = NormalizationKind::per_bin;
    WhitenMethod method = WhitenMethod::zca;  // pca_whiten only
    double eps = 1e-5;                        // pca_whiten only: added to the eigenvalues, x mean eigenvalue
};

// What the model card stores and what every consumer applies.
struct Normalization {
    NormalizationKind kind = NormalizationKind::per_bin;
    std::vector<float> mean{};  // per bin (per_bin, mean, pca_whiten), one value (global), empty (per_sample)
    std::vector<float> std{};   // per bin (per_bin), one value (global), empty otherwise
    // pca_whiten: W, bins x bins row-major (output row r = sum over bins b of W[r, b] * (x[b] - mean[b])).
    std::vector<float> whitening{};
    WhitenMethod method = WhitenMethod::zca;  // pca_whiten: how W was made (recorded for the card)
    double whiten_eps = 1e-5;                 // pca_whiten: the relative eps W was made with
    std::uint64_t count = 0;    // values per bin the statistics came from
    float eps = 1e-5f;          // lower bound of the divisor

    // From accumulated statistics (per_bin and mean keep every bin; global needs a one-bin accumulator).
    static Normalization from_stats(const RunningStats& stats, NormalizationKind kind);
    // pca_whiten from the covariance of the training frames.
    static Normalization from_covariance(const RunningCovariance& stats, WhitenMethod method, double eps);
    // Normalises a [bins, frames] matrix in place. Throws when the bins differ from the statistics.
    void apply(dsp::FloatMatrix& features) const;
    // Normalises a waveform (global or per_sample) in place.
    void apply(std::span<float> values) const;

    // {"kind": "per_bin", "count": N, "eps": 1e-5, "mean": [...], "std": [...]}; pca_whiten adds
    // "whitening": [bins * bins], "method" and "whiten_eps".
    nlohmann::json to_json() const;
    // Checks kind, sizes and values; throws mtag::Error saying what was got and expected.
    static Normalization from_json(const nlohmann::json& json);
};

// Computes the features of one clip (decode + front end, no augmentation).
using ClipFeatureFn = std::function<dsp::FloatMatrix(const Clip&)>;

// Statistics over the training split only: `features` is called once per training clip and never for
// a valid or test clip. Clips are processed in blocks on `threads` threads and merged in dataset
// order, so the result does not depend on the thread count. per_sample returns empty statistics
// without touching the data.
Normalization compute_normalization(const Dataset& dataset, const ClipFeatureFn& features,
                                    const NormalizationOptions& options, int threads = 1);
inline Normalization compute_normalization(const Dataset& dataset, const ClipFeatureFn& features,
                                           NormalizationKind kind, int threads = 1) {
    return compute_normalization(dataset, features, NormalizationOptions{.kind = kind}, threads);
}

}  // namespace mtag::data
