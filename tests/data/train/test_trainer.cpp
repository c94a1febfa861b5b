// Tests data/trainer: a tiny model of each family (1-D, 2-D, sample-level) learns a tiny synthetic
// corpus whose tags have distinct spectra; resume is bit-identical; NaN losses stop or skip; the
// checkpoint is written atomically.
#include "data/train/trainer.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "nn/train/training_state.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <numbers>
#include <random>

using namespace mtag;
using namespace mtag::data;

namespace {

constexpr int k_rate = 8000;

// Clips of 0.5 s at 8 kHz: "low" = 250 Hz tone, "high" = 2500 Hz tone, "noise" = white noise; each clip
// carries each tag with probability 1/2 (at least one). 24 train, 12 valid clips.
Dataset tiny_corpus(const std::filesystem::path& dir) {
    static const std::vector<std::string> vocabulary = {"high", "low", "noise"};
    Dataset d;
    d.format = "csv";
    d.source = dir;
    d.vocabulary = vocabulary;
    std::mt19937_64 rng(7);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    for (int i = 0; i < 36; ++i) {
        std::vector<std::uint8_t> tags(3, 0);
        while (std::count(tags.begin(), tags.end(), 1) == 0)
            for (auto& t : tags) t = static_cast<std::uint8_t>(rng() % 2);
        dsp::Audio audio;
        audio.sample_rate = k_rate;
        audio.channels = 1;
        audio.samples.assign(k_rate / 2, 0.0f);
        const double phase = (rng() % 1000) / 1000.0 * 2 * std::numbers::pi;
        for (std::size_t n = 0; n < audio.samples.size(); ++n) {
            const double t = static_cast<double>(n) / k_rate;
            float v = 0;
            if (tags[0]) v += 0.3f * static_cast<float>(std::sin(2 * std::numbers::pi * 2500 * t + phase));
            if (tags[1]) v += 0.3f * static_cast<float>(std::sin(2 * std::numbers::pi * 250 * t + phase));
            if (tags[2]) v += 0.1f * gauss(rng);
            audio.samples[n] = v;
        }
        const auto path = dir / ("clip" + std::to_string(i) + ".wav");
        dsp::save_audio(path, audio);
        Clip c;
        c.id = "clip" + std::to_string(i);
        c.audio_path = path;
        c.tags = tags;
        c.split = i < 24 ? Split::train : Split::valid;
        c.duration_seconds = 0.5;
        d.clips.push_back(c);
    }
    return d;
}

nlohmann::json tiny_features() {
    return {{"kind", "logmel"}, {"sample_rate", k_rate}, {"n_fft", 256}, {"hop_length", 64}, {"n_mels", 16}, {"fmax", 4000.0}};
}

TrainConfig tiny_config(const std::string& family) {
    nlohmann::json j = {{"batch_size", 8}, {"epochs", 12}, {"seed", 3}, {"threads", 1},
                        {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
                        {"evaluation", {{"eval_chunks", 2}}}};
    if (family == "cnn1d") {
        j["model"] = {{"preset", "cnn1d"}, {"n_mels", 16}, {"input_frames", 32}, {"channels", {8, 8, 8}},
                      {"kernel_sizes", {3, 3, 3}}, {"pools", {2, 2, 1}}, {"dense", {16}}, {"dropout", 0.1}};
        j["features"] = tiny_features();
    } else if (family == "short_chunk") {
        j["model"] = {{"preset", "short_chunk_cnn"}, {"n_mels", 16}, {"input_frames", 32}, {"channels", {8, 8, 8}},
                      {"dense", 16}, {"dropout", 0.1}};
        j["features"] = tiny_features();
    } else {
        j["model"] = {{"preset", "sample_cnn"}, {"input_samples", 729}, {"first_channels", 8},
                      {"channels", {8, 8, 8, 8, 8}}, {"final_channels", 8}, {"dropout", 0.1}};
        j["features"] = {{"kind", "waveform"}, {"sample_rate", k_rate}};
        j["optimizer"] = {{"name", "adam"}, {"lr", 3e-3}};
    }
    TrainConfig c = TrainConfig::from_json(j);
    c.resolve();
    return c;
}

std::vector<std::pair<std::string, std::vector<float>>> model_tensors(const std::filesystem::path& checkpoint) {
    const nn::TrainingCheckpoint c = nn::load_checkpoint(checkpoint);
    std::vector<std::pair<std::string, std::vector<float>>> out;
    for (const auto& [name, t] : c.tensors)
        if (name.rfind("model.", 0) == 0) out.emplace_back(name, std::vector<float>(t.data(), t.data() + t.shape().numel()));
    return out;
}

}  // namespace

TEST_CASE("trainer: a tiny model of each family learns a tiny corpus", "[trainer]") {
    const auto dir = test::fresh_dir("trainer_learn");
    const Dataset dataset = tiny_corpus(dir / "audio");
    for (const std::string family : {"cnn1d", "short_chunk", "sample_cnn"}) {
        DYNAMIC_SECTION(family) {
            TrainConfig config = tiny_config(family);
            if (family == "sample_cnn") config.epochs = 16;
            TrainerOptions o{.out_dir = dir / family, .quiet = true, .mtag_version = "test"};
            const TrainResult r = train(config, dataset, o);
            REQUIRE(r.train_losses.size() == static_cast<std::size_t>(config.epochs));
            CHECK(r.train_losses.back() < 0.8 * r.train_losses.front());
            CHECK(r.metric == "roc_auc_macro");
            CHECK(r.best_value >= 0.75);
            CHECK(r.stop_reason == "epochs");
            // The run directory is complete and loads.
            const RunModel run = load_run(o.out_dir);
            CHECK(run.card.tags == dataset.vocabulary);
            CHECK(run.card.task == Task::multilabel);
            CHECK(run.card.training.at("best_epoch") == r.best_epoch);
            CHECK(run.card.is_waveform() == (family == "sample_cnn"));
            CHECK(std::filesystem::exists(o.out_dir / "log.jsonl"));
            CHECK(std::filesystem::exists(o.out_dir / "checkpoint.safetensors"));
            CHECK_FALSE(std::filesystem::exists(o.out_dir / "checkpoint.safetensors.tmp"));
        }
    }
}

TEST_CASE("trainer: resume after an interruption is bit-identical with one thread", "[trainer]") {
    const auto dir = test::fresh_dir("trainer_resume");
    const Dataset dataset = tiny_corpus(dir / "audio");
    TrainConfig config = tiny_config("cnn1d");
    config.epochs = 3;
    const TrainResult full = train(config, dataset, {.out_dir = dir / "full", .quiet = true});
    // 3 batches per epoch: stop in the middle of epoch 2, then continue.
    const TrainResult part = train(config, dataset, {.out_dir = dir / "split", .quiet = true, .stop_after_batches = 4});
    CHECK(part.interrupted);
    CHECK(part.stop_reason == "interrupted");
    CHECK_THROWS_WITH(train(config, dataset, {.out_dir = dir / "split", .quiet = true}), Catch::Contains("--resume"));
    // A stale temporary file from a crash during a save does not matter.
    test::write_text(dir / "split" / "checkpoint.safetensors.tmp", "garbage");
    const TrainResult rest = train(config, dataset, {.out_dir = dir / "split", .resume = true, .quiet = true});
    CHECK(rest.epochs_completed == 3);
    CHECK(rest.last_metrics.at("val_loss") == full.last_metrics.at("val_loss"));
    CHECK(rest.last_metrics.at("train_loss") == full.last_metrics.at("train_loss"));
    const auto a = model_tensors(dir / "full" / "checkpoint.safetensors");
    const auto b = model_tensors(dir / "split" / "checkpoint.safetensors");
    REQUIRE(a.size() == b.size());
    REQUIRE_FALSE(a.empty());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(a[i].first == b[i].first);
        CHECK(a[i].second == b[i].second);
    }
}

