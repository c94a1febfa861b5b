#include "data/sets/gtzan.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

// ROOT/<layout>/<genre>/<genre>.000NN.wav for 3 genres x 10 clips.
fs::path make_tree(const std::string& name, const std::string& layout) {
    const auto dir = mtag::test::fresh_dir(name);
    for (const char* genre : {"blues", "jazz", "rock"})
        for (int i = 0; i < 10; ++i) {
            char file[64];
            std::snprintf(file, sizeof file, "%s.%05d.wav", genre, i);
            mtag::test::write_tone(dir / layout / genre / file, 0.1);
        }
    return dir;
}

}  // namespace

TEST_CASE("gtzan: genres layout, one-hot vocabulary, stratified seeded split") {
    const auto dir = make_tree("gtzan_genres", "genres");
    const Dataset d = load_gtzan(dir, {.seed = 3});
    CHECK(d.vocabulary == std::vector<std::string>{"blues", "jazz", "rock"});
    REQUIRE(d.clips.size() == 30);
    CHECK(d.clips[0].id == "blues.00000");
    CHECK(d.clips[0].relative_path == "blues/blues.00000.wav");
    CHECK(d.clips[0].tags == std::vector<std::uint8_t>{1, 0, 0});
    CHECK(d.tag_counts(Split::train) == std::vector<std::size_t>{7, 7, 7});
    CHECK(d.tag_counts(Split::valid) == std::vector<std::size_t>{1, 1, 1});
    CHECK(d.tag_counts(Split::test) == std::vector<std::size_t>{2, 2, 2});
    CHECK(d.hours() == Approx(3.0 / 3600));
}

TEST_CASE("gtzan: genres_original layout, split lists, bad files reported") {
    const auto dir = make_tree("gtzan_original", "genres_original");
    mtag::test::write_text(dir / "genres_original" / "jazz" / "jazz.00054.wav", "RIFF garbage, not audio");
    mtag::test::write_text(dir / "genres_original" / "rock" / "notes.txt", "x");
    // mtag writes no .au; libsndfile reads by content, so a renamed WAV stands in for one.
    fs::copy_file(dir / "genres_original" / "rock" / "rock.00001.wav",
                  dir / "genres_original" / "rock" / "rock.00001.au");
    mtag::test::write_text(dir / "splits" / "train_filtered.txt",
                           "blues/blues.00000.wav\nblues/blues.00001.wav\njazz/jazz.00002.wav\n");
    mtag::test::write_text(dir / "splits" / "valid_filtered.txt", "rock/rock.00001.au\n");
    mtag::test::write_text(dir / "splits" / "test_filtered.txt",
                           "jazz/jazz.00054.wav\nrock/rock.00009.wav\n");
    const Dataset d = load_gtzan(dir, {.split_files = {dir / "splits"}});
    CHECK(d.count(Split::train) == 3);
    CHECK(d.count(Split::valid) == 1);
    CHECK(d.count(Split::test) == 1);
    auto reason_of = [&](const std::string& needle) {
        for (const Problem& p : d.problems)
            if (p.item.find(needle) != std::string::npos) return p.reason;
        return std::string();
    };
    CHECK(reason_of("jazz.00054.wav").find("unreadable audio") == 0);
    CHECK(reason_of("notes.txt").find("not a GTZAN clip") == 0);
    CHECK(reason_of("rock.00001").find("duplicate path") == 0);
}

TEST_CASE("gtzan: a folder without the layout is a clear error") {
    const auto dir = mtag::test::fresh_dir("gtzan_none");
    mtag::test::write_text(dir / "readme.txt", "x");
    CHECK(find_gtzan_genres(dir).empty());
    CHECK_THROWS_WITH(load_gtzan(dir), Catch::Contains("genres/<genre>"));
}
