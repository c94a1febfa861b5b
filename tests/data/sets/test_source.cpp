#include "data/sets/source.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mtag::data;

TEST_CASE("source: validation names the flag and the config key") {
    DatasetSource s;
    s.path = "x";
    CHECK_NOTHROW(s.validate());
    s.top_n = 0;
    CHECK_THROWS_WITH(s.validate(), Catch::Contains("--top-n (config data.top_n) 0"));
    s.top_n = 10;
    s.jamendo_category = "tempo";
    CHECK_THROWS_WITH(s.validate(), Catch::Contains("--jamendo-category (config data.jamendo_category) 'tempo'"));
    s.jamendo_category = "mood/theme";
    s.jamendo_split = -1;
    CHECK_THROWS_WITH(s.validate(), Catch::Contains("--jamendo-split"));
    s.jamendo_split = 0;
    s.split_files = {"/no/such/split.txt"};
    CHECK_THROWS_WITH(s.validate(), Catch::Contains("data.split_files") && Catch::Contains("does not exist"));
    s.split_files.clear();
    s.format = "wav";
    CHECK_THROWS_WITH(s.validate(), Catch::Contains("--format"));
    CHECK_THROWS_WITH(parse_mtat_split("random"), Catch::Contains("--mtat-split"));
}

TEST_CASE("source: options carry every choice to the loaders") {
    DatasetSource s;
    s.audio_root = "/audio";
    s.split_files = {"a.txt", "b.txt"};
    s.mtat_split = MtatSplitRule::folders;
    s.top_n = 7;
    s.jamendo_split = 3;
    s.jamendo_category = "genre";
    s.duration_cache = "d.tsv";
    DatasetOptions base;
    base.seed = 5;
    base.threads = 2;
    const DatasetOptions o = s.options(base);
    CHECK(o.seed == 5);
    CHECK(o.threads == 2);
    CHECK(o.audio_root == "/audio");
    CHECK(o.split_files.size() == 2);
    CHECK(o.mtat_split == MtatSplitRule::folders);
    CHECK(o.mtat_top_n == 7);
    CHECK(o.jamendo_split == 3);
    CHECK(o.jamendo_category == "genre");
    CHECK(o.duration_cache == "d.tsv");
}

TEST_CASE("source: an option of another format is refused, not ignored") {
    const auto dir = mtag::test::fresh_dir("source_csv");
    mtag::test::write_tone(dir / "a.wav", 0.2, 8000);
    mtag::test::write_text(dir / "manifest.csv", "path,tags,split\na.wav,x,train\n");
    DatasetSource s;
    s.path = dir.string();
    CHECK(load_dataset(s).clips.size() == 1);
    s.top_n = 10;
    CHECK_THROWS_WITH(load_dataset(s), Catch::Contains("--top-n (config data.top_n): applies to MagnaTagATune"));
    s.top_n = 50;
    s.jamendo_category = "genre";
    CHECK_THROWS_WITH(load_dataset(s), Catch::Contains("--jamendo-category"));
}
