#include "data/tag/tagger.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_extractor.hpp"
#include "nn/model_io.hpp"
#include "nn/models/zoo.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <numbers>
#include <thread>

using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

constexpr int kRate = 8000;

// A chirp plus a second partial so chunks differ from each other.
std::vector<float> test_signal(double seconds) {
    std::vector<float> x(static_cast<std::size_t>(seconds * kRate));
    double phase = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double hz = 150.0 + 2500.0 * i / x.size();
        phase += 2 * std::numbers::pi * hz / kRate;
        x[i] = static_cast<float>(0.3 * std::sin(phase) + 0.1 * std::sin(0.013 * i));
    }
    return x;
}

// A tiny cnn1d over 16 log-mel bins, 32-frame chunks (~1 s at 8 kHz, hop 256), saved with a card.
// Stands in for `mtag train` output until the trainer writes runs (data/model_card on wip-run).
RunCard write_tiny_run(const fs::path& dir, Task task = Task::multilabel, std::uint64_t seed = 3) {
    const std::int64_t n_tags = 4;
    auto model = mtag::nn::models::build_model({{"preset", "cnn1d"},
                                                 {"seed", seed},
                                                 {"n_mels", 16},
                                                 {"input_frames", 32},
                                                 {"channels", {8, 8, 8}},
                                                 {"kernel_sizes", {3, 3, 3}},
                                                 {"pools", {2, 2, 1}},
                                                 {"dense", {6}}},
                                                n_tags);
    model->eval();
    // Non-trivial BN statistics, so a lost buffer would show.
    for (mtag::nn::Buffer* b : model->buffers())
        if (!b->integer && b->name.find("running_var") != std::string::npos) b->value.fill(1.5f);
    RunCard card;
    card.features.sample_rate = kRate;
    card.features.n_fft = 512;
    card.features.hop_length = 256;
    card.features.n_mels = 16;
    card.features.fmax = 4000;
    card.features = card.features.resolved();
    card.sample_rate = kRate;
    card.input_length = 32;
    card.tags = {"rock", "jazz", "piano", "vocal"};
    card.task = task;
    Normalization norm;
    norm.mean.assign(16, -40.0f);
    norm.std.assign(16, 20.0f);
    card.normalization = norm;
    card.chunking.length = 32;
    card.chunking.eval = EvalChunking::evenly_spaced;
    card.chunking.eval_chunks = 4;
    mtag::nn::save_model(*model, dir, card.to_metadata());
    return card;
}

}  // namespace

TEST_CASE("tagger: the card round-trips through model.json") {
    mtag::test::TempDir tmp("tagger_card");
    const RunCard written = write_tiny_run(tmp.path(), Task::singlelabel);
    const Tagger tagger(tmp.path());
    const RunCard& c = tagger.card();
    CHECK(c.preset == "cnn1d");
    CHECK_FALSE(c.waveform);
    CHECK(c.features == written.features);
    CHECK(c.sample_rate == kRate);
    CHECK(c.input_length == 32);
    CHECK(c.tags == written.tags);
    CHECK(c.task == Task::singlelabel);
    REQUIRE(c.normalization);
    CHECK(c.normalization->mean == written.normalization->mean);
    CHECK(c.chunking.eval == EvalChunking::evenly_spaced);
    CHECK(c.chunking.eval_chunks == 4);
    CHECK(c.window_samples() == 31 * 256);
    CHECK(tagger.embedding_size() == 6);
}

TEST_CASE("tagger: runs saved by data/model_card (save_run) tag like the same card in the legacy keys") {
    mtag::test::TempDir tmp("tagger_model_card");
    const RunCard legacy = write_tiny_run(tmp / "legacy");
    auto loaded = mtag::nn::load_model(tmp / "legacy");
    auto model = std::dynamic_pointer_cast<mtag::nn::models::TaggingModel>(loaded.model);
    ModelCard card;
    card.preset = "cnn1d";
    card.model_options = loaded.card["architecture"]["options"];
    card.features = legacy.features;
    card.input_length = legacy.input_length;
    card.tags = legacy.tags;
    card.task = legacy.task;
    card.normalization = *legacy.normalization;
    card.evaluation = legacy.chunking;
    save_run(*model, card, tmp / "card");
    const Tagger a(tmp / "legacy"), b(tmp / "card");
    CHECK(b.card().features == legacy.features);
    CHECK(b.card().chunking.eval_chunks == 4);
    const std::vector<float> x = test_signal(3.0);
    const TagOptions options{.layout = ChunkLayout::card};
    CHECK(a.session()->tag_samples(x, options).scores == b.session()->tag_samples(x, options).scores);
}

