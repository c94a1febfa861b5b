#include "data/sets/mtat.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

// A small MTAT-shaped tree: tab-separated, every field quoted, 5 tag columns, audio under mp3/<hex>/.
// Column sums: guitar 6, classical 6 (ties with guitar, comes later), "no voice" 4, slow 2, techno 1.
// Clip rows: id, tags (guitar, classical, no voice, slow, techno), folder, seconds.
struct Row {
    const char* id;
    int tags[5];
    char folder;
    double seconds;
};
const Row rows[] = {
    {"1", {1, 1, 0, 0, 0}, '0', 30}, {"2", {1, 0, 1, 0, 0}, '3', 30},     {"3", {0, 1, 0, 0, 0}, 'b', 30},
    {"4", {0, 0, 0, 0, 1}, 'a', 30},  // no top-3 tag: folders keeps it, lee drops it
    {"5", {1, 1, 1, 1, 0}, 'c', 30}, {"6", {0, 0, 1, 1, 0}, 'c', 30},     {"7", {1, 1, 0, 0, 0}, 'd', 30},
    {"8", {1, 0, 1, 0, 0}, 'e', 10},                                       // too short for lee
    {"9", {0, 1, 0, 0, 0}, 'f', 30}, {"35644", {1, 1, 0, 0, 0}, 'f', 30},  // a known broken clip id
};

fs::path make_tree(const std::string& name) {
    const auto dir = mtag::test::fresh_dir(name);
    std::string text =
        "\"clip_id\"\t\"guitar\"\t\"classical\"\t\"no voice\"\t\"slow\"\t\"techno\"\t\"mp3_path\"\n";
    for (const Row& r : rows) {
        const std::string mp3 =
            std::string(1, r.folder) + "/artist_" + r.id + "-album, vol 1-01-song-30-59.mp3";
        text += std::string("\"") + r.id + "\"";
        for (int t : r.tags) text += "\t\"" + std::to_string(t) + "\"";
        text += "\t\"" + mp3 + "\"\n";
        mtag::test::write_tone(dir / "mp3" / mp3, r.seconds, 8000);
    }
    text += "\"99\"\t\"1\"\n";  // a truncated row
    mtag::test::write_text(dir / "annotations_final.csv", text);
    return dir;
}

}  // namespace

TEST_CASE("mtat: vocabulary is top-N by column sum, ties by column order") {
    const auto dir = make_tree("mtat_vocab");
    const Dataset d = load_mtat(dir, {.mtat_top_n = 3, .mtat_split = MtatSplitRule::folders});
    CHECK(d.vocabulary == std::vector<std::string>{"guitar", "classical", "no voice"});
    const Dataset all =
        load_mtat(dir / "annotations_final.csv", {.mtat_top_n = 50, .mtat_split = MtatSplitRule::folders});
    CHECK(all.vocabulary.size() == 5);
    CHECK(all.vocabulary.back() == "techno");
}

TEST_CASE("mtat: folders rule counts, broken ids and unreadable rows") {
    const auto dir = make_tree("mtat_folders");
    const Dataset d = load_mtat(dir, {.mtat_top_n = 3, .mtat_split = MtatSplitRule::folders});
    CHECK(d.count(Split::train) == 4);
    CHECK(d.count(Split::valid) == 2);
    CHECK(d.count(Split::test) == 3);
    CHECK(d.clips[0].audio_path == dir / "mp3" / "0" / "artist_1-album, vol 1-01-song-30-59.mp3");
    CHECK(std::none_of(d.clips.begin(), d.clips.end(), [](const Clip& c) { return c.id == "35644"; }));
    REQUIRE(d.problems.size() == 2);
    CHECK(d.problems[0].reason.find("unreadable row") != std::string::npos);
    CHECK(d.problems[1].item == "35644");
}

TEST_CASE("mtat: lee rule keeps tagged clips longer than 29.1 s") {
    const auto dir = make_tree("mtat_lee");
    const Dataset d = load_mtat(dir, {.duration_cache = dir / "durations.tsv", .mtat_top_n = 3});
    CHECK(d.count(Split::train) == 3);  // clip 4 has no top-3 tag
    CHECK(d.count(Split::valid) == 2);
    CHECK(d.count(Split::test) == 2);  // clip 8 is 10 s
    CHECK(d.filtered.at("no top-3 tag (lee split)") == 1);
    CHECK(d.filtered.at("29.1 s or shorter (lee split)") == 1);
    CHECK(fs::file_size(dir / "durations.tsv") > 0);
    const Dataset again = load_mtat(dir, {.duration_cache = dir / "durations.tsv", .mtat_top_n = 3});
    CHECK(again.clips.size() == d.clips.size());
}

TEST_CASE("mtat: missing audio, user split file, and nothing usable") {
    const auto dir = make_tree("mtat_bad");
    fs::remove(dir / "mp3" / "c" / "artist_6-album, vol 1-01-song-30-59.mp3");
    mtag::test::write_text(dir / "split.tsv", "1\ttest\n2\ttrain\n5\tvalid\n");
    const Dataset d = load_mtat(dir, {.split_files = {dir / "split.tsv"}, .mtat_top_n = 3});
    CHECK(d.clips.size() == 3);
    CHECK(d.count(Split::test) == 1);
    CHECK(std::any_of(d.problems.begin(), d.problems.end(),
                      [](const Problem& p) { return p.reason == "missing audio"; }));
    CHECK_THROWS_WITH(load_mtat(dir, {.audio_root = dir / "nowhere"}), Catch::Contains("no usable clip"));
    mtag::test::write_text(dir / "other" / "annotations_final.csv", "a,b\n1,2\n");
    CHECK_THROWS_WITH(load_mtat(dir / "other"), Catch::Contains("clip_id"));
}

// Found by fuzz_dataset_index (the 600 s run of 2026-12-06): a first mp3_path
// longer than the OS allows made the audio-root probe throw std::filesystem_error out of load_mtat.
TEST_CASE("mtat: an mp3_path too long for the OS is missing audio, not a filesystem exception") {
    const auto dir = mtag::test::fresh_dir("mtat_long_path");
    const std::string long_path = "f/" + std::string(5000, 'a') + ".mp3";
    mtag::test::write_text(dir / "annotations_final.csv",
                           "\"clip_id\"\t\"guitar\"\t\"mp3_path\"\n\"2\"\t\"1\"\t\"" + long_path + "\"\n");
    CHECK_THROWS_AS(load_mtat(dir), mtag::Error);
    CHECK_THROWS_WITH(load_mtat(dir), Catch::Contains("no usable clip"));
}
