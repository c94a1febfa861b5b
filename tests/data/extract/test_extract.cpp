// Tests app/extract end to end: outputs and their .npy headers, features.json, the bad-file path, resuming
// after a completed run and after a killed one, the manifest path and name collisions.
#include "data/extract/extract.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/npy.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

using namespace mtag;
namespace fs = std::filesystem;

namespace {

void write_tone(const fs::path& path, double seconds, int sample_rate, double hz) {
    fs::create_directories(path.parent_path());
    dsp::Audio audio;
    audio.sample_rate = sample_rate;
    audio.channels = 1;
    const auto n = static_cast<std::size_t>(seconds * sample_rate);
    for (std::size_t i = 0; i < n; ++i)
        audio.samples.push_back(
            static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * hz * i / sample_rate)));
    dsp::save_audio(path, audio);
}

// A fresh folder with music/a/x.wav (1 s), music/a/b/y.flac (0.5 s, 22.05 kHz), music/bad.wav (garbage)
// and music/notes.txt (not audio).
fs::path make_tree(const std::string& name) {
    const fs::path root = fs::path(MTAG_TEST_TMP) / "extract" / name;
    fs::remove_all(root);
    write_tone(root / "music/a/x.wav", 1.0, 16000, 440);
    write_tone(root / "music/a/b/y.flac", 0.5, 22050, 880);
    std::ofstream(root / "music/bad.wav") << "RIFF this is not really a wave file";
    std::ofstream(root / "music/notes.txt") << "not audio";
    return root;
}

nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

data::ExtractOptions options_for(const fs::path& root) {
    data::ExtractOptions options;
    options.inputs = {(root / "music").string()};
    options.out_dir = root / "out";
    options.jobs = 2;
    options.quiet = true;
    return options;
}

}  // namespace

TEST_CASE("extract: outputs mirror the tree, headers are valid, a bad file is reported and skipped") {
    const fs::path root = make_tree("basic");
    const data::ExtractOptions options = options_for(root);
    const data::ExtractSummary summary = data::run_extract(options);
    CHECK(summary.total == 3);
    CHECK(summary.computed == 2);
    CHECK(summary.failed == 1);
    CHECK(summary.exit_code() == 3);

    const dsp::NpyHeader x = dsp::read_npy_header(options.out_dir / "a/x.npy");
    CHECK(x.descr == "<f4");
    CHECK_FALSE(x.fortran_order);
    CHECK(x.data_offset % 64 == 0);
    CHECK(x.shape == std::vector<std::size_t>{96, 1 + 16000 / 256});
    const dsp::NpyHeader y = dsp::read_npy_header(options.out_dir / "a/b/y.npy");
    CHECK(y.shape == std::vector<std::size_t>{96, 1 + 8000 / 256});  // resampled to 16 kHz
    CHECK_FALSE(fs::exists(options.out_dir / "notes.npy"));
    CHECK_FALSE(fs::exists(options.out_dir / "bad.npy"));

    // The 440 Hz tone peaks in the mel band around 440 Hz at 0 dB ref 1.0 scale, well above the floor.
    const dsp::FloatMatrix feature = dsp::load_npy(options.out_dir / "a/x.npy");
    std::size_t peak_band = 0;
    for (std::size_t m = 0; m < feature.rows; ++m)
        if (feature(m, 30) > feature(peak_band, 30)) peak_band = m;
    CHECK(peak_band > 5);
    CHECK(peak_band < 30);

    const nlohmann::json doc = read_json(options.out_dir / "features.json");
    CHECK(doc.at("config_hash") == options.config.hash());
    CHECK(doc.at("config").at("n_mels") == 96);
    CHECK(doc.at("mtag_version").is_string());
    REQUIRE(doc.at("outputs").size() == 2);
    CHECK(doc.at("outputs")[0].at("output") == "a/b/y.npy");  // sorted walk
    CHECK(doc.at("outputs")[0].at("frames") == 1 + 8000 / 256);
    REQUIRE(doc.at("failures").size() == 1);
    CHECK(doc.at("failures")[0].at("input").get<std::string>().find("bad.wav") != std::string::npos);
    CHECK(doc.at("failures")[0].at("error").get<std::string>().find("bad.wav") != std::string::npos);
}