TEST_CASE("tagger: a card whose tags disagree with the model is rejected") {
    mtag::test::TempDir tmp("tagger_bad_card");
    RunCard card = write_tiny_run(tmp.path());
    card.tags.pop_back();
    auto loaded = mtag::nn::load_model(tmp.path());
    mtag::nn::save_model(*loaded.model, tmp.path(), card.to_metadata());
    CHECK_THROWS_WITH(Tagger(tmp.path()), Catch::Contains("3 tags but the model has 4 outputs"));
}

TEST_CASE("tagger: clip scores are the mean of the chunk scores, computed as in training") {
    mtag::test::TempDir tmp("tagger_chunks");
    const RunCard card = write_tiny_run(tmp.path());
    const Tagger tagger(tmp.path());
    auto session = tagger.session();
    const std::vector<float> x = test_signal(5.0);  // 40000 samples = 157 frames -> 4 chunks of 32
    TagOptions options{.batch_size = 3, .embedding = true, .taggram = true};
    const TagResult r = session->tag_samples(x, options);
    REQUIRE(r.chunks == 4);
    REQUIRE(r.taggram.size() == 4 * 4);
    REQUIRE(r.embedding.size() == 6);
    CHECK(r.duration_seconds == Approx(5.0));
    for (std::size_t t = 0; t < 4; ++t) {
        double mean = 0;
        for (std::size_t c = 0; c < 4; ++c) {
            const float s = r.taggram[c * 4 + t];
            CHECK(s > 0.0f);
            CHECK(s < 1.0f);
            mean += s / 4;
        }
        CHECK(r.scores[t] == Approx(mean).epsilon(1e-6));
    }
    // Chunks differ (the model does look at the audio).
    CHECK(r.taggram[0] != r.taggram[12]);

    // Chunk 2 by hand: window at frame 64, front end on the window, normalise, forward, sigmoid.
    auto model = std::dynamic_pointer_cast<mtag::nn::models::TaggingModel>(mtag::nn::load_model(tmp.path()).model);
    std::vector<float> window(x.begin() + 64 * 256, x.begin() + 64 * 256 + card.window_samples());
    mtag::dsp::FeatureExtractor fe(card.features);
    mtag::dsp::FloatMatrix f;
    fe.compute(window, f);
    REQUIRE(f.cols == 32);
    card.normalization->apply(f);
    const mtag::nn::Tensor logits = model->forward(mtag::nn::Tensor::from({1, 16, 32}, f.data));
    for (std::size_t t = 0; t < 4; ++t)
        CHECK(r.taggram[2 * 4 + t] == Approx(1.0 / (1.0 + std::exp(-logits[t]))).epsilon(1e-5));

    // The batch size does not change the result.
    options.batch_size = 1;
    const TagResult one = session->tag_samples(x, options);
    for (std::size_t t = 0; t < 4; ++t) CHECK(one.scores[t] == Approx(r.scores[t]).epsilon(1e-5));
}

