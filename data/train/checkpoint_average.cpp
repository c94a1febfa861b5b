#include "data/train/checkpoint_average.hpp"

#include "data/run/model_card.hpp"
#include "dsp/error.hpp"
#include "nn/train/training_state.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

fs::path epoch_file(const fs::path& run_dir, std::int64_t epoch) {
    char name[64];
    std::snprintf(name, sizeof name, "epoch_%04lld.safetensors", static_cast<long long>(epoch));
    return run_dir / "checkpoints" / name;
}

}  // namespace

std::vector<std::int64_t> kept_epochs(const fs::path& run_dir) {
    std::vector<std::int64_t> epochs;
    const fs::path dir = run_dir / "checkpoints";
    if (!fs::is_directory(dir)) return epochs;
    for (const auto& entry : fs::directory_iterator(dir)) {
        long long e = 0;
        const std::string f = entry.path().filename().string();
        if (std::sscanf(f.c_str(), "epoch_%lld.safetensors", &e) == 1 && epoch_file(run_dir, e).filename() == f)
            epochs.push_back(e);
    }
    std::sort(epochs.begin(), epochs.end());
    return epochs;
}

AveragedCheckpoints average_checkpoints(const fs::path& run_dir, std::size_t last, const fs::path& out_dir) {
    std::vector<std::int64_t> epochs = kept_epochs(run_dir);
    if (epochs.empty())
        throw Error("run '" + run_dir.string() + "'",
                    "has no epoch checkpoints in checkpoints/; train it with --keep-checkpoints K (config "
                    "keep_checkpoints)");
    if (last == 0) throw Error("--last", "must be >= 1");
    if (epochs.size() > last) epochs.erase(epochs.begin(), epochs.end() - static_cast<std::ptrdiff_t>(last));
    RunModel run = load_run(run_dir);  // the architecture and card; its weights are replaced
    std::map<std::string, nn::Tensor*> targets;
    std::map<std::string, bool> integer;
    for (nn::Parameter* p : run.model->parameters()) targets["model." + p->name] = &p->value;
    for (nn::Buffer* b : run.model->buffers()) {
        targets["model." + b->name] = &b->value;
        integer["model." + b->name] = b->integer;
    }
    std::map<std::string, std::vector<double>> sums;
    for (std::size_t k = 0; k < epochs.size(); ++k) {
        const fs::path file = epoch_file(run_dir, epochs[k]);
        const nn::TrainingCheckpoint c = nn::load_checkpoint(file);  // CRC checked
        std::map<std::string, const nn::Tensor*> by_name;
        for (const auto& [n, t] : c.tensors) by_name[n] = &t;
        for (const auto& [name, target] : targets) {
            const auto it = by_name.find(name);
            if (it == by_name.end() || it->second->size() != target->size())
                throw Error("checkpoint " + file.string(), "has no tensor '" + name + "' of " +
                                                               std::to_string(target->size()) +
                                                               " values; it is not of this run's model");
            std::vector<double>& sum = sums[name];
            sum.resize(target->size(), 0.0);
            const float* v = it->second->data();
            if (integer[name]) {  // num_batches_tracked: the newest
                for (std::size_t i = 0; i < sum.size(); ++i) sum[i] = v[i] * static_cast<double>(epochs.size());
            } else {
                for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += v[i];
            }
        }
    }
    for (auto& [name, target] : targets) {
        const std::vector<double>& sum = sums[name];
        float* out = target->data();
        for (std::size_t i = 0; i < sum.size(); ++i) out[i] = static_cast<float>(sum[i] / static_cast<double>(epochs.size()));
    }
    run.card.training["weights"] = {{"kind", "checkpoint_average"}, {"epochs", epochs}, {"run", run_dir.string()}};
    save_run(*run.model, run.card, out_dir);
    return {epochs};
}

}  // namespace mtag::data
