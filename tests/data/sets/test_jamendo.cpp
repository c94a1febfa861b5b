#include "data/sets/jamendo.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

const char* header = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n";

std::string row(int id, const std::string& tags, double duration = 30.5) {
    const std::string folder = std::to_string(id % 100);
    return "track_" + std::to_string(id) + "\tartist_1\talbum_1\t" + folder + "/" + std::to_string(id) +
           ".mp3\t" + std::to_string(duration) + "\t" + tags + "\n";
}

// A repository clone: data/splits/split-0/autotagging-{train,validation,test}.tsv and audio/NN/ID.low.mp3.
fs::path make_tree(const std::string& name) {
    const auto dir = mtag::test::fresh_dir(name);
    const fs::path split = dir / "data" / "splits" / "split-0";
    mtag::test::write_text(split / "autotagging-train.tsv",
                           std::string(header) + row(101, "genre---rock\tinstrument---guitar") +
                               row(102, "genre---pop\tmood/theme---happy") + row(103, "instrument---piano") +
                               "track_104\tartist_1\n" + row(101, "genre---rock"));
    mtag::test::write_text(split / "autotagging-validation.tsv",
                           std::string(header) + row(201, "genre---rock\tmood/theme---sad"));
    mtag::test::write_text(split / "autotagging-test.tsv",
                           std::string(header) + row(301, "genre---pop") + row(302, "genre---jazz"));
    for (int id : {101, 102, 103, 201, 301})
        mtag::test::write_text(dir / "audio" / std::to_string(id % 100) / (std::to_string(id) + ".low.mp3"),
                               "mp3");
    return dir;
}

}  // namespace

TEST_CASE("jamendo: split-K layout, prefixed tags, .low.mp3 audio, problems") {
    const auto dir = make_tree("jamendo_all");
    const Dataset d = load_jamendo(dir);
    CHECK(d.count(Split::train) == 3);
    CHECK(d.count(Split::valid) == 1);
    CHECK(d.count(Split::test) == 1);  // 302 has no audio
    CHECK(d.vocabulary == std::vector<std::string>{"genre---jazz", "genre---pop", "genre---rock",
                                                   "instrument---guitar", "instrument---piano",
                                                   "mood/theme---happy", "mood/theme---sad"});
    CHECK(d.clips[0].audio_path == dir / "audio" / "1" / "101.low.mp3");
    CHECK(d.clips[0].duration_seconds == Approx(30.5));
    CHECK(d.hours() == Approx(5 * 30.5 / 3600));
    REQUIRE(d.problems.size() == 3);
    CHECK(d.problems[0].reason.find("unreadable row") == 0);
    CHECK(d.problems[1].reason.find("duplicate path") == 0);
    CHECK(d.problems[2].reason == "missing audio");
}

TEST_CASE("jamendo: category filter keeps one category's tags") {
    const auto dir = make_tree("jamendo_genre");
    const Dataset d = load_jamendo(dir / "data", {.jamendo_category = "genre"});
    CHECK(d.vocabulary == std::vector<std::string>{"genre---jazz", "genre---pop", "genre---rock"});
    CHECK(d.clips.size() == 4);  // 103 has no genre tag, 302 no audio
    CHECK(d.filtered.at("no genre tag") == 1);
    CHECK_THROWS_WITH(load_jamendo(dir, {.jamendo_category = "tempo"}), Catch::Contains("expected genre"));
}

TEST_CASE("jamendo: a single autotagging.tsv gets a seeded split, missing layout is an error") {
    const auto dir = mtag::test::fresh_dir("jamendo_single");
    std::string text = header;
    for (int id = 0; id < 10; ++id) {
        text += row(id, id < 5 ? "genre---rock" : "genre---pop");
        mtag::test::write_text(dir / "audio" / std::to_string(id % 100) / (std::to_string(id) + ".mp3"),
                               "mp3");
    }
    mtag::test::write_text(dir / "data" / "autotagging.tsv", text);
    CHECK(looks_like_jamendo(dir));
    const Dataset d = load_jamendo(dir, {.seed = 1, .fractions = {.train = 0.6, .valid = 0.2, .test = 0.2}});
    CHECK(d.count(Split::train) == 6);
    CHECK(d.tag_counts(Split::test) == std::vector<std::size_t>{1, 1});
    const auto empty = mtag::test::fresh_dir("jamendo_none");
    CHECK_FALSE(looks_like_jamendo(empty));
    CHECK_THROWS_WITH(load_jamendo(empty), Catch::Contains("split-0"));
}

TEST_CASE("jamendo: a clone with only split-K (K > 0) is recognised, --jamendo-split picks it") {
    const auto dir = mtag::test::fresh_dir("jamendo_split1");
    const fs::path split = dir / "data" / "splits" / "split-1";
    for (const char* part : {"train", "validation", "test"})
        mtag::test::write_text(split / ("autotagging-" + std::string(part) + ".tsv"), std::string(header) + row(101, "genre---rock"));
    mtag::test::write_text(dir / "audio" / "1" / "101.low.mp3", "mp3");
    CHECK(looks_like_jamendo(dir));
    CHECK_THROWS_WITH(load_jamendo(dir), Catch::Contains("split-0"));
    CHECK(load_jamendo(dir, {.jamendo_split = 1}).count(Split::train) == 1);
}
