#include "data/train/run_checkpoint.hpp"

#include "dsp/error.hpp"

#include <cmath>
#include <iostream>
#include <map>
#include <string>

namespace mtag::data {

void save_run_checkpoint(const std::filesystem::path& path, const nn::TrainingState& state, nn::Module& model,
                         const RunPosition& position, const Normalization& normalization,
                         const nn::ExponentialMovingAverage* ema) {
    nn::TrainingCheckpoint c = state.save();
    for (nn::Parameter* p : model.parameters()) c.tensors.emplace_back("model." + p->name, p->value.clone());
    for (nn::Buffer* b : model.buffers()) c.tensors.emplace_back("model." + b->name, b->value.clone());
    if (ema)
        for (auto& t : ema->state()) c.tensors.push_back(std::move(t));
    c.scalars["mtag.run"] = {{"epoch", position.epoch},       {"batch", position.batch},
                             {"loss_sum", position.loss_sum}, {"loss_count", position.loss_count},
                             {"examples", position.examples}, {"seconds", position.seconds},
                             {"best_epoch", position.best_epoch}, {"skipped_batches", position.skipped_batches},
                             {"normalization", normalization.to_json()}, {"ema_updates", position.ema_updates},
                             {"ema_best", std::isfinite(position.ema_best) ? nlohmann::json(position.ema_best)
                                                                           : nlohmann::json(nullptr)},
                             {"ema_best_epoch", position.ema_best_epoch}};
    if (!position.stop_reason.empty()) c.scalars["mtag.run"]["stop_reason"] = position.stop_reason;
    nn::save_checkpoint(c, path);
}

namespace {

ResumedRun load_one(const std::filesystem::path& path) {
    ResumedRun out;
    out.checkpoint = nn::load_checkpoint(path);
    if (!out.checkpoint.scalars.contains("mtag.run"))
        throw Error("checkpoint " + path.string(), "has no 'mtag.run' state; not written by mtag train");
    try {
        const nlohmann::json& run = out.checkpoint.scalars["mtag.run"];
        RunPosition& p = out.position;
        p.epoch = run.at("epoch").get<std::int64_t>();
        p.batch = run.at("batch").get<std::size_t>();
        p.loss_sum = run.at("loss_sum").get<double>();
        p.loss_count = run.at("loss_count").get<std::size_t>();
        p.examples = run.at("examples").get<std::size_t>();
        p.seconds = run.value("seconds", 0.0);
        p.best_epoch = run.value("best_epoch", std::int64_t{0});
        p.skipped_batches = run.value("skipped_batches", std::size_t{0});
        p.ema_updates = run.value("ema_updates", std::int64_t{0});
        p.ema_best = run.contains("ema_best") && run["ema_best"].is_number() ? run["ema_best"].get<double>() : NAN;
        p.ema_best_epoch = run.value("ema_best_epoch", std::int64_t{0});
        p.stop_reason = run.value("stop_reason", std::string());
        out.normalization = Normalization::from_json(run.at("normalization"));
    } catch (const nlohmann::json::exception& e) {
        throw Error("checkpoint " + path.string(), std::string("malformed 'mtag.run' state: ") + e.what());
    }
    return out;
}

}  // namespace

bool run_checkpoint_exists(const std::filesystem::path& path) {
    return std::filesystem::exists(path) || std::filesystem::exists(nn::previous_checkpoint_path(path));
}

ResumedRun load_run_checkpoint(const std::filesystem::path& path) {
    const std::filesystem::path previous = nn::previous_checkpoint_path(path);
    std::string problem;
    if (std::filesystem::exists(path) || !std::filesystem::exists(previous)) {
        try {
            return load_one(path);
        } catch (const Error& e) {
            if (!std::filesystem::exists(previous)) throw;
            problem = e.what();
        }
    } else {
        problem = "checkpoint " + path.string() + " is missing (the run was killed while replacing it)";
    }
    // The previous checkpoint costs the batches trained since it was written, which a resume trains again
    // (identically: the data order and every random choice are seeded from the position).
    ResumedRun run;
    try {
        run = load_one(previous);
    } catch (const Error& e) {
        throw Error("checkpoint " + path.string(),
                    "is unusable (" + problem + ") and so is the previous one (" + e.what() + ")");
    }
    std::cerr << "warning: " << problem << "\nwarning: resuming from the previous checkpoint " << previous.string()
              << " (epoch " << run.position.epoch + 1 << ", batch " << run.position.batch << ")\n";
    return run;
}

void restore_model(nn::Module& model, const nn::TrainingCheckpoint& checkpoint) {
    std::map<std::string, const nn::Tensor*> saved;
    for (const auto& [n, t] : checkpoint.tensors) saved[n] = &t;
    for (nn::Parameter* p : model.parameters())
        if (auto it = saved.find("model." + p->name); it != saved.end()) p->value.copy_from(*it->second);
    for (nn::Buffer* b : model.buffers())
        if (auto it = saved.find("model." + b->name); it != saved.end()) b->value.copy_from(*it->second);
}

}  // namespace mtag::data
