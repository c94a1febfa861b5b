#include "data/sweep/sweep.hpp"

#include "data/sweep/cross_validation.hpp"
#include "data/run/output_lock.hpp"
#include "dsp/error.hpp"
#include "nn/models/zoo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

std::string trial_dir_name(std::size_t trial) {
    char name[32];
    std::snprintf(name, sizeof name, "trial-%03zu", trial);
    return name;
}

nlohmann::json optional_number(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// What must match between a sweep directory and a rerun (threads and the number of trials may change).
nlohmann::json sweep_settings(const SweepOptions& o) {
    nlohmann::json base = o.base.to_json();
    base.erase("threads");
    return {{"base", base},        {"space", o.space.to_json()}, {"seed", o.seed},
            {"metric", o.metric},  {"folds", o.folds},           {"max_minutes", o.max_minutes}};
}

// sweep.json: written on the first run, compared on reruns (naming the first setting that differs).
void check_or_record_settings(const SweepOptions& o) {
    const fs::path file = o.out / "sweep.json";
    const nlohmann::json settings = sweep_settings(o);
    std::ifstream in(file);
    if (!in) {
        write_file_atomically(file, settings.dump(2) + "\n");
        return;
    }
    const nlohmann::json recorded = nlohmann::json::parse(in, nullptr, false);
    if (recorded.is_discarded()) throw Error(std::string("'") + file.string() + "'", "is not valid JSON");
    for (const auto& [key, value] : settings.items())
        if (!recorded.contains(key) || recorded[key] != value) {
            std::string detail;
            if (key == "base" && recorded.contains("base")) {
                const nlohmann::json patch = nlohmann::json::diff(recorded["base"], value);
                if (!patch.empty()) detail = " (first difference at config " + patch[0].value("path", std::string("?")) + ")";
            }
            throw Error("--out " + o.out.string(),
                        "holds a sweep with another " + key + detail +
                            "; rerun with the same --config, --space, --seed, --metric, --folds and --max-minutes to "
                            "continue it, or use another --out");
        }
}

std::vector<TrialRecord> read_records(const fs::path& file) {
    std::vector<TrialRecord> records;
    std::ifstream in(file);
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        if (line.empty()) continue;
        const std::string where = std::string("'") + file.string() + "' line " + std::to_string(n);
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) throw Error(where, "is not valid JSON (sweep.jsonl is only ever replaced whole; was it edited?)");
        records.push_back(TrialRecord::from_json(j, where));
    }
    return records;
}

void write_records(const fs::path& file, const std::vector<TrialRecord>& records) {
    std::string text;
    for (const TrialRecord& r : records) text += r.to_json().dump() + "\n";
    write_file_atomically(file, text);
}

std::string format_value(const std::optional<double>& v) {
    if (!v) return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4f", *v);
    return buffer;
}

}  // namespace

nlohmann::json TrialRecord::to_json() const {
    nlohmann::json p = nlohmann::json::object();
    for (const auto& [path, value] : params) p[path] = value;
    nlohmann::json j = {{"trial", trial},   {"dir", dir},
                        {"params", p},      {"metric", metric},
                        {"value", optional_number(value)},
                        {"best_epoch", outcome.best_epoch}, {"epochs_completed", outcome.epochs_completed},
                        {"stop_reason", outcome.stop_reason}, {"seconds", seconds}};
    if (std_dev) j["std"] = *std_dev;
    return j;
}

TrialRecord TrialRecord::from_json(const nlohmann::json& j, const std::string& where) {
    try {
        TrialRecord r;
        r.trial = j.at("trial").get<std::size_t>();
        r.dir = j.at("dir").get<std::string>();
        for (const auto& [path, value] : j.at("params").items()) r.params.emplace_back(path, value);
        r.metric = j.at("metric").get<std::string>();
        if (!j.at("value").is_null()) r.value = j.at("value").get<double>();
        if (j.contains("std") && !j["std"].is_null()) r.std_dev = j["std"].get<double>();
        r.outcome.metric = r.metric;
        r.outcome.value = r.value;
        r.outcome.best_epoch = j.at("best_epoch").get<std::int64_t>();
        r.outcome.epochs_completed = j.at("epochs_completed").get<std::int64_t>();
        r.outcome.stop_reason = j.at("stop_reason").get<std::string>();
        r.seconds = r.outcome.seconds = j.at("seconds").get<double>();
        return r;
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed trial record: ") + e.what());
    }
}

TrainConfig trial_config(const SweepOptions& o, const TrialParams& params, std::size_t index) {
    const std::string where = "sweep trial " + std::to_string(index + 1) + " (" + describe_params(params) + ")";
    nlohmann::json j = apply_params(o.base.to_json(), params);
    if (o.max_minutes > 0) j["max_minutes"] = o.max_minutes;
    if (o.metric != "auto") j["evaluation"]["metric"] = o.metric;
    try {
        TrainConfig c = TrainConfig::from_json(j, "train config");
        c.resolve();
        // Model options are validated where the model is built: build it once now (two stand-in tags),
        // so that a sampled dropout of 1.2 fails before any trial trains, not in the middle of the sweep.
        nn::models::build_model(c.model.spec(c.seed), 2);
        return c;
    } catch (const Error& e) {
        throw Error(where, e.what());
    }
}