TEST_CASE("tagger: single-label runs average softmax probabilities, short clips are padded to one chunk") {
    mtag::test::TempDir tmp("tagger_softmax");
    write_tiny_run(tmp.path(), Task::singlelabel);
    const Tagger tagger(tmp.path());
    auto session = tagger.session();
    const TagResult r = session->tag_samples(test_signal(0.5), {.taggram = true});
    CHECK(r.chunks == 1);
    double sum = 0;
    for (float s : r.scores) sum += s;
    CHECK(sum == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("tagger: a streamed long file gives the whole-signal result, in both chunk layouts") {
    mtag::test::TempDir tmp("tagger_stream");
    write_tiny_run(tmp.path());
    const Tagger tagger(tmp.path());
    auto session = tagger.session();
    // 40 s: the stream decodes it in several blocks and keeps only a window's worth of samples.
    mtag::dsp::Audio audio{test_signal(40.0), kRate, 1};
    const fs::path wav = tmp / "long.wav";
    mtag::dsp::save_audio(wav, audio, mtag::dsp::SampleFormat::float32);
    for (ChunkLayout layout : {ChunkLayout::all, ChunkLayout::card}) {
        const TagOptions options{.layout = layout, .embedding = true, .taggram = true};
        const TagResult streamed = session->tag_file(wav, options);
        const TagResult whole = session->tag_samples(audio.samples, options);
        REQUIRE(streamed.chunks == whole.chunks);
        CHECK(streamed.chunks == (layout == ChunkLayout::all ? 39u : 4u));
        CHECK(streamed.duration_seconds == Approx(40.0));
        for (std::size_t i = 0; i < whole.taggram.size(); ++i) CHECK(streamed.taggram[i] == whole.taggram[i]);
        for (std::size_t i = 0; i < whole.embedding.size(); ++i) CHECK(streamed.embedding[i] == whole.embedding[i]);
    }
    CHECK_THROWS_AS(session->tag_file(tmp / "missing.wav"), mtag::Error);
}

TEST_CASE("tagger: sessions are independent copies usable from two threads") {
    mtag::test::TempDir tmp("tagger_threads");
    write_tiny_run(tmp.path());
    const Tagger tagger(tmp.path());
    const std::vector<float> a = test_signal(3.0), b = test_signal(7.0);
    const TagResult ra = tagger.session()->tag_samples(a), rb = tagger.session()->tag_samples(b);
    TagResult ta, tb;
    std::thread t1([&] { auto s = tagger.session(); for (int i = 0; i < 3; ++i) ta = s->tag_samples(a); });
    std::thread t2([&] { auto s = tagger.session(); for (int i = 0; i < 3; ++i) tb = s->tag_samples(b); });
    t1.join();
    t2.join();
    CHECK(ta.scores == ra.scores);
    CHECK(tb.scores == rb.scores);
}

// Not run by ctest directly: the CLI smoke tests (tests/cli_tests.cmake) call it to get a run directory
// and a few audio files until `mtag train` exists.
TEST_CASE("tagger: write the CLI test run", "[.cli_fixture]") {
    const fs::path root = fs::path(MTAG_TEST_TMP) / "cli_tag";
    fs::remove_all(root);
    write_tiny_run(root / "run");
    write_tiny_run(root / "run_copy");
    RunCard other = write_tiny_run(root / "run_other_tags");
    other.tags[0] = "metal";
    auto loaded = mtag::nn::load_model(root / "run_other_tags");
    mtag::nn::save_model(*loaded.model, root / "run_other_tags", other.to_metadata());
    fs::create_directories(root / "audio");
    std::string manifest = "path,tags,split\n";
    for (int i = 0; i < 8; ++i) {
        std::vector<float> x = test_signal(2.0 + i % 3);
        for (std::size_t k = 0; k < x.size(); ++k) x[k] *= i % 2 ? 1.0f : 0.3f;  // a loudness "tag"
        const std::string name = "clip" + std::to_string(i) + ".wav";
        mtag::dsp::save_audio(root / "audio" / name, mtag::dsp::Audio{x, kRate, 1}, mtag::dsp::SampleFormat::float32);
        manifest += "audio/" + name + "," + (i % 2 ? "rock;piano" : "jazz;vocal") + ",test\n";
    }
    std::ofstream(root / "manifest.csv") << manifest;
    std::ofstream(root / "audio" / "broken.wav") << "not audio";
    CHECK(fs::exists(root / "run" / "model.json"));
}

// For measuring `mtag tag` from a cold start by hand (not run by ctest): a short_chunk_cnn run at the
// preset's size (random weights) in MTAG_TEST_TMP/short_chunk_cnn_run.
TEST_CASE("tagger: write a short_chunk_cnn run", "[.bench_fixture]") {
    const fs::path dir = fs::path(MTAG_TEST_TMP) / "short_chunk_cnn_run";
    auto model = mtag::nn::models::build_model({{"preset", "short_chunk_cnn"}, {"seed", std::uint64_t{1}}}, 50);
    model->eval();
    RunCard card;
    card.features = parse_front_end(model->front_end(), "short_chunk_cnn");
    card.sample_rate = card.features.sample_rate;
    card.input_length = static_cast<std::size_t>(model->input_shape(1)[2]);
    for (int t = 0; t < 50; ++t) card.tags.push_back("tag" + std::to_string(t));
    card.chunking.length = card.input_length;
    mtag::nn::save_model(*model, dir, card.to_metadata());
    CHECK(Tagger(dir).card().input_length == card.input_length);
}
