#include "data/sweep/resumable_run.hpp"

#include "data/run/model_card.hpp"
#include "data/train/run_checkpoint.hpp"
#include "data/train/trainer.hpp"
#include "dsp/error.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace mtag::data {

namespace fs = std::filesystem;

nlohmann::json RunOutcome::to_json() const {
    return {{"metric", metric},
            {"value", value ? nlohmann::json(*value) : nlohmann::json(nullptr)},
            {"best_epoch", best_epoch},
            {"epochs_completed", epochs_completed},
            {"stop_reason", stop_reason},
            {"seconds", seconds}};
}

RunOutcome RunOutcome::from_json(const nlohmann::json& j, const std::string& where) {
    try {
        RunOutcome o;
        o.metric = j.at("metric").get<std::string>();
        if (!j.at("value").is_null()) o.value = j.at("value").get<double>();
        o.best_epoch = j.at("best_epoch").get<std::int64_t>();
        o.epochs_completed = j.at("epochs_completed").get<std::int64_t>();
        o.stop_reason = j.at("stop_reason").get<std::string>();
        o.seconds = j.at("seconds").get<double>();
        return o;
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed run outcome: ") + e.what() + "; delete it to train the run again");
    }
}

namespace {

// Removes PATH.tmp<pid> files whose process is gone: a sweep killed between writing a temporary and renaming
// it leaves one, and the rerun would otherwise keep it forever beside the final file.
void remove_dead_temporaries(const fs::path& path) {
    const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    const std::string prefix = path.filename().string() + ".tmp";
    std::error_code ec;
    for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string digits = name.substr(prefix.size());
        if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto pid = static_cast<pid_t>(std::stol(digits));
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its process still runs
        std::error_code remove_ec;
        fs::remove(it->path(), remove_ec);
    }
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::string& text) {
    remove_dead_temporaries(path);
    const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw Error(std::string("'") + path.string() + "'", "cannot be written (disk full or read-only?)");
        }
    }
    // The data reach the disk before the rename makes them visible under the final name.
    if (FILE* f = std::fopen(tmp.c_str(), "rb")) {
        ::fsync(::fileno(f));
        std::fclose(f);
    }
    fs::rename(tmp, path);
}

std::optional<RunOutcome> finished_outcome(const fs::path& dir) {
    const fs::path file = dir / "outcome.json";
    std::ifstream in(file);
    if (!in) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) throw Error(std::string("'") + file.string() + "'", "is not valid JSON; delete it to train the run again");
    RunOutcome o = RunOutcome::from_json(j, std::string("'") + file.string() + "'");
    o.cached = true;
    return o;
}

std::optional<RunOutcome> run_to_completion(const TrainConfig& config, const Dataset& dataset,
                                            const ResumableRunOptions& options) {
    if (std::optional<RunOutcome> done = finished_outcome(options.dir)) return done;
    const bool resume = run_checkpoint_exists(options.dir / "checkpoint.safetensors");
    if (!resume && fs::exists(options.dir)) fs::remove_all(options.dir);  // killed before its first checkpoint
    TrainerOptions t;
    t.out_dir = options.dir;
    t.resume = resume;
    t.quiet = options.quiet;
    t.mtag_version = options.mtag_version;
    t.stop = options.stop;
    const TrainResult r = train(config, dataset, t);
    if (r.interrupted) return std::nullopt;
    RunOutcome o;
    o.metric = r.metric;
    if (r.best_epoch > 0) {
        // From the best model's card: a resumed trainer knows the best epoch but not its value.
        const nlohmann::json validation = load_card(options.dir).training.value("validation", nlohmann::json::object());
        const auto v = validation.find(r.metric);
        if (v != validation.end() && v->is_number() && std::isfinite(v->get<double>())) o.value = v->get<double>();
    }
    o.best_epoch = r.best_epoch;
    o.epochs_completed = r.epochs_completed;
    o.stop_reason = r.stop_reason;
    o.seconds = r.seconds;
    write_file_atomically(options.dir / "outcome.json", o.to_json().dump(2) + "\n");
    o.resumed = resume;
    return o;
}

}  // namespace mtag::data
