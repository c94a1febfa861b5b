#include "data/train/train_config.hpp"

#include "dsp/augment_pipeline.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_config.hpp"
#include "nn/models/zoo.hpp"
#include "nn/optim/adam.hpp"
#include "nn/optim/rmsprop.hpp"
#include "nn/optim/sgd.hpp"
#include "nn/schedule/cosine.hpp"
#include "nn/schedule/decay.hpp"
#include "nn/schedule/plateau.hpp"

#include <fstream>
#include <set>

namespace mtag::data {

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& key, const std::string& problem) {
    throw Error(where + ": " + key, problem);
}

void check_keys(const nlohmann::json& j, const std::set<std::string>& allowed, const std::string& where) {
    if (!j.is_object()) bad(where, "section", "got " + j.dump() + ", expected an object");
    for (const auto& [key, value] : j.items()) {
        if (!allowed.count(key)) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            bad(where, "'" + key + "'", "unknown key; expected one of " + list);
        }
    }
}

template <class T>
T get(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    try {
        return j[key].get<T>();
    } catch (const nlohmann::json::exception&) {
        bad(where, key, "wrong type: got " + j[key].dump());
    }
}

std::string eval_name(EvalChunking e) { return e == EvalChunking::evenly_spaced ? "evenly_spaced" : "non_overlapping"; }

}  // namespace

std::string TrainConfig::preset() const {
    if (model.is_string()) return model.get<std::string>();
    if (model.is_object() && model.contains("preset") && model["preset"].is_string()) return model["preset"].get<std::string>();
    throw Error("train config: model", "no preset given (e.g. {\"preset\": \"cnn1d\"}); presets: cnn1d, fcn4, fcn5, "
                                       "short_chunk_cnn, short_chunk_resnet, sample_cnn, sample_cnn_se");
}

bool TrainConfig::is_waveform() const {
    return features.is_object() && features.value("kind", std::string()) == "waveform";
}

std::string TrainConfig::resolved_metric(bool singlelabel) const {
    if (metric != "auto") return metric;
    return singlelabel ? "accuracy" : "roc_auc_macro";
}

void TrainConfig::resolve() {
    const std::string name = preset();
    if (model.is_string()) model = {{"preset", name}};
    const nn::models::PresetInfo info = nn::models::preset_info(name);
    // Options after overrides, for the input size and n_mels (validated by build_model later).
    nlohmann::json options = nn::models::preset_options(name);
    for (const auto& [k, v] : model.items())
        if (k != "preset" && k != "seed") options[k] = v;
    if (features.is_null() || (features.is_object() && features.empty())) {
        features = info.front_end;
        if (features.contains("n_mels") && options.contains("n_mels")) features["n_mels"] = options["n_mels"];
    }
    if (is_waveform()) {
        if (!features.contains("sample_rate")) bad("train config", "features.sample_rate", "missing for a waveform model");
        if (normalization == NormalizationKind::per_bin) normalization = NormalizationKind::per_sample;
    } else {
        // Configs written by older versions state ref as a numeric string ("1.0"); FeatureConfig JSON takes a number or "max".
        if (features.contains("ref") && features["ref"].is_string() && features["ref"] != "max")
            features["ref"] = std::stod(features["ref"].get<std::string>());
        const dsp::FeatureConfig fc = dsp::FeatureConfig::from_json(features, "train config features");
        features = fc.to_json();
        if (options.contains("n_mels") && options["n_mels"].get<int>() != fc.bins())
            bad("train config", "features", "the front end gives " + std::to_string(fc.bins()) + " bins but model.n_mels is " +
                                                options["n_mels"].dump() + "; set both to the same value");
    }
    const nlohmann::json& recipe = info.optimizer;
    if (optimizer.is_null() || optimizer.empty()) {
        optimizer = {{"name", recipe.value("optimizer", std::string("adam"))}, {"lr", recipe.value("lr", 1e-3)},
                     {"weight_decay", recipe.value("weight_decay", 0.0)}};
        if (recipe.contains("momentum")) optimizer["momentum"] = recipe["momentum"];
        if (recipe.contains("nesterov")) optimizer["nesterov"] = recipe["nesterov"];
    }
    if (!optimizer.contains("name")) optimizer["name"] = "adam";
    if (schedule.is_null() || schedule.empty()) schedule = {{"name", "constant"}};
    if (augmentation.is_object()) dsp::AugmentPipeline check(augmentation);  // validates
    if (batch_size == 0) bad("train config", "batch_size", "must be >= 1");
    if (epochs < 1) bad("train config", "epochs", "must be >= 1");
    if (train_crops == 0) bad("train config", "chunking.train_crops", "must be >= 1");
    if (eval_chunks == 0 && eval_chunking == EvalChunking::evenly_spaced) bad("train config", "evaluation.eval_chunks", "must be >= 1");
    if (nan_policy != "stop" && nan_policy != "skip") bad("train config", "nan_policy", "got '" + nan_policy + "', expected stop or skip");
    if (task != "auto" && task != "multilabel" && task != "singlelabel")
        bad("train config", "task", "got '" + task + "', expected auto, multilabel or singlelabel");
    static const std::set<std::string> metrics = {"auto", "roc_auc_macro", "pr_auc_macro", "accuracy", "val_loss"};
    if (!metrics.count(metric)) bad("train config", "evaluation.metric", "got '" + metric + "', expected roc_auc_macro, pr_auc_macro, accuracy or val_loss");
    if (workers < 1) bad("train config", "data.workers", "must be >= 1");
    if (threads < 0) bad("train config", "threads", "must be >= 0");
    if (max_minutes < 0) bad("train config", "max_minutes", "must be >= 0");
}

