// data/tag/parallel_tag: one file's windows spread over several sessions give what one session gives, bit
// for bit (the determinism `mtag tag` promises whatever --threads).
#include "data/tag/parallel_tag.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "nn/model_io.hpp"
#include "nn/models/zoo.hpp"
#include "nn/threads.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

constexpr int kSampleRate = 8000;

// A small cnn1d over 12 log-mel bins and 24-frame windows, saved as a run directory with per-bin
// normalisation (so every stage of the per-window path runs).
void write_run(const fs::path& dir) {
    auto model = mtag::nn::models::build_model({{"preset", "cnn1d"}, {"seed", std::uint64_t{11}}, {"n_mels", 12},
                                                 {"input_frames", 24}, {"channels", {6, 6}}, {"kernel_sizes", {3, 3}},
                                                 {"pools", {2, 1}}, {"dense", {5}}},
                                                3);
    model->eval();
    RunCard card;
    card.features.sample_rate = kSampleRate;
    card.features.n_fft = 256;
    card.features.hop_length = 128;
    card.features.n_mels = 12;
    card.features = card.features.resolved();
    card.sample_rate = kSampleRate;
    card.input_length = 24;
    card.tags = {"a", "b", "c"};
    Normalization statistics;
    statistics.mean.assign(12, -30.0f);
    statistics.std.assign(12, 15.0f);
    card.normalization = statistics;
    card.chunking.length = 24;
    mtag::nn::save_model(*model, dir, card.to_metadata());
}

// 30 s of a slow two-tone sweep: ~78 windows that all differ.
fs::path write_song(const fs::path& dir) {
    mtag::dsp::Audio audio;
    audio.sample_rate = kSampleRate;
    audio.channels = 1;
    audio.samples.resize(30 * kSampleRate);
    double phase = 0;
    for (std::size_t i = 0; i < audio.samples.size(); ++i) {
        phase += 2 * 3.141592653589793 * (200.0 + 0.01 * static_cast<double>(i)) / kSampleRate;
        audio.samples[i] = static_cast<float>(0.25 * std::sin(phase) + 0.05 * std::sin(0.37 * static_cast<double>(i)));
    }
    const fs::path path = dir / "song.wav";
    mtag::dsp::save_audio(path, audio, mtag::dsp::SampleFormat::float32);
    return path;
}

}  // namespace

TEST_CASE("parallel tag: 1, 2 and 3 sessions give bit-identical scores, embeddings and taggrams") {
    mtag::test::TempDir tmp("parallel_tag");
    write_run(tmp.path());
    const fs::path song = write_song(tmp.path());
    mtag::nn::set_thread_budget(1);  // how mtag tag runs sessions that share a file
    const Tagger tagger(tmp.path());
    std::vector<std::unique_ptr<Session>> owned;
    for (int i = 0; i < 3; ++i) owned.push_back(tagger.session());
    std::vector<Session*> sessions;
    for (const auto& s : owned) sessions.push_back(s.get());

    for (std::size_t batch : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
        const TagOptions options{.batch_size = batch, .embedding = true, .taggram = true};
        const TagResult serial = sessions[0]->tag_file(song, options);
        REQUIRE(serial.chunks > 20);  // many batches, so they really are shared out
        for (std::size_t n : {std::size_t{2}, std::size_t{3}}) {
            const TagResult parallel = tag_file_parallel(std::span(sessions.data(), n), song, options);
            INFO("batch " << batch << ", " << n << " sessions");
            CHECK(parallel.chunks == serial.chunks);
            CHECK(parallel.duration_seconds == serial.duration_seconds);
            CHECK(parallel.scores == serial.scores);
            CHECK(parallel.embedding == serial.embedding);
            CHECK(parallel.taggram == serial.taggram);
        }
    }
    // The windows differ, so an order mix-up would show in the taggram.
    const TagResult r = tag_file_parallel(sessions, song, {.taggram = true});
    CHECK(r.taggram[0] != r.taggram[3 * 10]);
}

TEST_CASE("parallel tag: an unreadable file is an error naming it, and the sessions stay usable") {
    mtag::test::TempDir tmp("parallel_tag_error");
    write_run(tmp.path());
    const Tagger tagger(tmp.path());
    auto a = tagger.session(), b = tagger.session();
    Session* sessions[] = {a.get(), b.get()};
    const fs::path missing = tmp / "missing.wav";
    CHECK_THROWS_WITH(tag_file_parallel(sessions, missing, {}), Catch::Contains("missing.wav"));
    const TagResult r = tag_file_parallel(sessions, write_song(tmp.path()), {});
    CHECK(r.chunks > 20);
}
