#pragma once
// Whitening of frequency bins (input normalisation "pca_whiten"): the bins x bins covariance of the
// training frames, accumulated in double in one streaming pass, and the matrix W that makes it the
// identity. Each frame x (one column of a [bins, frames] matrix) becomes W (x - mean):
//
//   C = U diag(l) U^T  (LAPACK dsyevd, from OpenBLAS)      d = 1 / sqrt(l + eps * mean(l))
//   zca: W = U diag(d) U^T  -- the whitening closest to the identity (Bell & Sejnowski 1997): output rows
//                              stay frequency bins, so convolutions over frequency still see a spectrum
//   pca: W = diag(d) U^T    -- output rows are the principal components by decreasing variance, as
//                              sklearn.decomposition.PCA(whiten=True).transform, except that the covariance
//                              is the population one (ddof 0; sklearn divides by n - 1) and each eigenvector's
//                              sign is fixed so that its largest-magnitude entry is positive (sklearn 1.2
//                              decides signs from the projected data instead)
//
// eps is relative to the mean eigenvalue (the average per-bin variance), so one default suits dB and
// log1p features alike; directions with no variance at all (constant bins) map to 0. Eigenvalues below 0
// (rounding) count as 0. ref: Kessy, Lewin & Strimmer 2018, "Optimal whitening and decorrelation".
#include "dsp/matrix.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mtag::data {

// Mean and co-moment matrix of frames, combined batch by batch (Chan, Golub & LeVeque 1979, extended
// to cross products), so the result does not depend on how the frames were split.
class RunningCovariance {
  public:
    explicit RunningCovariance(std::size_t bins = 0);
    // Adds every frame (column) of a [bins, frames] matrix. Throws when the row count differs.
    void add(const dsp::FloatMatrix& features);
    void merge(const RunningCovariance& other);

    std::size_t bins() const { return m_mean.size(); }
    std::uint64_t count() const { return m_count; }
    const std::vector<double>& mean() const { return m_mean; }
    // Population covariance (ddof = 0), row-major bins x bins.
    std::vector<double> covariance() const;

  private:
    std::vector<double> m_mean;
    std::vector<double> m_comoment;  // sum of (x - mean)(x - mean)^T, row-major
    std::uint64_t m_count = 0;
};

enum class WhitenMethod { zca, pca };
std::string to_string(WhitenMethod method);
// "zca" or "pca"; throws naming `where`.
WhitenMethod parse_whiten_method(const std::string& name, const std::string& where);

// W (row-major bins x bins) for a covariance; throws mtag::Error when LAPACK fails.
std::vector<double> whitening_matrix(const std::vector<double>& covariance, std::size_t bins,
                                     WhitenMethod method, double eps);

}  // namespace mtag::data
