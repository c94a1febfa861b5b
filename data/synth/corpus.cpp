// The synthetic demo corpus: plan (genres, seeds, splits), render on worker threads, write files.
#include "data/synth/corpus.hpp"

#include "data/sets/dataset.hpp"
#include "data/sets/manifest.hpp"
#include "data/sets/split.hpp"
#include "data/synth/composer.hpp"
#include "data/synth/renderer.hpp"
#include "data/synth/rng.hpp"
#include "data/synth/styles.hpp"
#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <fstream>
#include <mutex>
#include <numeric>
#include <thread>

namespace mtag::data {
namespace {

// Independent random streams derived from the user's seed.
constexpr std::uint64_t genre_stream = 1, clip_stream = 2, split_stream = 3;

std::string clip_name(int index, int clips) {
    const int width = std::max(5, static_cast<int>(std::to_string(clips - 1).size()));
    std::string digits = std::to_string(index);
    return "audio/clip_" + std::string(static_cast<std::size_t>(width) - digits.size(), '0') + digits +
           ".wav";
}

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw Error("'" + tmp.string() + "'", "cannot open for writing");
        out << text;
        out.flush();
        if (!out) throw Error("'" + tmp.string() + "'", "write failed (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error("'" + path.string() + "'", "cannot rename the temporary file: " + ec.message());
}

void validate(const SynthCorpusOptions& o) {
    if (o.out.empty()) throw UsageError("--out", "the corpus folder is required");
    if (o.clips < 1) throw UsageError("--clips " + std::to_string(o.clips), "must be at least 1");
    if (!(o.seconds >= 1.0 && o.seconds <= 600.0))
        throw UsageError("--seconds " + std::to_string(o.seconds), "clips must be 1-600 s long");
    if (o.sample_rate < 8000 || o.sample_rate > 96000)
        throw UsageError("--sample-rate " + std::to_string(o.sample_rate),
                         "fluidsynth renders at 8000-96000 Hz");
    if (o.channels != 1 && o.channels != 2)
        throw UsageError("--channels " + std::to_string(o.channels), "the corpus is mono (1) or stereo (2)");
    if (o.threads < 1) throw UsageError("--threads " + std::to_string(o.threads), "must be at least 1");
}

nlohmann::json clip_json(const SynthClip& clip, const synth::Score& score) {
    static const char* pitch_names[] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
    nlohmann::json parts = nlohmann::json::array();
    for (const synth::Part& part : score.parts) {
        const auto family =
            part.percussion ? std::optional(synth::Family::drums) : synth::family_of_program(part.program);
        parts.push_back({{"role", part.role},
                         {part.percussion ? "kit" : "program", part.program},
                         {"family", family ? std::string(synth::family_name(*family)) : ""},
                         {"volume", part.volume},
                         {"pan", part.pan}});
    }
    return {{"path", clip.path},
            {"tags", clip.tags},
            {"split", clip.split},
            {"genre", score.style},
            {"tempo_bpm", score.tempo_bpm},
            {"meter", std::to_string(score.beats_per_bar) + "/4"},
            {"key", std::string(pitch_names[score.tonic]) + (score.major ? " major" : " minor")},
            {"notes", score.notes.size()},
            {"parts", parts}};
}

}  // namespace

int synth_clip_style(std::uint64_t seed, int index) {
    const int n = static_cast<int>(synth::styles().size());
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    synth::Rng rng(synth::derive_seed(seed, genre_stream, static_cast<std::uint64_t>(index / n)));
    rng.shuffle(std::span<int>(order));
    return order[static_cast<std::size_t>(index % n)];
}

synth::Score synth_clip_score(std::uint64_t seed, int index, double seconds) {
    const synth::Style& style = synth::styles()[static_cast<std::size_t>(synth_clip_style(seed, index))];
    return synth::compose(style, seconds,
                          synth::derive_seed(seed, clip_stream, static_cast<std::uint64_t>(index)));
}

std::vector<std::string> stratified_splits(const std::vector<int>& genres, std::uint64_t seed) {
    // The loaders' stratified split over one-hot genre labels: per-genre proportional 70/10/20.
    Dataset dataset;
    const int n_genres = genres.empty() ? 0 : *std::max_element(genres.begin(), genres.end()) + 1;
    dataset.vocabulary.resize(static_cast<std::size_t>(n_genres));
    for (int genre : genres) {
        Clip clip;
        clip.tags.assign(static_cast<std::size_t>(n_genres), 0);
        clip.tags[static_cast<std::size_t>(genre)] = 1;
        dataset.clips.push_back(std::move(clip));
    }
    stratified_split(dataset, synth::derive_seed(seed, split_stream, 0));
    std::vector<std::string> splits;
    for (const Clip& clip : dataset.clips) splits.push_back(to_string(clip.split));
    return splits;
}

std::vector<SynthClip> write_synth_corpus(const SynthCorpusOptions& options) {
    validate(options);
    synth::RenderOptions render_options;
    if (!options.soundfont.empty()) render_options.soundfont = options.soundfont;
    render_options.sample_rate = options.sample_rate;
    render_options.channels = options.channels;

    std::error_code ec;
    std::filesystem::create_directories(options.out / "audio", ec);
    if (ec)
        throw Error("--out '" + options.out.string() + "'",
                    "cannot create the audio folder: " + ec.message());

    const int n = options.clips;
    std::vector<int> genres(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) genres[static_cast<std::size_t>(i)] = synth_clip_style(options.seed, i);
    const std::vector<std::string> splits = stratified_splits(genres, options.seed);
    std::vector<SynthClip> clips(static_cast<std::size_t>(n));
    std::vector<nlohmann::json> details(static_cast<std::size_t>(n));

    // Workers take the next clip index; each renders with its own synth. The first failure stops all.
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex mutex;
    int done = 0;
    auto work = [&](synth::Renderer& renderer) {
        for (int i = next++; i < n && !failed; i = next++) {
            const auto k = static_cast<std::size_t>(i);
            const synth::Score score = synth_clip_score(options.seed, i, options.seconds);
            const dsp::Audio audio = renderer.render(score);
            SynthClip& clip = clips[k];
            clip.path = clip_name(i, n);
            clip.tags = synth::score_tags(score);
            clip.split = splits[k];
            dsp::save_audio(options.out / clip.path, audio, dsp::SampleFormat::pcm16);
            details[k] = clip_json(clip, score);
            std::lock_guard lock(mutex);
            ++done;
            if (options.progress) options.progress(done, n);
        }
    };
    const int threads = std::min(options.threads, n);
    std::vector<std::thread> workers;
    auto guarded = [&](std::unique_ptr<synth::Renderer> renderer) {
        try {
            if (!renderer) renderer = std::make_unique<synth::Renderer>(render_options);
            work(*renderer);
        } catch (...) {
            std::lock_guard lock(mutex);
            if (!error) error = std::current_exception();
            failed = true;
        }
    };
    // The first synth is made here so that a bad soundfont fails before any thread starts.
    auto first = std::make_unique<synth::Renderer>(render_options);
    for (int t = 1; t < threads; ++t) workers.emplace_back(guarded, nullptr);
    guarded(std::move(first));
    for (std::thread& worker : workers) worker.join();
    if (error) std::rethrow_exception(error);

    std::vector<ManifestRow> rows;
    for (const SynthClip& clip : clips)
        rows.push_back({.path = clip.path, .tags = clip.tags, .split = clip.split});
    write_manifest(options.out / "manifest.csv", rows);

    std::vector<std::string> genre_names;
    for (const synth::Style& style : synth::styles()) genre_names.push_back(style.name);
    nlohmann::json meta = {
        {"generator", "mtag synth"},
        {"seed", options.seed},
        {"clips", n},
        {"seconds", options.seconds},
        {"sample_rate", options.sample_rate},
        {"channels", options.channels},
        {"soundfont", render_options.soundfont.string()},
        {"tags", synth::tag_vocabulary(genre_names)},
        {"tag_rules",
         {{"genre", "the style the clip was composed in"},
          {"families", "GM family of every part with at least one note (drums: the percussion channel)"},
          {"slow", "tempo below " + std::to_string(int(synth::slow_below_bpm)) + " quarter-note BPM"},
          {"fast",
           "tempo at or above " + std::to_string(int(synth::fast_from_bpm)) + " BPM; between: no tempo tag"},
          {"major/minor", "mode of the scale all harmony and melody use; progressions start on the tonic"}}},
        {"split_rule", "stratified by genre, 70/10/20 train/valid/test (data::stratified_split, seeded)"},
        {"items", details}};
    write_text_atomically(options.out / "synth.json", meta.dump(1) + "\n");
    return clips;
}

}  // namespace mtag::data
