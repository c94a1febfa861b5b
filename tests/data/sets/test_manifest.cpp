#include "data/sets/manifest.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mtag::data;
namespace fs = std::filesystem;

TEST_CASE("manifest: relative, absolute and quoted paths, tags split on semicolons") {
    const auto dir = mtag::test::fresh_dir("manifest_basic");
    mtag::test::write_tone(dir / "audio" / "a.wav", 0.5);
    mtag::test::write_tone(dir / "audio" / "b, c.wav", 0.25);
    mtag::test::write_tone(dir / "elsewhere" / "d.wav", 0.25);
    mtag::test::write_text(dir / "manifest.csv",
                           "path,tags,split\n"
                           "audio/a.wav,piano; slow ;major,train\n"
                           "\"audio/b, c.wav\",\"guitar;fast\",valid\n" +
                               (dir / "elsewhere" / "d.wav").string() + ",,test\n");
    const Dataset d = load_manifest(dir / "manifest.csv", {.read_durations = true});
    REQUIRE(d.clips.size() == 3);
    CHECK(d.problems.empty());
    CHECK(d.vocabulary == std::vector<std::string>{"fast", "guitar", "major", "piano", "slow"});
    CHECK(d.clips[0].tags == std::vector<std::uint8_t>{0, 0, 1, 1, 1});
    CHECK(d.clips[1].audio_path == dir / "audio" / "b, c.wav");
    CHECK(d.clips[1].split == Split::valid);
    CHECK(d.clips[2].split == Split::test);
    CHECK(std::count(d.clips[2].tags.begin(), d.clips[2].tags.end(), 1) == 0);
    CHECK(d.hours() == Approx(1.0 / 3600.0));
}

TEST_CASE("manifest: bad rows are skipped and reported with their reason") {
    const auto dir = mtag::test::fresh_dir("manifest_bad");
    mtag::test::write_tone(dir / "a.wav", 0.2);
    mtag::test::write_tone(dir / "b.wav", 0.2);
    mtag::test::write_text(dir / "m.csv",
                           "path,tags,split\n"
                           "a.wav,x,train\n"
                           "missing.wav,x,train\n"
                           "b.wav,y,holdout\n"
                           "./a.wav,x,test\n"
                           "short-row\n"
                           ",x,train\n");
    const Dataset d = load_manifest(dir / "m.csv");
    REQUIRE(d.clips.size() == 1);
    REQUIRE(d.problems.size() == 5);
    auto has = [&](const std::string& what) {
        return std::any_of(d.problems.begin(), d.problems.end(),
                           [&](const Problem& p) { return p.reason.find(what) != std::string::npos; });
    };
    CHECK(has("missing audio"));
    CHECK(has("unknown split 'holdout'"));
    CHECK(has("duplicate path"));
    CHECK(has("unreadable row"));
    CHECK(d.problems[1].item == "m.csv:4");
}

TEST_CASE("manifest: nothing usable or no path column is a clear error") {
    const auto dir = mtag::test::fresh_dir("manifest_empty");
    mtag::test::write_text(dir / "m.csv", "path,tags,split\nnone.wav,x,train\n");
    CHECK_THROWS_WITH(load_manifest(dir / "m.csv"),
                      Catch::Contains("no usable clip") && Catch::Contains("missing audio"));
    mtag::test::write_text(dir / "n.csv", "file,label\na.wav,x\n");
    CHECK_THROWS_WITH(load_manifest(dir / "n.csv"), Catch::Contains("'path' and 'tags'"));
}

TEST_CASE("manifest: without a split column the split is seeded, stratified 70/10/20") {
    const auto dir = mtag::test::fresh_dir("manifest_nosplit");
    std::string text = "path,tags\n";
    for (int i = 0; i < 20; ++i) {
        const std::string name = std::string("c") + std::to_string(i) + ".wav";
        mtag::test::write_text(dir / name, "not decoded");  // existence is all the loader checks here
        text += name + "," + (i < 10 ? "rock" : "jazz") + "\n";
    }
    mtag::test::write_text(dir / "m.csv", text);
    const Dataset a = load_manifest(dir / "m.csv", {.seed = 4});
    const Dataset b = load_manifest(dir / "m.csv", {.seed = 4});
    CHECK(a.count(Split::train) == 14);
    CHECK(a.count(Split::valid) == 2);
    CHECK(a.count(Split::test) == 4);
    CHECK(a.tag_counts(Split::test) == std::vector<std::size_t>{2, 2});
    for (std::size_t i = 0; i < a.clips.size(); ++i) CHECK(a.clips[i].split == b.clips[i].split);
}

TEST_CASE("manifest: write then load round-trips paths, tags, splits and durations") {
    const auto dir = mtag::test::fresh_dir("manifest_write");
    mtag::test::write_tone(dir / "audio" / "x, y.wav", 0.1);
    mtag::test::write_tone(dir / "audio" / "z.wav", 0.1);
    write_manifest(dir / "manifest.csv",
                   std::vector<ManifestRow>{{dir / "audio" / "x, y.wav", {"drums", "fast"}, "train", 10.0},
                                            {"audio/z.wav", {"piano"}, "test", std::nullopt}});
    const Dataset d = load_manifest(dir / "manifest.csv");
    REQUIRE(d.clips.size() == 2);
    CHECK(d.clips[0].relative_path == "audio/x, y.wav");
    CHECK(d.clips[0].duration_seconds == 10.0);
    CHECK_FALSE(d.clips[1].duration_seconds);
    CHECK(d.vocabulary == std::vector<std::string>{"drums", "fast", "piano"});
    CHECK(d.clips[1].split == Split::test);
    CHECK_THROWS(write_manifest(dir / "bad.csv", std::vector<ManifestRow>{{"a.wav", {"a;b"}, "train", {}}}));
}

TEST_CASE("manifest: a path too long for the OS is reported as missing audio, not a filesystem exception") {
    const auto dir = mtag::test::fresh_dir("manifest_long_path");
    mtag::test::write_tone(dir / "a.wav", 0.25);
    mtag::test::write_text(dir / "manifest.csv", "path,tags,split\na.wav,x,train\n" +
                                                     std::string(5000, 'b') + "/c.wav,x,train\n");
    const Dataset d = load_manifest(dir / "manifest.csv");
    CHECK(d.clips.size() == 1);
    CHECK(std::any_of(d.problems.begin(), d.problems.end(),
                      [](const Problem& p) { return p.reason == "missing audio"; }));
}
