// Tests of data/synth/renderer and data/synth_corpus: fluidsynth rendering, determinism, the manifest.
// They need the General MIDI soundfont scripts/setup.sh installs (timgm6mb-soundfont) and skip with a
// WARN when it is absent.
#include "support/shared_fixture.hpp"
#include "data/synth/composer.hpp"
#include "data/synth/renderer.hpp"
#include "data/synth/styles.hpp"
#include "data/synth/corpus.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

using namespace mtag;
using namespace mtag::data;

namespace {

synth::RenderOptions render_options(int sample_rate, int channels) {
    synth::RenderOptions options;
    options.sample_rate = sample_rate;
    options.channels = channels;
    return options;
}

SynthCorpusOptions corpus_options(const std::filesystem::path& out, int clips, double seconds,
                                  int sample_rate, std::uint64_t seed, int threads) {
    SynthCorpusOptions options;
    options.out = out;
    options.clips = clips;
    options.seconds = seconds;
    options.sample_rate = sample_rate;
    options.seed = seed;
    options.threads = threads;
    return options;
}

bool have_soundfont() {
    return mtag::test::require_fixture(synth::default_soundfont(), "the soundfont (scripts/setup.sh installs timgm6mb-soundfont)");
}

std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    std::string part;
    while (std::getline(stream, part, separator)) parts.push_back(part);
    return parts;
}

double rms(const std::vector<float>& x) {
    double sum = 0;
    for (float v : x) sum += static_cast<double>(v) * v;
    return std::sqrt(sum / static_cast<double>(x.size()));
}

}  // namespace

TEST_CASE("synth renderer: exact duration and the score's peak level and not silent in mono and stereo") {
    if (!have_soundfont()) return;
    for (int channels : {1, 2}) {
        synth::Renderer renderer(render_options(16000, channels));
        for (std::size_t s = 0; s < synth::styles().size(); ++s) {
            const synth::Score score = synth::compose(synth::styles()[s], 1.37, 100 + s);
            const dsp::Audio audio = renderer.render(score);
            INFO(score.style << " channels " << channels);
            CHECK(audio.sample_rate == 16000);
            CHECK(audio.channels == channels);
            CHECK(audio.frames() == static_cast<std::size_t>(std::llround(1.37 * 16000)));
            float peak = 0;
            for (float v : audio.samples) peak = std::max(peak, std::abs(v));
            CHECK(20 * std::log10(peak) == Approx(score.peak_dbfs).margin(0.01));
            CHECK(rms(audio.samples) > 0.01 * peak);  // music, not a click
        }
    }
}

TEST_CASE("synth renderer: the same score gives the same samples on a used or a new renderer") {
    if (!have_soundfont()) return;
    const synth::Score first = synth::compose(synth::styles()[1], 2.0, 7);
    const synth::Score second = synth::compose(synth::styles()[3], 2.0, 8);
    synth::Renderer used({}), fresh({});
    used.render(first);
    const dsp::Audio a = used.render(second);
    const dsp::Audio b = fresh.render(second);
    CHECK(a.samples == b.samples);
    const dsp::Audio c = fresh.render(synth::compose(synth::styles()[3], 2.0, 9));
    CHECK(c.samples != b.samples);
}

TEST_CASE("synth renderer: a missing soundfont or a bad option is a clear error") {
    synth::RenderOptions missing;
    missing.soundfont = "/no/such/font.sf2";
    CHECK_THROWS_WITH(synth::Renderer(missing), Catch::Contains("not found") && Catch::Contains("setup.sh"));
    test::TempDir dir("synth_not_a_soundfont");
    std::ofstream(dir / "fake.sf2") << "RIFF\x04\x00\x00\x00WAVEfmt ";
    synth::RenderOptions fake;
    fake.soundfont = dir / "fake.sf2";
    CHECK_THROWS_WITH(synth::Renderer(fake), Catch::Contains("not a SoundFont 2"));
    if (!have_soundfont()) return;
    CHECK_THROWS_AS(synth::Renderer(render_options(4000, 1)), Error);
    CHECK_THROWS_AS(synth::Renderer(render_options(22050, 3)), Error);
}

TEST_CASE("synth corpus: genres are balanced and splits are stratified 70/10/20 per genre") {
    const int n_styles = static_cast<int>(synth::styles().size());
    std::vector<int> genres;
    for (int i = 0; i < 10 * n_styles; ++i) genres.push_back(synth_clip_style(5, i));
    for (int g = 0; g < n_styles; ++g) CHECK(std::count(genres.begin(), genres.end(), g) == 10);
    CHECK(synth_clip_style(5, 3) == synth_clip_style(5, 3));

    const auto splits = stratified_splits(genres, 5);
    for (int g = 0; g < n_styles; ++g) {
        std::map<std::string, int> counts;
        for (std::size_t i = 0; i < genres.size(); ++i) {
            if (genres[i] == g) ++counts[splits[i]];
        }
        CHECK(counts["train"] == 7);
        CHECK(counts["valid"] == 1);
        CHECK(counts["test"] == 2);
    }
    CHECK(stratified_splits(genres, 5) == splits);
    CHECK(stratified_splits(genres, 6) != splits);
    // Rounding for a genre of 3: round(2.1) train, round(0.3) valid, the rest test.
    const auto three = stratified_splits({0, 0, 0}, 1);
    CHECK(std::count(three.begin(), three.end(), "train") == 2);
    CHECK(std::count(three.begin(), three.end(), "test") == 1);
}

