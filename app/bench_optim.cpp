// mtag bench optim: optimizer step time per optimizer (4M parameters in 8 tensors, one thread, best of
// the timed steps) and
// tagging-metric time (ROC-AUC + AP per tag, micro ROC-AUC on 4000 clips x 50 tags), each next to
// the same measurement in PyTorch 1.13 / scikit-learn (scripts/bench_optim_torch.py, run in this bench).
#include "app/bench.hpp"
#include "dsp/error.hpp"
#include "nn/metrics.hpp"
#include "nn/optim/factory.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>

namespace mtag::app {
namespace {

// Every optimizer name of the factory (nn/optim/factory.hpp) at lr 1e-3, plus RMSProp with momentum and
// centring; the names match scripts/bench_optim_torch.py's.
std::vector<std::pair<std::string, nn::OptimizerConfig>> optimizer_cases() {
    std::vector<std::pair<std::string, nn::OptimizerConfig>> cases;
    for (const std::string& name : nn::optimizer_names()) {
        nn::OptimizerConfig c = nn::OptimizerConfig::named(name);
        c.set_lr(1e-3);
        cases.emplace_back(name, c);
        if (name == "rmsprop") {
            c.rmsprop.momentum = 0.9;
            c.rmsprop.centered = true;
            cases.emplace_back("rmsprop_centered", c);
        }
    }
    return cases;
}

// Runs the reference script; returns its JSON lines (empty when Python or torch is unavailable).
std::vector<nlohmann::json> run_reference(const BenchContext& context, std::size_t elements, int tensors,
                                          int steps) {
    std::optional<ReferenceOutput> reference = run_reference_lines(
        context, "bench_optim_torch.py",
        {"--elements", std::to_string(elements), "--tensors", std::to_string(tensors), "--steps",
         std::to_string(steps), "--threads", "1"});
    return reference ? std::move(reference->lines) : std::vector<nlohmann::json>{};
}

}  // namespace

int bench_optim(const BenchContext& context) {
    const std::size_t elements = std::size_t{1} << 22;
    const int tensors = 8;
    const int steps = context.quick ? 3 : 20;
    const auto reference = run_reference(context, elements, tensors, steps);
    auto ref_ms = [&](const std::string& what, const std::string& name, bool foreach) {
        for (const auto& j : reference)
            if (j.value("what", "") == what && j.value("name", "") == name &&
                j.value("foreach", false) == foreach)
                return j.value("ms", 0.0);
        return 0.0;
    };

    std::mt19937_64 rng(context.global ? context.global->seed : 0);
    std::normal_distribution<float> n01(0, 1);
    std::vector<std::unique_ptr<nn::Parameter>> owned;
    std::vector<nn::Parameter*> params;
    for (int t = 0; t < tensors; ++t) {
        owned.push_back(std::make_unique<nn::Parameter>(
            "p" + std::to_string(t), nn::Shape{static_cast<std::int64_t>(elements / tensors)}));
        for (std::size_t i = 0; i < owned.back()->size(); ++i) {
            owned.back()->data()[i] = n01(rng);
            owned.back()->grad_data()[i] = 1e-2f * n01(rng);
        }
        params.push_back(owned.back().get());
    }
    if (!context.json)
        std::printf(
            "optimizer step, %zu parameters in %d tensors, 1 thread (torch: same sizes, "
            "torch.set_num_threads(1))\n"
            "%-17s %10s %14s %14s %10s\n",
            elements, tensors, "optimizer", "mtag ms", "torch ms", "torch fe ms", "speed-up");
    for (const auto& [name, config] : optimizer_cases()) {
        auto opt = nn::make_optimizer(config, params);
        opt->step();
        opt->step();
        double ms = 1e300;  // best of `steps` single steps: the machine is shared, the minimum is the signal
        for (int s = 0; s < steps; ++s) {
            const double t0 = wall_seconds();
            opt->step();
            ms = std::min(ms, (wall_seconds() - t0) * 1e3);
        }
        const double torch_ms = ref_ms("optimizer", name, false), torch_fe = ref_ms("optimizer", name, true);
        const double best_torch =
            torch_ms > 0 && torch_fe > 0 ? std::min(torch_ms, torch_fe) : std::max(torch_ms, torch_fe);
        if (context.json) {
            std::cout << nlohmann::json{{"bench", "train"},
                                        {"what", "optimizer_step"},
                                        {"optimizer", name},
                                        {"elements", elements},
                                        {"ms", ms},
                                        {"torch_ms", torch_ms},
                                        {"torch_foreach_ms", torch_fe}}
                             .dump()
                      << "\n";
        } else if (best_torch > 0) {
            std::printf("%-17s %10.2f %14.2f %14.2f %9.2fx\n", name.c_str(), ms, torch_ms, torch_fe,
                        best_torch / ms);
        } else {
            std::printf("%-17s %10.2f %14s %14s %10s\n", name.c_str(), ms, "-", "-", "-");
        }
    }

    // Tagging metrics on a test split the size of MagnaTagATune's (about 4300 clips x 50 tags).
    const std::size_t clips = 4000, tags = 50;
    std::vector<float> scores(clips * tags), labels(clips * tags);
    std::uniform_real_distribution<float> u01(0, 1);
    for (std::size_t i = 0; i < scores.size(); ++i) {
        labels[i] = u01(rng) < 0.1f ? 1.0f : 0.0f;
        scores[i] = labels[i] * 0.5f + u01(rng);
    }
    const int repeats = context.quick ? 1 : 5;
    double sink = 0, ms = 1e300;
    for (int r = 0; r < repeats; ++r) {
        const double t0 = wall_seconds();
        sink += nn::tagging_metrics({scores, clips, tags}, {labels, clips, tags}).macro_roc_auc;
        ms = std::min(ms, (wall_seconds() - t0) * 1e3);
    }
    double sk_ms = 0;
    for (const auto& j : reference)
        if (j.value("what", "") == "metrics") sk_ms = j.value("ms", 0.0);
    if (context.json) {
        std::cout << nlohmann::json{{"bench", "train"},
                                    {"what", "tagging_metrics"},
                                    {"clips", clips},
                                    {"tags", tags},
                                    {"ms", ms},
                                    {"sklearn_ms", sk_ms},
                                    {"macro_roc_auc", sink / repeats}}
                         .dump()
                  << "\n";
    } else {
        std::printf("\ntagging metrics (per-tag ROC-AUC + AP, micro ROC-AUC), %zu clips x %zu tags\n", clips,
                    tags);
        if (sk_ms > 0)
            std::printf("mtag %.2f ms, sklearn %.2f ms, speed-up %.2fx\n", ms, sk_ms, sk_ms / ms);
        else
            std::printf("mtag %.2f ms, sklearn -\n", ms);
    }
    return 0;
}

}  // namespace mtag::app
