#include "data/pipeline/whitening.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>

// LAPACK from OpenBLAS: symmetric eigendecomposition (divide and conquer). The two trailing arguments are
// the hidden lengths of the character arguments (gfortran's calling convention).
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                        double* w, double* work, const int* lwork, int* iwork, const int* liwork, int* info,
                        std::size_t, std::size_t);

namespace mtag::data {

RunningCovariance::RunningCovariance(std::size_t bins) : m_mean(bins, 0.0), m_comoment(bins * bins, 0.0) {}

void RunningCovariance::add(const dsp::FloatMatrix& features) {
    const std::size_t n = bins();
    if (features.rows != n)
        throw Error("whitening statistics", "features have " + std::to_string(features.rows) +
                                                " bins, expected " + std::to_string(n));
    const std::size_t frames = features.cols;
    if (frames == 0) return;
    // The batch's own mean and co-moment (two passes, double), then Chan's combination.
    RunningCovariance batch(n);
    batch.m_count = frames;
    for (std::size_t b = 0; b < n; ++b) {
        double s = 0;
        for (float v : features.row(b)) s += v;
        batch.m_mean[b] = s / static_cast<double>(frames);
    }
    std::vector<double> centred(n * frames);
    for (std::size_t b = 0; b < n; ++b) {
        const auto row = features.row(b);
        for (std::size_t t = 0; t < frames; ++t) centred[b * frames + t] = row[t] - batch.m_mean[b];
    }
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = a; b < n; ++b) {
            const double* x = &centred[a * frames];
            const double* y = &centred[b * frames];
            double s = 0;
            for (std::size_t t = 0; t < frames; ++t) s += x[t] * y[t];
            batch.m_comoment[a * n + b] = batch.m_comoment[b * n + a] = s;
        }
    merge(batch);
}

void RunningCovariance::merge(const RunningCovariance& other) {
    const std::size_t n = bins();
    if (other.bins() != n)
        throw Error("whitening statistics",
                    "cannot merge " + std::to_string(other.bins()) + " bins into " + std::to_string(n));
    if (other.m_count == 0) return;
    const double n_a = static_cast<double>(m_count), n_b = static_cast<double>(other.m_count);
    const double total = n_a + n_b;
    std::vector<double> delta(n);
    for (std::size_t b = 0; b < n; ++b) delta[b] = other.m_mean[b] - m_mean[b];
    const double w = n_a * n_b / total;
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = 0; b < n; ++b)
            m_comoment[a * n + b] += other.m_comoment[a * n + b] + delta[a] * delta[b] * w;
    for (std::size_t b = 0; b < n; ++b) m_mean[b] += delta[b] * n_b / total;
    m_count += other.m_count;
}

std::vector<double> RunningCovariance::covariance() const {
    std::vector<double> c(m_comoment.size(), 0.0);
    if (m_count == 0) return c;
    for (std::size_t i = 0; i < c.size(); ++i) c[i] = m_comoment[i] / static_cast<double>(m_count);
    return c;
}

std::string to_string(WhitenMethod method) {
    return method == WhitenMethod::zca ? "zca" : "pca";
}

WhitenMethod parse_whiten_method(const std::string& name, const std::string& where) {
    if (name == "zca") return WhitenMethod::zca;
    if (name == "pca") return WhitenMethod::pca;
    throw Error(where, "whitening method '" + name + "', expected zca or pca");
}

std::vector<double> whitening_matrix(const std::vector<double>& covariance, std::size_t bins,
                                     WhitenMethod method, double eps) {
    if (covariance.size() != bins * bins || bins == 0)
        throw Error("whitening", "covariance of " + std::to_string(covariance.size()) + " values for " +
                                     std::to_string(bins) + " bins");
    if (!(eps > 0)) throw Error("whitening", "eps = " + std::to_string(eps) + ", expected > 0");
    const int n = static_cast<int>(bins);
    std::vector<double> u = covariance;  // symmetric: row- and column-major alike
    std::vector<double> l(bins);
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0;
    dsyevd_("V", "U", &n, u.data(), &n, l.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
    lwork = std::max(1, static_cast<int>(work_query));
    liwork = std::max(1, iwork_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    dsyevd_("V", "U", &n, u.data(), &n, l.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
    if (info != 0) throw Error("whitening", "LAPACK dsyevd failed (info " + std::to_string(info) + ")");
    // Column j of u (column-major) is the eigenvector of l[j]; LAPACK sorts l ascending.
    double mean_l = 0;
    for (double& v : l) {
        v = std::max(v, 0.0);
        mean_l += v;
    }
    mean_l /= static_cast<double>(bins);
    if (!(mean_l > 0))
        throw Error("whitening", "the training features have no variance at all (every bin constant)");
    const double floor = eps * mean_l;
    std::vector<double> d(bins);
    for (std::size_t j = 0; j < bins; ++j) {
        d[j] = l[j] > 0 ? 1.0 / std::sqrt(l[j] + floor) : 0.0;
        // The largest-magnitude entry of each eigenvector positive: deterministic signs.
        std::size_t arg = 0;
        for (std::size_t i = 1; i < bins; ++i)
            if (std::abs(u[j * bins + i]) > std::abs(u[j * bins + arg])) arg = i;
        if (u[j * bins + arg] < 0)
            for (std::size_t i = 0; i < bins; ++i) u[j * bins + i] = -u[j * bins + i];
    }
    auto U = [&](std::size_t i, std::size_t j) { return u[j * bins + i]; };
    std::vector<double> w(bins * bins, 0.0);
    if (method == WhitenMethod::pca) {
        // Row r = component of the r-th largest eigenvalue: d_j * U[:, j]^T.
        for (std::size_t r = 0; r < bins; ++r) {
            const std::size_t j = bins - 1 - r;
            for (std::size_t c = 0; c < bins; ++c) w[r * bins + c] = d[j] * U(c, j);
        }
    } else {
        for (std::size_t a = 0; a < bins; ++a)
            for (std::size_t b = 0; b < bins; ++b) {
                double s = 0;
                for (std::size_t j = 0; j < bins; ++j) s += U(a, j) * d[j] * U(b, j);
                w[a * bins + b] = s;
            }
    }
    return w;
}

}  // namespace mtag::data
