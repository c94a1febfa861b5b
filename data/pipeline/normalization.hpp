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
// Standard deviations are population (ddof = 0, numpy's default); eps guards constant bins.
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
enum class NormalizationKind { per_bin, global, per_sample, none };

std::string to_string(NormalizationKind kind);

// What the model card stores and what every consumer applies.
struct Normalization {
    NormalizationKind kind = NormalizationKind::per_bin;
    std::vector<float> mean{};  // per bin (per_bin), one value (global), empty (per_sample)
    std::vector<float> std{};   // idem
    std::uint64_t count = 0;    // values per bin the statistics came from
    float eps = 1e-5f;          // lower bound of the divisor

    // From accumulated statistics (per_bin keeps every bin; global needs a one-bin accumulator).
    static Normalization from_stats(const RunningStats& stats, NormalizationKind kind);
    // Normalises a [bins, frames] matrix in place. Throws when the bins differ from the statistics.
    void apply(dsp::FloatMatrix& features) const;
    // Normalises a waveform (global or per_sample) in place.
    void apply(std::span<float> values) const;

    // {"kind": "per_bin", "count": N, "eps": 1e-5, "mean": [...], "std": [...]}
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
                                    NormalizationKind kind, int threads = 1);

}  // namespace mtag::data
