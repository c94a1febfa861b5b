#include "data/train/train_config.hpp"

#include "data/train/config/fields.hpp"
#include "data/train/config/recipe.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/error.hpp"
#include "nn/models/zoo.hpp"

#include <fstream>
#include <set>

namespace mtag::data {

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& problem) { throw Error("train config: " + key, problem); }

}  // namespace

TrainConfig TrainConfig::for_preset(const std::string& preset) {
    TrainConfig c;
    c.model = ModelConfig::named(preset);
    const Recipe r = preset_recipe(preset);
    c.features = r.features;
    c.optimizer = r.optimizer;
    c.schedule = r.schedule;
    c.phases = r.phases;
    c.batch_size = r.batch_size;
    c.epochs = r.epochs;
    if (r.patience) c.early_stopping.patience = *r.patience;
    if (c.features.is_waveform()) c.normalization = NormalizationKind::per_sample;
    return c;
}

TrainConfig TrainConfig::from_json(const nlohmann::json& json, const std::string& where) {
    if (!json.is_object()) throw Error(where, "got " + json.dump().substr(0, 80) + ", expected a JSON object");
    nlohmann::json j = json;
    // {"model": "cnn1d"} is short for {"model": {"preset": "cnn1d"}}.
    if (j.contains("model") && j["model"].is_string()) j["model"] = {{"preset", j["model"]}};
    TrainConfig c;
    const auto model = j.find("model");
    if (model != j.end() && model->is_object() && model->contains("preset")) {
        const nlohmann::json& p = (*model)["preset"];
        if (!p.is_string()) throw Error(where + " model: 'preset'", "got " + p.dump() + ", expected a preset name");
        c = for_preset(p.get<std::string>());
    }
    const bool recipe_front_end = !j.contains("features") || j["features"].is_null();
    config::JsonReader::read(j, c, where);
    if (c.augmentation) dsp::AugmentPipeline check(*c.augmentation);  // its own boundary: names transform and key
    // A recipe's front end follows model.n_mels when the config sets only the latter.
    if (recipe_front_end && !c.features.is_waveform() && c.model.n_mels() && *c.model.n_mels() != c.features.bins()) {
        dsp::FeatureConfig f = c.features.features();
        f.n_mels = *c.model.n_mels();
        c.features = f;
    }
    return c;
}

TrainConfig TrainConfig::load(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw Error("train config " + file.string(), "cannot open");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw Error("train config " + file.string(), std::string("invalid JSON: ") + e.what());
    }
    return from_json(j, "train config " + file.string());
}

TrainConfig TrainConfig::example(const std::string& preset) {
    TrainConfig c = from_json({{"model", {{"preset", preset}}}, {"data", {{"path", "corpus"}}}});
    c.resolve();
    return c;
}

std::string TrainConfig::preset() const {
    if (model.preset.empty())
        bad("model", "no preset given (e.g. {\"preset\": \"cnn1d\"}); presets: cnn1d, fcn4, fcn5, short_chunk_cnn, "
                     "short_chunk_resnet, sample_cnn, sample_cnn_se");
    return model.preset;
}

std::string TrainConfig::resolved_metric(bool singlelabel) const {
    if (evaluation.metric != "auto") return evaluation.metric;
    return singlelabel ? "accuracy" : "roc_auc_macro";
}

nlohmann::json TrainConfig::to_json() const { return config::JsonWriter::write(*this); }

void TrainConfig::resolve() {
    preset();  // a model is required
    if (is_waveform()) {
        if (normalization == NormalizationKind::per_bin) normalization = NormalizationKind::per_sample;
        if (normalization == NormalizationKind::pca_whiten)
            bad("normalization", "pca_whiten decorrelates frequency bins and a waveform model has none; use global, "
                                 "per_sample, mean or none");
    } else if (model.n_mels() && *model.n_mels() != features.bins()) {
        bad("features", "the front end gives " + std::to_string(features.bins()) + " bins but model.n_mels is " +
                            std::to_string(*model.n_mels()) + "; set both to the same value");
    }
    if (augmentation) dsp::AugmentPipeline check(*augmentation);  // validates (throws naming the transform and key)
    if (batch_size == 0) bad("batch_size", "must be >= 1");
    if (epochs < 1) bad("epochs", "must be >= 1");
    if (chunking.train_crops == 0) bad("chunking.train_crops", "must be >= 1");
    if (evaluation.eval_chunks == 0 && evaluation.eval == EvalChunking::evenly_spaced) bad("evaluation.eval_chunks", "must be >= 1");
    if (task != "auto" && task != "multilabel" && task != "singlelabel")
        bad("task", "got '" + task + "', expected auto, multilabel or singlelabel");
    static const std::set<std::string> metrics = {"auto", "roc_auc_macro", "pr_auc_macro", "accuracy", "val_loss"};
    if (!metrics.count(evaluation.metric))
        bad("evaluation.metric", "got '" + evaluation.metric + "', expected roc_auc_macro, pr_auc_macro, accuracy or val_loss");
    if (data.workers < 1) bad("data.workers", "must be >= 1");
    if (threads < 0) bad("threads", "must be >= 0");
    if (max_minutes < 0) bad("max_minutes", "must be >= 0");
    if (max_grad_norm < 0) bad("max_grad_norm", "must be >= 0 (0 = no clipping)");
    if (early_stopping.patience < 0) bad("early_stopping.patience", "must be >= 0 (0 = off)");
    if (!(whitening.eps > 0)) bad("whitening.eps", "must be > 0");
    regularization.validate(optimizer, "train config");
    if (ema && !(ema->decay >= 0 && ema->decay < 1)) bad("ema.decay", "must be in [0, 1), e.g. 0.999");
    // Optimizer and schedules: build them once on a stand-in parameter, so that a bad option fails here,
    // named, and not after the data has been loaded.
    nn::Parameter probe("probe", {1});
    const nn::ScheduleContext context{.lr = optimizer.lr(), .epochs = epochs, .batches_per_epoch = 1};
    try {
        nn::make_optimizer(optimizer, {&probe});
        nn::make_schedule(schedule, context);
    } catch (const Error& e) {
        bad("optimizer/schedule", e.what());
    }
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const nn::TrainingPhase& p = phases[i];
        const std::string key = "phases[" + std::to_string(i) + "]";
        if (p.after < 1) bad(key + ".after", "must be >= 1 (epochs)");
        if (p.lr < 0) bad(key + ".lr", "must be >= 0 (0 = keep the rate)");
        try {
            nn::OptimizerConfig o = p.optimizer.value_or(optimizer);
            if (p.lr > 0) o.set_lr(p.lr);
            nn::make_optimizer(o, {&probe});
            nn::make_schedule(p.schedule, {.lr = o.lr(), .epochs = epochs, .batches_per_epoch = 1});
        } catch (const Error& e) {
            bad(key, e.what());
        }
    }
    if (!phases.empty() && reload_best.enabled)
        bad("reload_best.enabled", "and phases both change the optimizer on plateaus; use one of them");
}

}  // namespace mtag::data
