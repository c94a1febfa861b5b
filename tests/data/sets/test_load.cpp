#include "data/sets/load.hpp"
#include "dsp/error.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mtag::data;
namespace fs = std::filesystem;

TEST_CASE("load: format detection from files and folders") {
    const auto dir = mtag::test::fresh_dir("detect");
    mtag::test::write_text(dir / "mtat" / "annotations_final.csv", "\"clip_id\"\t\"mp3_path\"\n");
    mtag::test::write_text(dir / "jam" / "data" / "splits" / "split-0" / "autotagging-train.tsv",
                           "TRACK_ID\n");
    mtag::test::write_tone(dir / "gtzan" / "genres" / "rock" / "rock.00000.wav", 0.05);
    mtag::test::write_text(dir / "synth" / "manifest.csv", "path,tags,split\n");
    mtag::test::write_text(dir / "other.csv", "path,tags\n");
    CHECK(detect_format(dir / "mtat") == DatasetFormat::mtat);
    CHECK(detect_format(dir / "mtat" / "annotations_final.csv") == DatasetFormat::mtat);
    CHECK(detect_format(dir / "jam") == DatasetFormat::jamendo);
    CHECK(detect_format(dir / "jam" / "data" / "splits" / "split-0" / "autotagging-train.tsv") ==
          DatasetFormat::jamendo);
    CHECK(detect_format(dir / "gtzan") == DatasetFormat::gtzan);
    CHECK(detect_format(dir / "gtzan" / "genres") == DatasetFormat::gtzan);
    CHECK(detect_format(dir / "synth") == DatasetFormat::csv);
    CHECK(detect_format(dir / "other.csv") == DatasetFormat::csv);
    mtag::test::write_text(dir / "empty" / "x.txt", "");
    CHECK_THROWS_WITH(detect_format(dir / "empty"), Catch::Contains("--format"));
    CHECK_THROWS_WITH(detect_format(dir / "nothing"), Catch::Contains("does not exist"));
    CHECK(parse_dataset_format("manifest") == DatasetFormat::csv);
    CHECK_THROWS_AS(parse_dataset_format("wav"), mtag::UsageError);
}

TEST_CASE("load: load_dataset dispatches on the detected format") {
    const auto dir = mtag::test::fresh_dir("load_dispatch");
    mtag::test::write_tone(dir / "audio" / "a.wav", 0.05);
    mtag::test::write_text(dir / "manifest.csv", "path,tags,split\naudio/a.wav,x,train\n");
    const Dataset d = load_dataset(dir);
    CHECK(d.format == "csv");
    CHECK(d.clips.size() == 1);
}