SweepResult run_sweep(const SweepOptions& o, const Dataset& dataset) {
    if (o.trials == 0) throw Error("--trials", "must be >= 1");
    if (o.folds == 1) throw Error("--folds 1", "cross-validation needs at least 2 folds (0 = none)");
    // Every trial's config is checked before any training: a bad key or range fails now, named.
    std::vector<TrialParams> params;
    std::vector<TrainConfig> configs;
    for (std::size_t i = 0; i < o.trials; ++i) {
        params.push_back(o.space.sample(o.seed, i));
        configs.push_back(trial_config(o, params.back(), i));
    }
    if (o.folds > 1) assign_folds(dataset, o.folds, o.seed);  // enough training clips for the folds

    // One writer per output directory, as for train and extract (a dead sweep holds nothing: flock).
    const OutputLock lock = OutputLock::in_directory(o.out, "--out " + o.out.string(), "mtag sweep");
    check_or_record_settings(o);
    const fs::path jsonl = o.out / "sweep.jsonl";
    SweepResult result;
    result.maximize = o.metric != "val_loss" && configs.front().evaluation.metric != "val_loss";
    result.records = read_records(jsonl);
    std::set<std::size_t> done;
    for (const TrialRecord& r : result.records) done.insert(r.trial);
    if (!o.quiet && !done.empty())
        std::cerr << "mtag sweep: " << done.size() << " trial(s) finished before; continuing\n";

    for (std::size_t i = 0; i < o.trials; ++i) {
        const std::size_t number = i + 1;
        if (done.count(number)) continue;
        if (o.stop && o.stop->load()) {
            result.interrupted = true;
            break;
        }
        TrialRecord record;
        record.trial = number;
        record.dir = trial_dir_name(number);
        record.params = params[i];
        const fs::path dir = o.out / record.dir;
        const std::string label = "trial " + std::to_string(number) + "/" + std::to_string(o.trials) + ": ";
        if (!o.quiet) std::cerr << "mtag sweep: " << label << describe_params(params[i]) << "\n";
        if (o.folds > 1) {
            const std::optional<CrossValidationResult> cv = cross_validate(
                configs[i], dataset,
                {.dir = dir, .folds = o.folds, .seed = o.seed, .quiet = o.quiet, .trainer_quiet = true,
                 .mtag_version = o.mtag_version, .stop = o.stop, .label = "  " + label});
            if (!cv) {
                result.interrupted = true;
                break;
            }
            record.metric = cv->metric;
            if (cv->statistics.count > 0) {
                record.value = cv->statistics.mean;
                record.std_dev = cv->statistics.std_dev;
            }
            record.outcome = cv->runs.front();
            for (const RunOutcome& r : cv->runs) record.seconds += r.seconds;
        } else {
            const std::optional<RunOutcome> outcome = run_to_completion(
                configs[i], dataset, {.dir = dir, .quiet = true, .mtag_version = o.mtag_version, .stop = o.stop});
            if (!outcome) {
                result.interrupted = true;
                break;
            }
            record.metric = outcome->metric;
            record.value = outcome->value;
            record.outcome = *outcome;
            record.seconds = outcome->seconds;
            if (!o.quiet)
                std::cerr << "mtag sweep: " << label << record.metric << " " << format_value(record.value)
                          << " (best epoch " << outcome->best_epoch << " of " << outcome->epochs_completed << ", "
                          << outcome->stop_reason << ", " << std::lround(outcome->seconds) << " s)"
                          << (outcome->cached ? " [finished before]" : outcome->resumed ? " [resumed]" : "") << "\n";
        }
        if (o.folds > 1 && !o.quiet)
            std::cerr << "mtag sweep: " << label << record.metric << " " << format_value(record.value) << " ± "
                      << format_value(record.std_dev) << " over " << o.folds << " folds\n";
        result.records.push_back(record);
        write_records(jsonl, result.records);
    }
    return result;
}

std::string ranking_table(const SweepResult& result) {
    std::vector<const TrialRecord*> order;
    for (const TrialRecord& r : result.records) order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [&](const TrialRecord* a, const TrialRecord* b) {
        if (a->value.has_value() != b->value.has_value()) return a->value.has_value();
        if (!a->value) return a->trial < b->trial;
        if (*a->value != *b->value) return result.maximize ? *a->value > *b->value : *a->value < *b->value;
        return a->trial < b->trial;
    });
    const bool folds = std::any_of(order.begin(), order.end(), [](const TrialRecord* r) { return r->std_dev.has_value(); });
    const std::string metric = order.empty() ? "value" : order.front()->metric;
    std::ostringstream out;
    char line[512];
    std::snprintf(line, sizeof line, "%-4s  %-9s  %-*s  %5s  %6s  %-14s  %8s  %s\n", "rank", "trial",
                  folds ? 17 : 13, (metric + (folds ? " (mean±std)" : "")).c_str(), "best", "epochs", "stop",
                  "seconds", "params");
    out << line;
    std::size_t rank = 0;
    for (const TrialRecord* r : order) {
        std::string value = format_value(r->value);
        if (folds) value += r->std_dev ? " ± " + format_value(r->std_dev) : "";
        std::snprintf(line, sizeof line, "%-4zu  %-9s  %-*s  %5lld  %6lld  %-14s  %8.1f  %s\n", ++rank, r->dir.c_str(),
                      folds ? 17 : 13, value.c_str(), static_cast<long long>(r->outcome.best_epoch),
                      static_cast<long long>(r->outcome.epochs_completed), r->outcome.stop_reason.c_str(), r->seconds,
                      describe_params(r->params).c_str());
        out << line;
    }
    return out.str();
}

}  // namespace mtag::data