nlohmann::json TrainConfig::to_json() const {
    nlohmann::json j;
    j["data"] = {{"path", data_path.string()}, {"format", data_format}, {"workers", workers}, {"prefetch", prefetch}};
    j["features"] = features;
    j["model"] = model;
    j["augmentation"] = augmentation;
    j["optimizer"] = optimizer;
    j["schedule"] = schedule;
    j["batch_size"] = batch_size;
    j["epochs"] = epochs;
    j["chunking"] = {{"train_crops", train_crops}};
    j["evaluation"] = {{"eval", eval_name(eval_chunking)}, {"eval_chunks", eval_chunks}, {"metric", metric}};
    j["early_stopping"] = {{"patience", patience}, {"min_delta", min_delta}};
    j["reload_best"] = reload_best;
    j["normalization"] = to_string(normalization);
    j["task"] = task;
    j["nan_policy"] = nan_policy;
    j["max_grad_norm"] = max_grad_norm;
    j["seed"] = seed;
    j["threads"] = threads;
    j["max_minutes"] = max_minutes;
    j["sync_batchnorm"] = sync_batchnorm;
    return j;
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j, const std::string& where) {
    check_keys(j, {"data", "features", "model", "augmentation", "optimizer", "schedule", "batch_size", "epochs", "chunking",
                   "evaluation", "early_stopping", "reload_best", "normalization", "task", "nan_policy", "max_grad_norm",
                   "seed", "threads", "max_minutes", "sync_batchnorm"},
               where);
    TrainConfig c;
    if (j.contains("data")) {
        const auto& d = j["data"];
        check_keys(d, {"path", "format", "workers", "prefetch"}, where + " data");
        c.data_path = get<std::string>(d, "path", "", where + " data");
        c.data_format = get<std::string>(d, "format", c.data_format, where + " data");
        c.workers = get<int>(d, "workers", c.workers, where + " data");
        c.prefetch = get<std::size_t>(d, "prefetch", c.prefetch, where + " data");
    }
    c.features = j.value("features", nlohmann::json());
    if (!c.features.is_null() && !c.features.is_object()) bad(where, "features", "got " + c.features.dump() + ", expected an object");
    c.model = j.value("model", nlohmann::json());
    c.augmentation = j.value("augmentation", nlohmann::json());
    c.optimizer = j.value("optimizer", nlohmann::json());
    c.schedule = j.value("schedule", nlohmann::json());
    c.batch_size = get<std::size_t>(j, "batch_size", 0, where);
    c.epochs = get<std::int64_t>(j, "epochs", 0, where);
    if (j.contains("chunking")) {
        check_keys(j["chunking"], {"train_crops"}, where + " chunking");
        c.train_crops = get<std::size_t>(j["chunking"], "train_crops", 1, where + " chunking");
    }
    if (j.contains("evaluation")) {
        const auto& e = j["evaluation"];
        check_keys(e, {"eval", "eval_chunks", "metric"}, where + " evaluation");
        const std::string ev = get<std::string>(e, "eval", "evenly_spaced", where + " evaluation");
        if (ev == "evenly_spaced") c.eval_chunking = EvalChunking::evenly_spaced;
        else if (ev == "non_overlapping") c.eval_chunking = EvalChunking::non_overlapping;
        else bad(where, "evaluation.eval", "got '" + ev + "', expected evenly_spaced or non_overlapping");
        c.eval_chunks = get<std::size_t>(e, "eval_chunks", c.eval_chunks, where + " evaluation");
        c.metric = get<std::string>(e, "metric", c.metric, where + " evaluation");
    }
    if (j.contains("early_stopping")) {
        check_keys(j["early_stopping"], {"patience", "min_delta"}, where + " early_stopping");
        c.patience = get<std::int64_t>(j["early_stopping"], "patience", c.patience, where);
        c.min_delta = get<double>(j["early_stopping"], "min_delta", c.min_delta, where);
    }
    if (j.contains("reload_best")) {
        check_keys(j["reload_best"], {"enabled", "lr_factor", "max_reloads", "switch_to_sgd_at"}, where + " reload_best");
        c.reload_best = j["reload_best"];
    }
    const std::string norm = get<std::string>(j, "normalization", "per_bin", where);
    if (norm == "per_bin") c.normalization = NormalizationKind::per_bin;
    else if (norm == "global") c.normalization = NormalizationKind::global;
    else if (norm == "per_sample") c.normalization = NormalizationKind::per_sample;
    else if (norm == "none") c.normalization = NormalizationKind::none;
    else bad(where, "normalization", "got '" + norm + "', expected per_bin, global, per_sample or none");
    c.task = get<std::string>(j, "task", c.task, where);
    c.nan_policy = get<std::string>(j, "nan_policy", c.nan_policy, where);
    c.max_grad_norm = get<double>(j, "max_grad_norm", 0.0, where);
    c.seed = get<std::uint64_t>(j, "seed", 0, where);
    c.threads = get<int>(j, "threads", 0, where);
    c.max_minutes = get<double>(j, "max_minutes", 0.0, where);
    c.sync_batchnorm = get<bool>(j, "sync_batchnorm", false, where);
    // Recipe defaults for batch size and epochs when absent (0 marks "not given").
    if (c.model.is_null()) return c;
    const nn::models::PresetInfo info = nn::models::preset_info(c.preset());
    if (c.batch_size == 0) c.batch_size = info.optimizer.value("batch_size", 16);
    if (c.epochs == 0) c.epochs = info.optimizer.value("epochs", 20);
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

std::unique_ptr<nn::Optimizer> make_optimizer(const nlohmann::json& spec, std::vector<nn::Parameter*> fresh,
                                              std::vector<nn::Parameter*> pretrained) {
    const std::string where = "train config optimizer";
    check_keys(spec, {"name", "lr", "weight_decay", "betas", "eps", "momentum", "nesterov", "alpha", "decoupled",
                      "pretrained_lr_multiplier"},
               where);
    const std::string name = get<std::string>(spec, "name", "adam", where);
    const double lr = get<double>(spec, "lr", 1e-3, where);
    const double wd = get<double>(spec, "weight_decay", 0.0, where);
    const double mult = get<double>(spec, "pretrained_lr_multiplier", 1.0, where);
    if (!(lr > 0)) bad(where, "lr", "got " + std::to_string(lr) + ", expected > 0");
    if (!(mult >= 0)) bad(where, "pretrained_lr_multiplier", "expected >= 0");
    std::vector<nn::ParamGroup> groups;
    if (!pretrained.empty()) groups.push_back({std::move(pretrained), lr * mult, std::nullopt});
    if (!fresh.empty()) groups.push_back({std::move(fresh), std::nullopt, std::nullopt});
    if (groups.empty()) throw Error(where, "no trainable parameters (everything frozen?)");
    const auto betas = get<std::vector<double>>(spec, "betas", {0.9, 0.999}, where);
    if (betas.size() != 2) bad(where, "betas", "expected two numbers");
    const double eps = get<double>(spec, "eps", 1e-8, where);
    if (name == "adam" || name == "adamw") {
        if (name == "adamw")
            return std::make_unique<nn::AdamW>(std::move(groups), nn::AdamWOptions{.lr = lr, .betas = {betas[0], betas[1]},
                                                                                  .eps = eps, .weight_decay = wd});
        return std::make_unique<nn::Adam>(std::move(groups),
                                          nn::AdamOptions{.lr = lr, .betas = {betas[0], betas[1]}, .eps = eps, .weight_decay = wd});
    }
    if (name == "sgd")
        return std::make_unique<nn::Sgd>(std::move(groups), nn::SgdOptions{.lr = lr,
                                                                          .momentum = get<double>(spec, "momentum", 0.0, where),
                                                                          .nesterov = get<bool>(spec, "nesterov", false, where),
                                                                          .weight_decay = wd});
    bad(where, "name", "got '" + name + "', expected adam, adamw or sgd");
}

std::unique_ptr<nn::LrSchedule> make_schedule(const nlohmann::json& spec, double lr, std::int64_t epochs,
                                              std::int64_t batches_per_epoch, nn::ScheduleUnit& unit) {
    const std::string where = "train config schedule";
    check_keys(spec, {"name", "unit", "step_size", "gamma", "t_max", "eta_min", "factor", "patience", "min_lr", "mode"}, where);
    const std::string name = get<std::string>(spec, "name", "constant", where);
    const std::string u = get<std::string>(spec, "unit", "epoch", where);
    if (u != "epoch" && u != "batch") bad(where, "unit", "got '" + u + "', expected epoch or batch");
    unit = u == "batch" ? nn::ScheduleUnit::batch : nn::ScheduleUnit::epoch;
    const std::int64_t horizon = unit == nn::ScheduleUnit::batch ? epochs * batches_per_epoch : epochs;
    if (name == "constant") return nullptr;
    if (name == "step")
        return std::make_unique<nn::StepLr>(nn::StepLrOptions{.lr = lr, .step_size = get<std::int64_t>(spec, "step_size", 10, where),
                                                              .gamma = get<double>(spec, "gamma", 0.1, where)});
    if (name == "exponential")
        return std::make_unique<nn::ExponentialLr>(nn::ExponentialLrOptions{.lr = lr, .gamma = get<double>(spec, "gamma", 0.95, where)});
    if (name == "cosine")
        return std::make_unique<nn::CosineAnnealing>(nn::CosineAnnealingOptions{
            .lr = lr, .t_max = get<std::int64_t>(spec, "t_max", horizon, where), .eta_min = get<double>(spec, "eta_min", 0.0, where)});
    if (name == "reduce_on_plateau") {
        unit = nn::ScheduleUnit::epoch;
        const std::string mode = get<std::string>(spec, "mode", "max", where);
        return std::make_unique<nn::ReduceOnPlateau>(nn::ReduceOnPlateauOptions{
            .lr = lr, .mode = mode == "min" ? nn::MonitorMode::min : nn::MonitorMode::max,
            .factor = get<double>(spec, "factor", 0.2, where), .patience = get<std::int64_t>(spec, "patience", 3, where),
            .min_lr = get<double>(spec, "min_lr", 0.0, where)});
    }
    bad(where, "name", "got '" + name + "', expected constant, step, exponential, cosine or reduce_on_plateau");
}

}  // namespace mtag::data