TEST_CASE("synth corpus: manifest format and files and tags and splits") {
    if (!have_soundfont()) return;
    test::TempDir dir("synth_corpus_manifest");
    SynthCorpusOptions options = corpus_options(dir.path(), 10, 1.5, 16000, 11, 2);
    int last_done = 0;
    options.progress = [&](int done, int total) {
        CHECK(done == last_done + 1);
        CHECK(total == 10);
        last_done = done;
    };
    const auto clips = write_synth_corpus(options);
    CHECK(last_done == 10);
    REQUIRE(clips.size() == 10);

    const auto lines = split(read_bytes(dir / "manifest.csv"), '\n');
    REQUIRE(lines.size() == 11);
    CHECK(lines[0] == "path,tags,split");
    const auto vocab_styles = synth::styles();
    for (std::size_t i = 0; i < clips.size(); ++i) {
        const auto fields = split(lines[i + 1], ',');
        REQUIRE(fields.size() == 3);
        CHECK(fields[0] == clips[i].path);
        CHECK(fields[0].rfind("audio/", 0) == 0);
        CHECK((fields[2] == "train" || fields[2] == "valid" || fields[2] == "test"));
        const auto tags = split(fields[1], ';');
        CHECK(tags == clips[i].tags);
        CHECK(std::any_of(vocab_styles.begin(), vocab_styles.end(),
                          [&](const synth::Style& s) { return s.name == tags.front(); }));
        CHECK(((tags.back() == "major") || (tags.back() == "minor")));
        const auto info = dsp::read_audio_info(dir.path() / fields[0]);
        CHECK(info.sample_rate == 16000);
        CHECK(info.channels == 1);
        CHECK(info.frames == 24000);
        // The tags are the score's tags.
        CHECK(tags == synth::score_tags(synth_clip_score(11, static_cast<int>(i), 1.5)));
    }
    CHECK(std::filesystem::exists(dir / "synth.json"));
    CHECK_FALSE(std::filesystem::exists(dir / "manifest.csv.tmp"));
}

TEST_CASE(
    "synth corpus: the same seed gives byte-identical files for any thread count and another seed differs") {
    if (!have_soundfont()) return;
    test::TempDir dir("synth_corpus_determinism");
    auto make = [&](const std::string& name, int threads, std::uint64_t seed) {
        return write_synth_corpus(corpus_options(dir / name, 6, 1.0, 11025, seed, threads));
    };
    const auto a = make("a", 1, 3);
    make("b", 3, 3);
    make("c", 1, 4);
    for (const SynthClip& clip : a) {
        const std::string bytes = read_bytes(dir / "a" / clip.path);
        CHECK(bytes.size() > 11025);
        CHECK(bytes == read_bytes(dir / "b" / clip.path));
        CHECK(bytes != read_bytes(dir / "c" / clip.path));
    }
    CHECK(read_bytes(dir / "a" / "manifest.csv") == read_bytes(dir / "b" / "manifest.csv"));
    CHECK(read_bytes(dir / "a" / "synth.json") == read_bytes(dir / "b" / "synth.json"));
}

TEST_CASE("synth corpus: bad options are usage errors") {
    test::TempDir dir("synth_corpus_options");
    CHECK_THROWS_AS(write_synth_corpus(corpus_options(dir.path(), 0, 1.0, 22050, 0, 1)), UsageError);
    CHECK_THROWS_AS(write_synth_corpus(corpus_options(dir.path(), 2, 0.5, 22050, 0, 1)), UsageError);
    CHECK_THROWS_AS(write_synth_corpus(corpus_options(dir.path(), 2, 1.0, 200000, 0, 1)), UsageError);
    CHECK_THROWS_AS(write_synth_corpus(corpus_options({}, 2, 1.0, 22050, 0, 1)), UsageError);
    CHECK_THROWS_AS(write_synth_corpus(corpus_options(dir.path(), 2, 1.0, 22050, 0, 0)), UsageError);
}

TEST_CASE("synth renderer: every tagged instrument is audible in the mix") {
    if (!have_soundfont()) return;
    // Each part played alone (same mix settings, raw level) against the whole mix: no part may be
    // buried more than 30 dB under it (over 160 ten-second clips the quietest part measured -23 dB).
    synth::RenderOptions options = render_options(16000, 1);
    options.normalize = false;
    synth::Renderer renderer(options);
    for (int i = 0; i < 8; ++i) {
        const synth::Score score = synth_clip_score(21, i, 2.0);
        const double mix = rms(renderer.render(score).samples);
        for (std::size_t p = 0; p < score.parts.size(); ++p) {
            synth::Score solo = score;
            solo.parts = {score.parts[p]};
            solo.notes.clear();
            for (synth::Note note : score.notes) {
                if (note.part != static_cast<int>(p)) continue;
                note.part = 0;
                solo.notes.push_back(note);
            }
            INFO(score.style << " part " << score.parts[p].role << " program " << score.parts[p].program);
            CHECK(20 * std::log10(rms(renderer.render(solo).samples) / mix) > -30.0);
        }
    }
}
