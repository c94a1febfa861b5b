#include "data/pipeline/normalization.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <mutex>
#include <set>

using namespace mtag::data;
using mtag::dsp::FloatMatrix;

namespace {

// Features of a clip: 4 bins x 10 frames from a seed in the clip id; valid/test clips are made wildly
// different (offset 1000) so any leak into the statistics would show.
FloatMatrix fake_features(const Clip& clip) {
    const int seed = std::stoi(clip.id);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    FloatMatrix m(4, 10);
    for (std::size_t b = 0; b < 4; ++b)
        for (std::size_t t = 0; t < 10; ++t)
            m(b, t) = static_cast<float>(b) * 3.0f + noise(rng) * (1.0f + b) +
                      (clip.split == Split::train ? 0.0f : 1000.0f);
    return m;
}

Dataset make_dataset(std::size_t n) {
    Dataset d;
    d.vocabulary = {"x"};
    for (std::size_t i = 0; i < n; ++i) {
        Clip c;
        c.id = std::to_string(i);
        c.tags = {1};
        c.split = i % 5 == 3 ? Split::valid : i % 5 == 4 ? Split::test : Split::train;
        d.clips.push_back(c);
    }
    return d;
}

}  // namespace

TEST_CASE("normalization: streaming statistics match a direct two-pass computation") {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> noise(5.0f, 2.0f);
    std::vector<float> all;
    RunningStats stats(1), merged(1), part(1);
    for (int batch = 0; batch < 7; ++batch) {
        std::vector<float> values(13 + batch * 5);
        for (float& v : values) v = noise(rng) + 1e4f;  // a large offset tests numerical stability
        stats.add(values);
        (batch < 3 ? merged : part).add(values);
        all.insert(all.end(), values.begin(), values.end());
    }
    merged.merge(part);
    double mean = 0;
    for (float v : all) mean += v;
    mean /= all.size();
    double var = 0;
    for (float v : all) var += (v - mean) * (v - mean);
    var /= all.size();
    CHECK(stats.count() == all.size());
    CHECK(stats.mean()[0] == Approx(mean).epsilon(1e-12));
    CHECK(stats.variance()[0] == Approx(var).epsilon(1e-9));
    CHECK(merged.mean()[0] == Approx(mean).epsilon(1e-12));
    CHECK(merged.variance()[0] == Approx(var).epsilon(1e-9));
}

TEST_CASE("normalization: valid and test clips never influence the statistics") {
    Dataset full = make_dataset(40);
    std::set<std::string> seen;
    const Normalization a = compute_normalization(
        full,
        [&](const Clip& c) {
            seen.insert(c.id);
            return fake_features(c);
        },
        NormalizationKind::per_bin, 3);
    // The features function was never called for a valid/test clip.
    for (const Clip& c : full.clips) CHECK((seen.count(c.id) == 1) == (c.split == Split::train));
    // Changing every valid/test clip (here: dropping them) leaves the statistics bit-identical.
    Dataset train_only = full;
    std::erase_if(train_only.clips, [](const Clip& c) { return c.split != Split::train; });
    const Normalization b = compute_normalization(train_only, fake_features, NormalizationKind::per_bin, 1);
    CHECK(a.mean == b.mean);
    CHECK(a.std == b.std);
    CHECK(a.count == 24 * 10);
    for (std::size_t bin = 0; bin < 4; ++bin) {
        CHECK(a.mean[bin] == Approx(3.0 * bin).margin(0.5));
        CHECK(a.std[bin] == Approx(1.0 + bin).epsilon(0.2));
    }
    // Threads do not change the result.
    const Normalization c = compute_normalization(full, fake_features, NormalizationKind::per_bin, 1);
    CHECK(a.mean == c.mean);
}

TEST_CASE("normalization: apply standardises bins, global and per-sample waveforms") {
    Normalization n;
    n.mean = {1.0f, -2.0f};
    n.std = {2.0f, 0.0f};
    FloatMatrix m(2, 2);
    m.data = {3.0f, 1.0f, -2.0f, -1.0f};
    n.apply(m);
    CHECK(m.data[0] == Approx(1.0f));
    CHECK(m.data[1] == Approx(0.0f));
    CHECK(m.data[2] == 0.0f);
    CHECK(m.data[3] == Approx(1.0f / n.eps));  // constant bin: divided by eps, not by zero
    FloatMatrix wrong(3, 2);
    CHECK_THROWS_WITH(n.apply(wrong), Catch::Contains("3 bins"));

    std::vector<float> wave = {1.0f, 3.0f, 1.0f, 3.0f};
    Normalization per_sample;
    per_sample.kind = NormalizationKind::per_sample;
    per_sample.apply(std::span<float>(wave));
    CHECK(wave == std::vector<float>{-1.0f, 1.0f, -1.0f, 1.0f});

    Dataset d = make_dataset(10);
    const Normalization g = compute_normalization(d, fake_features, NormalizationKind::global);
    REQUIRE(g.mean.size() == 1);
    CHECK(g.count == 6 * 40);
}

