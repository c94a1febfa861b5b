#include "data/sets/split.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mtag::data;

namespace {

// n_classes x per_class one-hot clips.
Dataset one_hot(std::size_t n_classes, std::size_t per_class) {
    Dataset d;
    d.format = "test";
    for (std::size_t c = 0; c < n_classes; ++c) d.vocabulary.push_back("g" + std::to_string(c));
    for (std::size_t c = 0; c < n_classes; ++c)
        for (std::size_t i = 0; i < per_class; ++i) {
            Clip clip;
            clip.id = std::string("g") + std::to_string(c) + "." + std::to_string(i);
            clip.relative_path = std::string("g") + std::to_string(c) + "/" + clip.id + ".wav";
            clip.tags.assign(n_classes, 0);
            clip.tags[c] = 1;
            d.clips.push_back(clip);
        }
    return d;
}

}  // namespace

TEST_CASE("split: stratified split of one-hot data is exact per class") {
    Dataset d = one_hot(10, 20);
    stratified_split(d, 7);
    CHECK(d.count(Split::train) == 140);
    CHECK(d.count(Split::valid) == 20);
    CHECK(d.count(Split::test) == 40);
    for (Split s : all_splits) {
        const auto counts = d.tag_counts(s);
        for (std::size_t c : counts) CHECK(c == (s == Split::train ? 14u : s == Split::valid ? 2u : 4u));
    }
}

TEST_CASE("split: stratified split is deterministic per seed and varies with it") {
    Dataset a = one_hot(3, 30), b = one_hot(3, 30), c = one_hot(3, 30);
    stratified_split(a, 1);
    stratified_split(b, 1);
    stratified_split(c, 2);
    bool same_ab = true, same_ac = true;
    for (std::size_t i = 0; i < a.clips.size(); ++i) {
        same_ab = same_ab && a.clips[i].split == b.clips[i].split;
        same_ac = same_ac && a.clips[i].split == c.clips[i].split;
    }
    CHECK(same_ab);
    CHECK_FALSE(same_ac);
}

TEST_CASE("split: multi-label stratification keeps every tag near its fractions") {
    Dataset d;
    d.vocabulary = {"common", "mid", "rare"};
    for (int i = 0; i < 1000; ++i) {
        Clip clip;
        clip.id = std::to_string(i);
        clip.tags = {static_cast<std::uint8_t>(i % 2 == 0), static_cast<std::uint8_t>(i % 5 == 0),
                     static_cast<std::uint8_t>(i % 50 == 0)};
        d.clips.push_back(clip);
    }
    stratified_split(d, 3, {.train = 0.6, .valid = 0.2, .test = 0.2});
    CHECK(d.count(Split::train) == Approx(600).margin(3));
    CHECK(d.count(Split::valid) == Approx(200).margin(3));
    const auto rare_test = d.tag_counts(Split::test)[2];
    CHECK(rare_test == 4);  // 20 rare clips, 20 %
    CHECK(d.tag_counts(Split::valid)[1] == Approx(40).margin(1));
    CHECK_THROWS_AS(stratified_split(d, 3, {.train = 0.5, .valid = 0.1, .test = 0.1}), mtag::Error);
}

TEST_CASE("split: list files and key-split tables match clips by id, path or stem") {
    const auto dir = mtag::test::fresh_dir("split_files");
    mtag::test::write_text(dir / "lists" / "train_filtered.txt", "g0/g0.0.wav\ng0/g0.1.wav\n");
    mtag::test::write_text(dir / "lists" / "valid_filtered.txt", "g1/g1.0.au\n");
    mtag::test::write_text(dir / "lists" / "test_filtered.txt", "g1/g1.1.wav\n");
    mtag::test::write_text(dir / "table.csv", "path,split\ng2.0,validation\n");
    Dataset d = one_hot(3, 3);
    apply_split_assignment(d, read_split_files({dir / "lists", dir / "table.csv"}));
    REQUIRE(d.clips.size() == 5);
    CHECK(d.count(Split::train) == 2);
    CHECK(d.count(Split::valid) == 2);  // g1.0 by stem (.au vs .wav), g2.0 by id
    CHECK(d.count(Split::test) == 1);
    CHECK(d.problems.size() == 4);
    CHECK(d.problems[0].reason == "not in the split files");

    mtag::test::write_text(dir / "bad.csv", "g0.0,holdout\n");
    CHECK_THROWS_WITH(read_split_files({dir / "bad.csv"}),
                      Catch::Contains("bad.csv:1") && Catch::Contains("holdout"));
    CHECK_THROWS_WITH(read_split_files({dir / "nope.txt"}), Catch::Contains("does not exist"));
}

TEST_CASE("split: write_split_file output reads back") {
    const auto dir = mtag::test::fresh_dir("split_roundtrip");
    Dataset d = one_hot(2, 10);
    stratified_split(d, 5);
    write_split_file(dir / "splits.csv", d);
    Dataset e = one_hot(2, 10);
    apply_split_assignment(e, read_split_files({dir / "splits.csv"}));
    REQUIRE(e.clips.size() == d.clips.size());
    for (std::size_t i = 0; i < d.clips.size(); ++i) CHECK(e.clips[i].split == d.clips[i].split);
}