TEST_CASE("trainer: a resume from the checkpoint of the epoch a run stopped early at ends as the run ended", "[trainer]") {
    // As after a kill -9 between that checkpoint and the run's last files (a sweep trial's outcome.json):
    // the resume must not train another epoch, and reports the undisturbed run's end.
    const auto dir = test::fresh_dir("trainer_resume_stopped");
    const Dataset dataset = tiny_corpus(dir / "audio");
    TrainConfig config = tiny_config("cnn1d");
    config.early_stopping.patience = 1;
    config.early_stopping.min_delta = 1e9;  // no epoch after the first improves: stops after epoch 2 of 12
    const TrainResult full = train(config, dataset, {.out_dir = dir / "run", .quiet = true});
    REQUIRE(full.stop_reason == "early_stopping");
    REQUIRE(full.epochs_completed == 2);
    const auto before = model_tensors(dir / "run" / "checkpoint.safetensors");
    const TrainResult again = train(config, dataset, {.out_dir = dir / "run", .resume = true, .quiet = true});
    CHECK(again.stop_reason == "early_stopping");
    CHECK(again.epochs_completed == 2);
    CHECK(again.best_epoch == full.best_epoch);
    CHECK(model_tensors(dir / "run" / "checkpoint.safetensors") == before);
    CHECK(load_run(dir / "run").card.training.at("epochs_completed") == 2);
}

