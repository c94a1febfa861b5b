#pragma once
// The small sections of a training config, each a typed struct whose initialisers are the defaults and
// whose visit() names every key once (data/train/config/fields.hpp reads, writes and documents them).
#include "data/pipeline/chunking.hpp"
#include "data/pipeline/normalization.hpp"
#include "data/sets/source.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mtag::data {

// Where the dataset is and how it is loaded: every dataset option of the command line (data/sets/source.hpp,
// the same names with underscores), plus the loader's threads and prefetch. Command-line flags override it.
struct DataConfig : DatasetSource {
    int workers = 1;              // loader threads (the trainer caps them by the thread budget)
    std::size_t prefetch = 4;     // batches prepared ahead

    template <class V>
    void visit(V& v) {
        DatasetSource::visit(v);
        v.field("workers", workers, "loader threads (within the thread budget)");
        v.field("prefetch", prefetch, "batches prepared ahead by the loader");
    }
};

// The model: a preset and overrides of any of its options (nn/models; build_model validates the values).
struct ModelConfig {
    std::string preset;                                  // "" = none given yet
    nlohmann::json options = nlohmann::json::object();   // every option of the preset, overrides applied
    std::optional<std::uint64_t> seed;                   // initialisation seed; none = the run's seed

    // The preset with its default options; throws listing the presets for an unknown name.
    static ModelConfig named(const std::string& preset);
    // The option n_mels (the bins the model expects), when the preset has it.
    std::optional<int> n_mels() const;
    // The build_model spec ({"preset": NAME, options..., "seed": S}).
    nlohmann::json spec(std::uint64_t run_seed) const;

    template <class V>
    void visit(V& v) {
        std::string p = preset;
        v.field("preset", p, "model preset: cnn1d, fcn4, fcn5, short_chunk_cnn, short_chunk_resnet, sample_cnn, ...");
        if (p != preset) *this = named(p);
        for (auto it = options.begin(); it != options.end(); ++it) {
            const std::string& key = it.key();
            v.field(key.c_str(), it.value(), "an option of the preset (see `mtag model info PRESET`)");
        }
        v.field("seed", seed, "model initialisation seed; null = the run's seed");
    }
};

struct ChunkingConfig {
    std::size_t train_crops = 1;

    template <class V>
    void visit(V& v) {
        v.field("train_crops", train_crops, "random crops per training clip and epoch");
    }
};

struct EvaluationConfig {
    EvalChunking eval = EvalChunking::evenly_spaced;
    std::size_t eval_chunks = 8;
    std::string metric = "auto";  // roc_auc_macro | pr_auc_macro | accuracy | val_loss | auto

    template <class V>
    void visit(V& v) {
        v.choice("eval", eval,
                 std::vector<std::pair<EvalChunking, const char*>>{{EvalChunking::evenly_spaced, "evenly_spaced"},
                                                                  {EvalChunking::non_overlapping, "non_overlapping"}},
                 "validation chunks per clip: evenly spaced or every non-overlapping one");
        v.field("eval_chunks", eval_chunks, "chunks per clip (evenly_spaced)");
        v.field("metric", metric,
                "monitored metric: auto (roc_auc_macro, or accuracy for single-label data) | roc_auc_macro | "
                "pr_auc_macro | accuracy | val_loss");
    }
};

struct EarlyStoppingConfig {
    std::int64_t patience = 10;  // epochs without improvement; 0 = off
    double min_delta = 0;

    template <class V>
    void visit(V& v) {
        v.field("patience", patience, "epochs without improvement before stopping; 0 = never stop early");
        v.field("min_delta", min_delta, "least improvement that counts");
    }
};

// Reload the best weights and decay the rate on a plateau (nn/train/training_state.hpp).
struct ReloadBestConfig {
    bool enabled = false;
    double lr_factor = 0.1;
    std::int64_t max_reloads = 3;
    std::int64_t switch_to_sgd_at = 0;

    template <class V>
    void visit(V& v) {
        v.field("enabled", enabled, "on a plateau (early-stopping patience), reload the best weights and decay the rate");
        v.field("lr_factor", lr_factor, "rate multiplier at each reload");
        v.field("max_reloads", max_reloads, "reloads before the next plateau stops the run");
        v.field("switch_to_sgd_at", switch_to_sgd_at, "reload number that replaces the optimizer by SGD (Nesterov); 0 = never");
    }
};

// How "normalization": "pca_whiten" whitens (data/pipeline/whitening.hpp); unused by the other kinds.
struct WhiteningConfig {
    WhitenMethod method = WhitenMethod::zca;
    double eps = 1e-5;

    template <class V>
    void visit(V& v) {
        v.choice("method", method,
                 std::vector<std::pair<WhitenMethod, const char*>>{{WhitenMethod::zca, "zca"}, {WhitenMethod::pca, "pca"}},
                 "zca keeps frequency bins as bins (U D^-1/2 U^T); pca gives principal components by decreasing variance");
        v.field("eps", eps, "added to every eigenvalue, as a fraction of the mean eigenvalue");
    }
};

// Polyak / EMA weight averaging (nn/train/ema.hpp): evaluated beside the raw weights at every validation and
// saved as RUN/best_ema when its monitored metric improves.
struct EmaConfig {
    double decay = 0.999;
    bool use_buffers = true;

    template <class V>
    void visit(V& v) {
        v.field("decay", decay, "ema = decay * ema + (1 - decay) * w after every optimizer step (the first copies w)");
        v.field("use_buffers", use_buffers,
                "average BatchNorm running statistics too (AveragedModel use_buffers=True, timm); false: the averaged "
                "weights use the live model's statistics");
    }
};

enum class NanPolicy { stop, skip };

// Config names of the enums the top level uses.
inline std::vector<std::pair<NormalizationKind, const char*>> normalization_names() {
    return {{NormalizationKind::per_bin, "per_bin"},
            {NormalizationKind::global, "global"},
            {NormalizationKind::per_sample, "per_sample"},
            {NormalizationKind::none, "none"},
            {NormalizationKind::mean, "mean"},
            {NormalizationKind::pca_whiten, "pca_whiten"}};
}
inline std::vector<std::pair<NanPolicy, const char*>> nan_policy_names() {
    return {{NanPolicy::stop, "stop"}, {NanPolicy::skip, "skip"}};
}

}  // namespace mtag::data
