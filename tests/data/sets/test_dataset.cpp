#include "data/sets/dataset.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

Dataset small() {
    Dataset d;
    d.format = "csv";
    d.source = "m.csv";
    d.vocabulary = {"a", "b", "c"};
    d.clips = {{"1", "1.wav", "1.wav", {1, 0, 0}, Split::train, 30.0},
               {"2", "2.wav", "2.wav", {1, 1, 0}, Split::train, 30.0},
               {"3", "3.wav", "3.wav", {0, 1, 0}, Split::valid, std::nullopt},
               {"4", "4.wav", "4.wav", {0, 0, 0}, Split::test, 60.0}};
    return d;
}

}  // namespace

TEST_CASE("dataset: split names parse in their common spellings") {
    CHECK(parse_split("Validation") == Split::valid);
    CHECK(parse_split(" train ") == Split::train);
    CHECK(parse_split("eval") == Split::test);
    CHECK_FALSE(parse_split("holdout"));
    CHECK(to_string(Split::valid) == "valid");
}

TEST_CASE("dataset: stats JSON has splits, tags, tag counts, hours and problems") {
    Dataset d = small();
    d.skip("x.wav", "missing audio");
    const auto stats = dataset_stats(d);
    CHECK(stats["splits"]["train"] == 2);
    CHECK(stats["splits"]["valid"] == 1);
    CHECK(stats["splits"]["test"] == 1);
    CHECK(stats["tags"] == nlohmann::json::array({"a", "b", "c"}));
    CHECK(stats["tag_counts"]["train"]["a"] == 2);
    CHECK(stats["tag_counts"]["valid"]["b"] == 1);
    CHECK(stats["hours"].get<double>() == Approx(120.0 / 3600));
    CHECK(stats["clips_without_duration"] == 1);
    CHECK(stats["problems"][0]["reason"] == "missing audio");
    CHECK(d.targets(1) == std::vector<float>{1, 1, 0});
}

TEST_CASE("dataset: drop_untagged_clips prunes tags and clips, require_usable explains") {
    Dataset d = small();
    drop_untagged_clips(d, "no tag");
    CHECK(d.vocabulary == std::vector<std::string>{"a", "b"});
    CHECK(d.clips.size() == 3);
    CHECK(d.problems.at(0).item == "4");
    Dataset empty;
    empty.format = "csv";
    empty.source = "m.csv";
    empty.skip("a.wav", "missing audio");
    CHECK_THROWS_WITH(empty.require_usable(),
                      Catch::Contains("m.csv") && Catch::Contains("a.wav: missing audio"));
}

TEST_CASE("dataset: fill_durations reads headers, reports unreadable files, uses its cache") {
    const auto dir = mtag::test::fresh_dir("durations");
    mtag::test::write_tone(dir / "a.wav", 0.5);
    mtag::test::write_tone(dir / "b.wav", 0.25);
    mtag::test::write_text(dir / "bad.wav", "not audio at all");
    Dataset d;
    d.vocabulary = {"x"};
    for (const char* name : {"a.wav", "b.wav", "bad.wav"})
        d.clips.push_back({name, dir / name, name, {1}, Split::train, {}});
    fill_durations(d, 2, dir / "cache.tsv");
    REQUIRE(d.clips.size() == 2);
    CHECK(*d.clips[0].duration_seconds == Approx(0.5));
    CHECK(*d.clips[1].duration_seconds == Approx(0.25));
    CHECK(d.problems.at(0).reason.find("unreadable audio") == 0);
    // Rewrite the cached values: a second pass must take them instead of reading the headers.
    std::ifstream in(dir / "cache.tsv");
    std::stringstream edited;
    std::string line;
    while (std::getline(in, line)) edited << line.substr(0, line.rfind('\t')) << "\t42\n";
    in.close();
    mtag::test::write_text(dir / "cache.tsv", edited.str());
    for (Clip& c : d.clips) c.duration_seconds.reset();
    fill_durations(d, 1, dir / "cache.tsv");
    CHECK(*d.clips[0].duration_seconds == 42.0);
    // A changed file is measured again.
    mtag::test::write_tone(dir / "a.wav", 1.0);
    fs::last_write_time(dir / "a.wav", fs::last_write_time(dir / "a.wav") + std::chrono::seconds(5));
    for (Clip& c : d.clips) c.duration_seconds.reset();
    fill_durations(d, 1, dir / "cache.tsv");
    CHECK(*d.clips[0].duration_seconds == Approx(1.0));
    CHECK(*d.clips[1].duration_seconds == 42.0);
}
