#include "data/sweep/folds.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::data;

namespace {

// Clips with tag t = i % n_tags (every third also tag 0), the first `train` in train, then 3 valid, 3 test.
Dataset corpus(std::size_t train, std::size_t n_tags) {
    Dataset d;
    for (std::size_t t = 0; t < n_tags; ++t) d.vocabulary.push_back("t" + std::to_string(t));
    for (std::size_t i = 0; i < train + 6; ++i) {
        Clip c;
        c.id = "c" + std::to_string(i);
        c.tags.assign(n_tags, 0);
        c.tags[i % n_tags] = 1;
        if (i % 3 == 0) c.tags[0] = 1;
        c.split = i < train ? Split::train : i < train + 3 ? Split::valid : Split::test;
        d.clips.push_back(c);
    }
    return d;
}

}  // namespace

TEST_CASE("folds: every training clip in one fold, sizes within one, tags spread, seeded") {
    const Dataset d = corpus(103, 4);
    const std::vector<int> folds = assign_folds(d, 5, 9);
    REQUIRE(folds.size() == d.clips.size());
    std::vector<std::size_t> sizes(5, 0);
    std::vector<std::vector<std::size_t>> per_tag(5, std::vector<std::size_t>(4, 0));
    for (std::size_t i = 0; i < d.clips.size(); ++i) {
        if (d.clips[i].split != Split::train) {
            CHECK(folds[i] == -1);
            continue;
        }
        REQUIRE(folds[i] >= 0);
        REQUIRE(folds[i] < 5);
        ++sizes[static_cast<std::size_t>(folds[i])];
        for (std::size_t t = 0; t < 4; ++t) per_tag[static_cast<std::size_t>(folds[i])][t] += d.clips[i].tags[t];
    }
    for (std::size_t s : sizes) CHECK((s == 20 || s == 21));
    for (std::size_t t = 1; t < 4; ++t)  // the rarest-tag groups are dealt evenly (26 or 25 clips over 5 folds)
        for (std::size_t k = 0; k < 5; ++k) CHECK(std::abs(static_cast<int>(per_tag[k][t]) - 5) <= 1);
    CHECK(assign_folds(d, 5, 9) == folds);
    CHECK(assign_folds(d, 5, 10) != folds);
    CHECK_THROWS_AS(assign_folds(d, 1, 0), mtag::Error);
    CHECK_THROWS_AS(assign_folds(corpus(3, 2), 4, 0), mtag::Error);
}

TEST_CASE("folds: a fold's dataset validates on the fold, drops the valid split, keeps test") {
    const Dataset d = corpus(20, 2);
    const std::vector<int> folds = assign_folds(d, 4, 1);
    const Dataset f = fold_dataset(d, folds, 2);
    CHECK(f.count(Split::valid) == 5);
    CHECK(f.count(Split::train) == 15);
    CHECK(f.count(Split::test) == 3);
    for (const Clip& c : f.clips)
        if (c.split == Split::valid) CHECK(c.id < std::string("c2") + "0");  // a training clip, not c20..c22
}

TEST_CASE("folds: mean and numpy's std (ddof 0), non-finite values left out") {
    const FoldStatistics s = fold_statistics({0.5, 0.7, std::nan(""), 0.9});
    CHECK(s.count == 3);
    CHECK(s.missing == 1);
    CHECK(s.mean == Approx(0.7));
    CHECK(s.std_dev == Approx(std::sqrt(0.08 / 3)));
}