TEST_CASE("trainer: phases switch optimizer and rate, and a run resumed inside a phase is bit-identical", "[trainer]") {
    const auto dir = test::fresh_dir("trainer_phases");
    const Dataset dataset = tiny_corpus(dir / "audio");
    TrainConfig config = tiny_config("cnn1d");
    config.epochs = 4;
    // Adam for one epoch, then SGD with Nesterov momentum from the best weights, then a tenth of its rate.
    nn::TrainingPhase to_sgd{.trigger = nn::PhaseTrigger::epochs, .after = 1, .optimizer = nn::OptimizerConfig::named("nesterov")};
    to_sgd.optimizer->sgd.lr = 0.05;
    to_sgd.schedule = nn::ScheduleConfig::named("cosine");
    to_sgd.schedule.unit = nn::ScheduleUnit::batch;
    const nn::TrainingPhase drop{.trigger = nn::PhaseTrigger::epochs, .after = 1, .lr = 0.005};
    config.phases = {to_sgd, drop};
    config.resolve();
    const TrainResult full = train(config, dataset, {.out_dir = dir / "full", .quiet = true});
    CHECK(full.epochs_completed == 4);
    std::ifstream log(dir / "full" / "log.jsonl");
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(log, line);)
        if (line.find("\"epoch\"") != std::string::npos) lines.push_back(nlohmann::json::parse(line));
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].at("optimizer") == "adam");
    CHECK(lines[0].at("events").dump().find("phase 1") != std::string::npos);
    CHECK(lines[1].at("optimizer") == "sgd");
    CHECK(lines[1].at("lr").get<double>() < 0.05);  // cosine per batch from 0.05 over the run's 12 steps
    CHECK(lines[1].at("lr").get<double>() > 0.04);
    CHECK(lines[1].at("events").dump().find("phase 2") != std::string::npos);
    CHECK(lines[2].at("lr") == Approx(0.005));
    // 3 batches per epoch: stop inside phase 1 (epoch 2), then continue.
    const TrainResult part = train(config, dataset, {.out_dir = dir / "split", .quiet = true, .stop_after_batches = 5});
    CHECK(part.interrupted);
    const TrainResult rest = train(config, dataset, {.out_dir = dir / "split", .resume = true, .quiet = true});
    CHECK(rest.epochs_completed == 4);
    CHECK(rest.last_metrics.at("val_loss") == full.last_metrics.at("val_loss"));
    const auto a = model_tensors(dir / "full" / "checkpoint.safetensors");
    const auto b = model_tensors(dir / "split" / "checkpoint.safetensors");
    REQUIRE(a.size() == b.size());
    REQUIRE_FALSE(a.empty());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(a[i].second == b[i].second);
    }
}

