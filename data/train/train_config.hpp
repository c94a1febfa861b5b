#pragma once
// TrainConfig: everything `mtag train` needs in one JSON file. Every section is optional; what is
// missing comes from the model preset's recipe (front end, chunk length, optimizer, batch size), so
// `{"model": {"preset": "cnn1d"}, "data": {"path": "corpus"}}` is a complete config.
// `mtag config show PRESET` prints the fully resolved example (resolve(...).to_json()).
//
//   {"data": {"path": "corpus", "format": "auto", "workers": 1, "prefetch": 4},
//    "features": {FeatureConfig JSON} | {"kind": "waveform", "sample_rate": 22050},
//    "model": {"preset": "cnn1d", <option overrides>...},
//    "augmentation": null | {dsp::AugmentPipeline JSON},
//    "optimizer": {"name": "adam", "lr": 1e-3, "weight_decay": 0, "betas": [0.9, 0.999], "momentum": 0.9,
//                  "nesterov": false, "pretrained_lr_multiplier": 1.0},
//    "schedule": {"name": "constant" | "step" | "exponential" | "cosine" | "reduce_on_plateau", ...},
//    "batch_size": 32, "epochs": 20,
//    "chunking": {"train_crops": 1},
//    "evaluation": {"eval": "evenly_spaced", "eval_chunks": 8, "metric": "roc_auc_macro"},
//    "early_stopping": {"patience": 10, "min_delta": 0}, "reload_best": {"enabled": false, ...},
//    "normalization": "per_bin" | "global" | "per_sample", "task": "auto" | "multilabel" | "singlelabel",
//    "nan_policy": "stop" | "skip", "max_grad_norm": 0,
//    "seed": 0, "threads": 0, "max_minutes": 0, "sync_batchnorm": false}
// Unknown keys anywhere are errors naming the key (a typo must not silently train something else).
#include "data/pipeline/chunking.hpp"
#include "data/sets/load.hpp"
#include "data/pipeline/normalization.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/schedule/lr_schedule.hpp"
#include "nn/train/training_state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mtag::data {

struct TrainConfig {
    // data
    std::filesystem::path data_path;
    std::string data_format = "auto";  // auto | mtat | gtzan | jamendo | csv
    int workers = 1;                   // loader threads (the trainer caps them by the thread budget)
    std::size_t prefetch = 4;
    // front end and model
    nlohmann::json features;           // FeatureConfig JSON or {"kind": "waveform", "sample_rate": SR}
    nlohmann::json model;              // {"preset": NAME, overrides...} (build_model spec)
    nlohmann::json augmentation;       // null = none
    // optimisation
    nlohmann::json optimizer;          // {"name": ..., options...}
    nlohmann::json schedule;           // {"name": ..., options...}
    std::size_t batch_size = 16;
    std::int64_t epochs = 20;
    std::size_t train_crops = 1;
    // evaluation
    EvalChunking eval_chunking = EvalChunking::evenly_spaced;
    std::size_t eval_chunks = 8;
    std::string metric = "auto";       // roc_auc_macro | pr_auc_macro | accuracy | val_loss | auto
    std::int64_t patience = 10;        // early stopping (epochs without improvement); 0 = off
    double min_delta = 0;
    nlohmann::json reload_best = {{"enabled", false}};
    NormalizationKind normalization = NormalizationKind::per_bin;
    std::string task = "auto";         // auto: singlelabel when every clip has exactly one tag
    std::string nan_policy = "stop";   // stop | skip
    double max_grad_norm = 0;
    // run
    std::uint64_t seed = 0;
    int threads = 0;                   // 0 = all cores
    double max_minutes = 0;            // 0 = no budget
    // mpirun: BatchNorm normalises with the statistics of the whole global batch (summed over ranks, like
    // torch.nn.SyncBatchNorm) instead of each rank's shard. No effect in one process.
    bool sync_batchnorm = false;

    // Fills what is missing from the preset's recipe (features, optimizer, batch size, schedule) and
    // validates; call after overrides. Throws mtag::Error naming the key.
    void resolve();
    // The preset name of `model`.
    std::string preset() const;
    bool is_waveform() const;
    // The metric `auto` stands for, given the task.
    std::string resolved_metric(bool singlelabel) const;

    nlohmann::json to_json() const;
    // Parses a config (sections missing keep their defaults); unknown keys throw. Does not resolve().
    static TrainConfig from_json(const nlohmann::json& json, const std::string& where = "train config");
    static TrainConfig load(const std::filesystem::path& file);
    // The complete example `mtag config show PRESET` prints.
    static TrainConfig example(const std::string& preset);
};

// Builds the optimizer of `spec` over parameter groups: `pretrained` get lr * pretrained_lr_multiplier
// (fine-tuning), `fresh` the base rate. Throws naming the optimizer or option.
std::unique_ptr<nn::Optimizer> make_optimizer(const nlohmann::json& spec, std::vector<nn::Parameter*> fresh,
                                              std::vector<nn::Parameter*> pretrained = {});
// Builds the learning-rate schedule of `spec` for a base rate `lr` (null for "constant"); sets `unit`.
std::unique_ptr<nn::LrSchedule> make_schedule(const nlohmann::json& spec, double lr, std::int64_t epochs,
                                              std::int64_t batches_per_epoch, nn::ScheduleUnit& unit);

}  // namespace mtag::data