TEST_CASE("normalization: JSON round trip and validation of model cards") {
    Dataset d = make_dataset(10);
    const Normalization a = compute_normalization(d, fake_features, NormalizationKind::per_bin);
    const Normalization b = Normalization::from_json(nlohmann::json::parse(a.to_json().dump()));
    CHECK(b.kind == NormalizationKind::per_bin);
    CHECK(b.mean == a.mean);
    CHECK(b.std == a.std);
    CHECK(b.count == a.count);
    nlohmann::json bad = a.to_json();
    bad["std"].erase(0);
    CHECK_THROWS_WITH(Normalization::from_json(bad), Catch::Contains("got 4 means and 3 stds"));
    bad = a.to_json();
    bad["kind"] = "per_song";
    CHECK_THROWS_WITH(Normalization::from_json(bad), Catch::Contains("per_song"));
    CHECK_THROWS_WITH(Normalization::from_json(nlohmann::json{{"mean", 1}}), Catch::Contains("malformed"));
}

namespace {

// 6 correlated bins x 50 frames per clip: x = A z + offset with a fixed mixing matrix A (bins strongly
// correlated, as neighbouring mel bands are); valid/test clips get a different mixing and offset, so a
// leak would show in the whitened training covariance.
FloatMatrix correlated_features(const Clip& clip) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(std::stoi(clip.id)) + 77);
    std::normal_distribution<double> noise(0.0, 1.0);
    const bool train = clip.split == Split::train;
    FloatMatrix m(6, 50);
    for (std::size_t t = 0; t < 50; ++t) {
        double z[6];
        for (double& v : z) v = noise(rng);
        for (std::size_t b = 0; b < 6; ++b) {
            double v = train ? -40.0 + 2.0 * b : 500.0;
            for (std::size_t k = 0; k <= b; ++k) v += (train ? 3.0 : 50.0) * z[k] / (1.0 + static_cast<double>(b - k));
            m(b, t) = static_cast<float>(v);
        }
    }
    return m;
}

// Covariance (ddof 0) of every training clip's frames after `n.apply`.
std::vector<double> whitened_covariance(const Dataset& d, const Normalization& n) {
    RunningCovariance cov(6);
    for (const Clip& c : d.clips) {
        if (c.split != Split::train) continue;
        FloatMatrix m = correlated_features(c);
        n.apply(m);
        cov.add(m);
    }
    return cov.covariance();
}

}  // namespace

TEST_CASE("normalization: pca_whiten makes the training frames' covariance the identity within 1e-3") {
    const Dataset d = make_dataset(60);
    for (const WhitenMethod method : {WhitenMethod::zca, WhitenMethod::pca}) {
        INFO(to_string(method));
        const Normalization n = compute_normalization(
            d, correlated_features, NormalizationOptions{.kind = NormalizationKind::pca_whiten, .method = method}, 2);
        REQUIRE(n.whitening.size() == 36);
        const std::vector<double> c = whitened_covariance(d, n);
        double worst = 0;
        for (std::size_t a = 0; a < 6; ++a)
            for (std::size_t b = 0; b < 6; ++b) worst = std::max(worst, std::abs(c[a * 6 + b] - (a == b ? 1.0 : 0.0)));
        CHECK(worst < 1e-3);
        // The card round trip keeps W, the method and eps; the reloaded statistics whiten identically.
        const Normalization back = Normalization::from_json(n.to_json());
        CHECK(back.whitening == n.whitening);
        CHECK(back.method == method);
        CHECK(whitened_covariance(d, back) == c);
    }
    // ZCA's W is symmetric (U D U^T), PCA's rows come by decreasing variance.
    const Normalization zca = compute_normalization(d, correlated_features, NormalizationKind::pca_whiten, 1);
    for (std::size_t a = 0; a < 6; ++a)
        for (std::size_t b = 0; b < 6; ++b) CHECK(zca.whitening[a * 6 + b] == Approx(zca.whitening[b * 6 + a]).margin(1e-6));
}

TEST_CASE("normalization: pca_whiten and mean never use valid or test clips, whatever the thread count") {
    Dataset full = make_dataset(60);
    Dataset train_only = full;
    std::erase_if(train_only.clips, [](const Clip& c) { return c.split != Split::train; });
    for (const NormalizationKind kind : {NormalizationKind::pca_whiten, NormalizationKind::mean}) {
        INFO(to_string(kind));
        std::set<std::string> seen;
        std::mutex m;
        const Normalization a = compute_normalization(
            full,
            [&](const Clip& c) {
                std::lock_guard lock(m);
                seen.insert(c.id);
                return correlated_features(c);
            },
            kind, 3);
        for (const Clip& c : full.clips) CHECK((seen.count(c.id) == 1) == (c.split == Split::train));
        const Normalization b = compute_normalization(train_only, correlated_features, kind, 1);
        CHECK(a.mean == b.mean);
        CHECK(a.whitening == b.whitening);
        CHECK(a.std.empty());
    }
}

TEST_CASE("normalization: mean subtracts the per-bin mean only, names parse, a waveform cannot be whitened") {
    Normalization n;
    n.kind = NormalizationKind::mean;
    n.mean = {1.0f, -2.0f};
    FloatMatrix x(2, 2);
    x.data = {3.0f, 5.0f, 0.0f, -2.0f};
    n.apply(x);
    CHECK(x.data == std::vector<float>{2.0f, 4.0f, 2.0f, 0.0f});
    CHECK(Normalization::from_json(n.to_json()).mean == n.mean);
    CHECK(parse_normalization_kind("pca_whiten", "cfg") == NormalizationKind::pca_whiten);
    CHECK_THROWS_AS(parse_normalization_kind("whiten", "cfg"), mtag::Error);
    // A waveform (one bin) cannot be whitened.
    CHECK_THROWS_AS(compute_normalization(make_dataset(5), [](const Clip&) { return FloatMatrix(1, 8, 1.0f); },
                                          NormalizationKind::pca_whiten),
                    mtag::Error);
}