TEST_CASE("trainer: a NaN loss stops with epoch and step, or is skipped by option", "[trainer]") {
    const auto dir = test::fresh_dir("trainer_nan");
    const Dataset dataset = tiny_corpus(dir / "audio");
    TrainConfig config = tiny_config("cnn1d");
    config.epochs = 3;
    auto poison = [](std::int64_t epoch, std::size_t batch, nn::Tensor& x) {
        if (epoch == 1 && batch == 1) x.data()[0] = std::numeric_limits<float>::quiet_NaN();
    };
    TrainerOptions o{.out_dir = dir / "stop", .quiet = true, .batch_hook = poison};
    CHECK_THROWS_WITH(train(config, dataset, o), Catch::Contains("epoch 2, step 5") && Catch::Contains("nan"));
    // The last good checkpoint (after epoch 1) is kept and loads; so is the best model.
    const nn::TrainingCheckpoint c = nn::load_checkpoint(dir / "stop" / "checkpoint.safetensors");
    CHECK(c.scalars.at("mtag.run").at("epoch") == 1);
    for (const auto& [name, t] : c.tensors)
        for (std::int64_t i = 0; i < t.shape().numel(); ++i) REQUIRE(std::isfinite(t.data()[i]));
    CHECK_NOTHROW(load_run(dir / "stop"));

    config.nan_policy = NanPolicy::skip;
    o.out_dir = dir / "skip";
    const TrainResult r = train(config, dataset, o);
    CHECK(r.skipped_batches == 1);
    CHECK(r.epochs_completed == 3);
    CHECK(std::isfinite(r.train_losses.back()));
    // The skipped batch left no NaN in BatchNorm's running statistics (its forward pass had folded them in).
    const nn::TrainingCheckpoint skipped = nn::load_checkpoint(dir / "skip" / "checkpoint.safetensors");
    for (const auto& [name, t] : skipped.tensors)
        for (std::int64_t i = 0; i < t.shape().numel(); ++i) REQUIRE(std::isfinite(t.data()[i]));
}

TEST_CASE("trainer: max_minutes stops after the epoch and keeps the best model", "[trainer]") {
    const auto dir = test::fresh_dir("trainer_budget");
    const Dataset dataset = tiny_corpus(dir / "audio");
    TrainConfig config = tiny_config("cnn1d");
    config.max_minutes = 1e-6;
    const TrainResult r = train(config, dataset, {.out_dir = dir / "run", .quiet = true});
    CHECK(r.epochs_completed == 1);
    CHECK(r.stop_reason == "max_minutes");
    CHECK(load_run(dir / "run").card.training.at("stop_reason") == "max_minutes");
}

TEST_CASE("trainer: fine-tuning on another vocabulary re-creates the output layer", "[trainer]") {
    const auto dir = test::fresh_dir("trainer_finetune");
    Dataset dataset = tiny_corpus(dir / "audio");
    TrainConfig config = tiny_config("cnn1d");
    config.epochs = 1;
    train(config, dataset, {.out_dir = dir / "base", .quiet = true});
    // Two tags only: drop "noise".
    Dataset two = dataset;
    two.vocabulary = {"high", "low"};
    for (Clip& c : two.clips) c.tags.resize(2);
    config.optimizer.pretrained_lr_multiplier = 0.1;
    const TrainResult r = train(config, two, {.out_dir = dir / "tuned", .init_from = dir / "base", .freeze = 1, .quiet = true});
    CHECK(r.epochs_completed == 1);
    const RunModel run = load_run(dir / "tuned");
    CHECK(run.model->n_tags() == 2);
    CHECK(run.card.training.at("freeze") == 1);
    // The frozen first block kept the base weights.
    const RunModel base = load_run(dir / "base");
    const auto pb = base.model->parameters();
    const auto pt = run.model->parameters();
    REQUIRE(pt[0]->name == pb[0]->name);
    for (std::int64_t i = 0; i < pt[0]->value.shape().numel(); ++i) REQUIRE(pt[0]->value.data()[i] == pb[0]->value.data()[i]);
}
