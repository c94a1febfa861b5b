#include "data/plot/training_log.hpp"

#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace mtag::data::plot {

namespace fs = std::filesystem;

std::vector<double> TrainingLog::series(const std::string& metric) const {
    std::vector<double> out;
    for (const LogEpoch& e : epochs) {
        auto it = e.metrics.find(metric);
        out.push_back(it == e.metrics.end() ? NAN : it->second);
    }
    return out;
}

bool TrainingLog::has(const std::string& metric) const {
    for (const LogEpoch& e : epochs)
        if (e.metrics.count(metric) && std::isfinite(e.metrics.at(metric))) return true;
    return false;
}

namespace {

// RUN/steps.jsonl: {"epoch": e, "batch": b, "batches": n, "loss": x} per step; a broken line (a run killed
// while writing) ends the reading instead of failing the plot.
void read_steps(const fs::path& path, TrainingLog& log) {
    std::ifstream in(path);
    std::string line;
    while (in && std::getline(in, line)) {
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("epoch") || !j.contains("batch") || !j.contains("batches") ||
            !j.contains("loss") || !j["loss"].is_number())
            break;
        const double batches = std::max(1.0, j["batches"].get<double>());
        log.steps.push_back({j["epoch"].get<double>() + (j["batch"].get<double>() + 1) / batches, j["loss"].get<double>()});
    }
}

}  // namespace

TrainingLog read_training_log(const fs::path& run_or_file, bool allow_empty) {
    const fs::path path = fs::is_directory(run_or_file) ? run_or_file / "log.jsonl" : run_or_file;
    const std::string where = "training log '" + path.string() + "'";
    if (!fs::exists(run_or_file))
        throw Error("run '" + run_or_file.string() + "'", "does not exist (give a run folder written by mtag train)");
    std::ifstream in(path);
    if (!in && !(allow_empty && !fs::exists(path)))
        throw Error(where, "cannot be read (is this a run folder written by mtag train?)");
    TrainingLog log;
    log.name = (fs::is_directory(run_or_file) ? run_or_file : run_or_file.parent_path()).filename().string();
    if (log.name.empty() || log.name == ".") log.name = fs::absolute(run_or_file).lexically_normal().parent_path().filename().string();
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            throw Error(where, "line " + std::to_string(number) + " is not a JSON object");
        if (j.contains("event")) continue;
        if (!j.contains("epoch") || !j["epoch"].is_number_integer())
            throw Error(where, "line " + std::to_string(number) + " has no integer \"epoch\"");
        LogEpoch e;
        e.epoch = j["epoch"].get<int>() + 1;
        if (j.contains("step") && j["step"].is_number()) e.step = j["step"].get<long long>();
        if (j.contains("lr") && j["lr"].is_number()) e.lr = j["lr"].get<double>();
        for (const auto& [key, value] : j.items()) {
            if (key == "epoch" || key == "step" || key == "lr" || key == "best" || key == "best_epoch" ||
                key == "bad_epochs")
                continue;
            if (value.is_number()) e.metrics[key] = value.get<double>();
            else if (value.is_null()) e.metrics[key] = NAN;
        }
        if (j.contains("events") && j["events"].is_array())
            for (const auto& ev : j["events"])
                if (ev.is_string()) e.events.push_back(ev.get<std::string>());
        if (j.contains("best_epoch") && j["best_epoch"].is_number_integer())
            log.best_epoch = j["best_epoch"].get<int>() + 1;
        if (j.contains("best") && j["best"].is_number()) log.best_value = j["best"].get<double>();
        log.epochs.push_back(std::move(e));
    }
    if (log.epochs.empty() && !allow_empty)
        throw Error(where, "has no epoch yet (train for at least one epoch, or check the run folder)");
    if (fs::is_directory(run_or_file)) read_steps(run_or_file / "steps.jsonl", log);
    return log;
}

std::vector<double> smooth(const std::vector<double>& values, double weight) {
    std::vector<double> out;
    double last = 0, norm = 0;
    for (double v : values) {
        if (!std::isfinite(v)) {
            out.push_back(v);
            continue;
        }
        last = weight * last + (1 - weight) * v;
        norm = weight * norm + (1 - weight);
        out.push_back(last / norm);
    }
    return out;
}

}  // namespace mtag::data::plot