TEST_CASE("extract: a rerun skips finished outputs, changed inputs or config recompute") {
    const fs::path root = make_tree("resume");
    data::ExtractOptions options = options_for(root);
    data::run_extract(options);
    const auto written = fs::last_write_time(options.out_dir / "a/x.npy");

    data::ExtractSummary again = data::run_extract(options);
    CHECK(again.skipped == 2);
    CHECK(again.computed == 0);
    CHECK(again.failed == 1);
    CHECK(fs::last_write_time(options.out_dir / "a/x.npy") == written);
    CHECK(read_json(options.out_dir / "features.json").at("outputs").size() == 2);

    // A modified input is recomputed.
    write_tone(root / "music/a/x.wav", 2.0, 16000, 440);
    again = data::run_extract(options);
    CHECK(again.computed == 1);
    CHECK(again.skipped == 1);
    CHECK(dsp::read_npy_header(options.out_dir / "a/x.npy").shape[1] == 1 + 32000 / 256);

    // A truncated output is recomputed.
    fs::resize_file(options.out_dir / "a/b/y.npy", 100);
    again = data::run_extract(options);
    CHECK(again.computed == 1);

    // Another config recomputes everything and records the new hash.
    options.config.n_mels = 64;
    again = data::run_extract(options);
    CHECK(again.computed == 2);
    CHECK(dsp::read_npy_header(options.out_dir / "a/x.npy").shape[0] == 64);
    CHECK(read_json(options.out_dir / "features.json").at("config_hash") == options.config.hash());

    // --force recomputes.
    options.force = true;
    CHECK(data::run_extract(options).computed == 2);
}

TEST_CASE("extract: a killed run (no features.json, temporaries left) resumes from the journal") {
    const fs::path root = make_tree("killed");
    const data::ExtractOptions options = options_for(root);
    data::run_extract(options);
    // What a kill leaves: features.json not yet written, a half-written temporary next to an output.
    fs::remove(options.out_dir / "features.json");
    std::ofstream(options.out_dir / "a/x.npy.tmp-99999-0") << "partial";
    const data::ExtractSummary again = data::run_extract(options);
    CHECK(again.skipped == 2);
    CHECK(again.computed == 0);
    CHECK_FALSE(fs::exists(options.out_dir / "a/x.npy.tmp-99999-0"));
    CHECK(read_json(options.out_dir / "features.json").at("outputs").size() == 2);

    // A journal line cut short by the kill is ignored, the rest still counts.
    {
        std::ofstream journal(options.out_dir / "extract.journal.jsonl", std::ios::app);
        journal << "{\"input\": \"cut sh";
    }
    fs::remove(options.out_dir / "features.json");
    CHECK(data::run_extract(options).skipped == 2);
}

TEST_CASE("extract: journal records with non-integer numbers are ignored, not converted") {
    // Regression (tests/fuzz/corpus/extract_journal/regression_float_frames): a record whose "frames" was
    // a float far outside int64 was cast to int64 (undefined behaviour under UBSan).
    const fs::path root = make_tree("float_journal");
    const data::ExtractOptions options = options_for(root);
    data::run_extract(options);
    fs::remove(options.out_dir / "features.json");
    std::string journal;
    {
        std::ifstream in(options.out_dir / "extract.journal.jsonl");
        journal.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto at = journal.find("\"frames\":");
    REQUIRE(at != std::string::npos);
    const auto end = journal.find_first_of(",}", at);
    journal.replace(at, end - at, "\"frames\": -9.28224e+18");
    std::ofstream(options.out_dir / "extract.journal.jsonl", std::ios::trunc) << journal;
    const data::ExtractSummary again = data::run_extract(options);
    CHECK(again.computed == 1);  // the damaged record is recomputed
    CHECK(again.skipped == 1);
    CHECK(again.failed == 1);  // the tree's bad.wav, as in every run
}

TEST_CASE("extract: manifest rows resolve against the manifest's folder") {
    const fs::path root = make_tree("manifest");
    {
        std::ofstream csv(root / "music/manifest.csv");
        csv << "path,tags,split\n"
            << "a/x.wav,\"rock,guitar\",train\n"
            << "\"a/b/y.flac\",pop,test\n"
            << "\n";
    }
    data::ExtractOptions options;
    options.manifest = (root / "music/manifest.csv").string();
    options.out_dir = root / "out";
    options.quiet = true;
    const data::ExtractSummary summary = data::run_extract(options);
    CHECK(summary.computed == 2);
    CHECK(summary.failed == 0);
    CHECK(summary.exit_code() == 0);
    CHECK(fs::exists(options.out_dir / "a/x.npy"));
    CHECK(fs::exists(options.out_dir / "a/b/y.npy"));

    std::ofstream(root / "music/no_path.csv") << "file,tags\nx.wav,rock\n";
    options.manifest = (root / "music/no_path.csv").string();
    CHECK_THROWS_WITH(data::run_extract(options), Catch::Contains("no 'path' column"));
}

TEST_CASE("extract: same-named inputs with different extensions keep distinct outputs") {
    const fs::path root = fs::path(MTAG_TEST_TMP) / "extract" / "collide";
    fs::remove_all(root);
    write_tone(root / "in/song.wav", 0.3, 16000, 440);
    write_tone(root / "in/song.flac", 0.3, 16000, 440);
    data::ExtractOptions options;
    options.inputs = {(root / "in").string()};
    options.out_dir = root / "out";
    options.quiet = true;
    const std::vector<data::ExtractItem> items = data::collect_extract_items(options);
    REQUIRE(items.size() == 2);
    CHECK(items[0].relative == "song.npy");  // song.flac sorts first
    CHECK(items[1].relative == "song.wav.npy");
    CHECK(data::run_extract(options).computed == 2);
}
