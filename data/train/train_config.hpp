#pragma once
// TrainConfig: everything `mtag train` needs, parsed once from one JSON file into typed sections. Every
// section is optional; what is missing comes from the model preset's recipe (data/train/config/recipe.hpp:
// front end, optimizer, schedule, later phases, batch size, epochs), so
// `{"model": {"preset": "cnn1d"}, "data": {"path": "corpus"}}` is a complete config.
// `mtag config show PRESET` prints the fully resolved example; `mtag config reference` lists every key with
// its default (generated from the structs below, as is the README's reference).
//
//   {"data": {DataConfig}, "features": {FrontEndConfig}, "model": {"preset": NAME, <options>...},
//    "augmentation": null | {dsp::AugmentPipeline JSON},
//    "optimizer": {nn::OptimizerConfig}, "schedule": {nn::ScheduleConfig}, "phases": [{nn::TrainingPhase}...],
//    "batch_size", "epochs", "chunking": {...}, "evaluation": {...}, "early_stopping": {...}, "reload_best": {...},
//    "normalization", "task", "nan_policy", "max_grad_norm", "seed", "threads", "max_minutes", "sync_batchnorm",
//    "keep_checkpoints", "ema": null | {"decay", "use_buffers"}}
//
// Reading overlays the JSON on the recipe: {"optimizer": {"lr": 0.01}} keeps the recipe's optimizer and
// changes its rate; naming another optimizer starts from that optimizer's defaults. "features" and "phases"
// replace the recipe's as a whole. Unknown keys anywhere are errors naming the key.
#include "data/run/front_end_config.hpp"
#include "data/train/config/regularization.hpp"
#include "data/train/config/sections.hpp"
#include "nn/optim/factory.hpp"
#include "nn/schedule/factory.hpp"
#include "nn/train/phase.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mtag::data {

struct TrainConfig {
    DataConfig data;
    FrontEndConfig features;
    ModelConfig model;
    std::optional<nlohmann::json> augmentation;  // dsp::AugmentPipeline's JSON (validated there); none = off
    nn::OptimizerConfig optimizer;
    nn::ScheduleConfig schedule;
    std::vector<nn::TrainingPhase> phases;
    std::size_t batch_size = 16;
    std::int64_t epochs = 20;
    ChunkingConfig chunking;
    EvaluationConfig evaluation;
    EarlyStoppingConfig early_stopping;
    ReloadBestConfig reload_best;
    NormalizationKind normalization = NormalizationKind::per_bin;
    WhiteningConfig whitening;            // pca_whiten's method and eps
    RegularizationConfig regularization;  // penalties, max-norm, clipping by value, label smoothing
    std::string task = "auto";  // auto | multilabel | singlelabel (auto: singlelabel when every clip has one tag)
    NanPolicy nan_policy = NanPolicy::stop;
    double max_grad_norm = 0;
    std::uint64_t seed = 0;
    int threads = 0;           // 0 = all cores
    double max_minutes = 0;    // 0 = no budget
    // mpirun: BatchNorm normalises with the statistics of the whole global batch (summed over ranks, like
    // torch.nn.SyncBatchNorm) instead of each rank's shard. No effect in one process.
    bool sync_batchnorm = false;
    // RUN/checkpoints/epoch_NNNN.safetensors: the weights after each of the last K epochs (and the best epoch's),
    // for `mtag model average RUN --last K`; 0 = none kept.
    std::size_t keep_checkpoints = 0;
    std::optional<EmaConfig> ema;  // null = no weight averaging

    // The preset's recipe: its front end, optimizer, schedule, phases, batch size and epochs.
    static TrainConfig for_preset(const std::string& preset);
    // Parses a config over the recipe of its model's preset (or the plain defaults without a model);
    // unknown keys and wrong types throw naming the key. Does not resolve().
    static TrainConfig from_json(const nlohmann::json& json, const std::string& where = "train config");
    static TrainConfig load(const std::filesystem::path& file);
    // The complete example `mtag config show PRESET` prints.
    static TrainConfig example(const std::string& preset);

    // Validates the whole config and fills what depends on other sections (a waveform model's
    // normalisation); call after overrides. Throws mtag::Error naming the key.
    void resolve();
    // The preset name of `model` (throws when none was given).
    std::string preset() const;
    bool is_waveform() const { return features.is_waveform(); }
    // The metric `auto` stands for, given the task.
    std::string resolved_metric(bool singlelabel) const;

    nlohmann::json to_json() const;

    // Every key: the parse/write/reference list (data/train/config/fields.hpp).
    template <class V>
    void visit(V& v);
};

template <class V>
void TrainConfig::visit(V& v) {
    v.section("data", data, "the dataset");
    v.section("model", model, "the model preset and its options");
    v.field("features", features, "the front end: FeatureConfig keys (see `mtag extract --help`) or {\"kind\": \"waveform\", "
                                  "\"sample_rate\": SR}; default: the preset's");
    v.field("augmentation", augmentation, "online augmentation (dsp/augment_pipeline.hpp JSON); null = none");
    v.section("optimizer", optimizer, "the optimizer (default: the preset's recipe)");
    v.section("schedule", schedule, "the learning-rate schedule (default: the preset's recipe)");
    v.list("phases", phases, "later phases of the recipe, in order (default: the preset's recipe)");
    v.field("batch_size", batch_size, "examples per optimizer step (default: the preset's recipe)");
    v.field("epochs", epochs, "epochs (default: the preset's recipe)");
    v.section("chunking", chunking, "training crops");
    v.section("evaluation", evaluation, "validation");
    v.section("early_stopping", early_stopping, "early stopping on the monitored metric");
    v.section("reload_best", reload_best, "reload best and decay on a plateau");
    v.choice("normalization", normalization, normalization_names(),
             "input normalisation, statistics from the training split (waveform models: per_sample unless given); "
             "mean subtracts the per-bin mean only, pca_whiten decorrelates the bins (see whitening)");
    v.section("whitening", whitening, "pca_whiten: ZCA or PCA whitening of the frequency bins");
    v.section("regularization", regularization,
              "penalties and constraints under any optimizer (optimizer.weight_decay is torch's per-optimizer decay)");
    v.field("task", task, "auto | multilabel | singlelabel");
    v.choice("nan_policy", nan_policy, nan_policy_names(), "a non-finite loss stops the run or skips the batch");
    v.field("max_grad_norm", max_grad_norm,
            "clip gradients to this global L2 norm (torch.nn.utils.clip_grad_norm_); 0 = off");
    v.field("seed", seed, "seed of every random choice");
    v.field("threads", threads, "compute threads; 0 = all cores");
    v.field("max_minutes", max_minutes, "time budget; 0 = none");
    v.field("sync_batchnorm", sync_batchnorm, "mpirun: BatchNorm statistics over the global batch");
    v.field("keep_checkpoints", keep_checkpoints,
            "keep the weights of the last K epochs (and the best) in RUN/checkpoints/ for `mtag model average`; "
            "0 = none");
    v.section("ema", ema,
              "{\"decay\": 0.999, \"use_buffers\": true}: Polyak/EMA weight averaging, validated beside the raw weights "
              "(ema_* metrics) and saved as RUN/best_ema; null = off");
}

}  // namespace mtag::data
