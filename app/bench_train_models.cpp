// mtag bench train [--model NAME ...] [--batch B] [--steps N]: every preset of nn/models at its published
// input size: training clips/s (forward + BCE-with-logits + backward + Adam step), inference clips/s
// (eval-mode forward) and peak memory (model, optimizer state and two training steps, above the
// resident size before), next to the same architectures in PyTorch with the same batch and threads
// (scripts/bench_torch_models.py, which builds them with scripts/export_check.py's twins).
// Figures are the best of N timed steps after one warm-up: the machine is shared, the minimum is the signal.
#include "app/bench.hpp"
#include "dsp/error.hpp"
#include "nn/loss.hpp"
#include "nn/models/zoo.hpp"
#include "nn/optim/adam.hpp"
#include "nn/threads.hpp"
#include "nn/workspace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

namespace mtag::app {

namespace {

long status_kb(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return 0;
}

bool reset_peak() {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";
    return static_cast<bool>(reset);
}

nn::Tensor random_tensor(const nn::Shape& shape, std::uint64_t seed) {
    nn::Tensor t(shape);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> n01(0, 1);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = n01(rng);
    return t;
}

struct ModelFigures {
    double train_clips_per_s = 0, infer_clips_per_s = 0, peak_mb = -1;
};

constexpr std::int64_t kTags = 50;

ModelFigures measure(const std::string& preset, std::int64_t batch, int steps) {
    ModelFigures f;
    nn::release_scratch();
    const long base = status_kb("VmRSS");
    const bool peak_ok = reset_peak();
    auto model = nn::models::build_model({{"preset", preset}, {"seed", std::uint64_t{1}}}, kTags);
    model->train();
    model->set_input_grad(false);
    const nn::Tensor x = random_tensor(model->input_shape(batch), 2);
    nn::Tensor target = nn::Tensor::full({batch, kTags}, 0.0f);
    for (std::size_t i = 0; i < target.size(); i += 7) target[i] = 1.0f;
    nn::BCEWithLogitsLoss loss;
    nn::Adam adam(model->parameters(), nn::AdamOptions{.lr = 1e-4});
    auto train_step = [&] {
        adam.zero_grad();
        loss.forward(model->forward(x), target);
        model->backward(loss.backward());
        adam.step();
    };
    train_step();
    train_step();
    if (peak_ok) f.peak_mb = static_cast<double>(status_kb("VmHWM") - base) / 1024.0;
    double best = 1e300;
    for (int s = 0; s < steps; ++s) {
        const double t0 = wall_seconds();
        train_step();
        best = std::min(best, wall_seconds() - t0);
    }
    f.train_clips_per_s = static_cast<double>(batch) / best;
    model->eval();
    model->forward(x);
    best = 1e300;
    for (int s = 0; s < steps; ++s) {
        const double t0 = wall_seconds();
        model->forward(x);
        best = std::min(best, wall_seconds() - t0);
    }
    f.infer_clips_per_s = static_cast<double>(batch) / best;
    return f;
}

}  // namespace

int bench_train_models(const BenchContext& context) {
    std::vector<std::string> presets;
    std::int64_t batch = context.quick ? 2 : 16;
    int steps = context.quick ? 1 : 3;
    for (std::size_t i = 0; i < context.extra.size(); ++i) {
        const std::string& a = context.extra[i];
        const bool has_value = i + 1 < context.extra.size();
        if (a == "--model" && has_value) presets.push_back(context.extra[++i]);
        else if (a == "--batch" && has_value) batch = std::stoll(context.extra[++i]);
        else if (a == "--steps" && has_value) steps = std::stoi(context.extra[++i]);
        else throw UsageError("mtag bench train: unknown argument '" + a + "' (--model NAME, --batch B, --steps N, or 'optim')");
    }
    if (batch < 1 || steps < 1) throw UsageError("mtag bench train: --batch and --steps must be positive");
    if (presets.empty()) presets = context.quick ? std::vector<std::string>{"cnn1d"} : nn::models::preset_names();
    for (const std::string& p : presets) nn::models::preset_info(p);  // unknown names fail before any work
    const int threads = context.global->resolved_threads();
    nn::set_thread_budget(threads);

    nlohmann::json spec = nlohmann::json::array();
    for (const std::string& p : presets) spec.push_back({{"preset", p}, {"options", nn::models::preset_options(p)}});
    const std::filesystem::path spec_file = context.work_dir / "bench_train_models.json";
    std::filesystem::create_directories(context.work_dir);
    std::ofstream(spec_file) << spec.dump();
    const std::optional<nlohmann::json> reference = run_reference_script(
        context, "bench_torch_models.py",
        {"--spec", spec_file.string(), "--batch", std::to_string(batch), "--steps", std::to_string(steps), "--threads",
         std::to_string(threads), "--tags", std::to_string(kTags)});

    if (!context.json)
        std::printf("mtag bench train: presets at their published input size, batch %lld, %d thread(s), best of %d step(s), "
                    "50 tags, Adam\n%-20s %11s %11s %7s %11s %11s %7s %9s %9s\n",
                    static_cast<long long>(batch), threads, steps, "preset", "train c/s", "torch c/s", "ratio",
                    "infer c/s", "torch c/s", "ratio", "peak MB", "torch MB");
    for (const std::string& p : presets) {
        const ModelFigures f = measure(p, batch, steps);
        nlohmann::json ref = nlohmann::json::object();
        if (reference && reference->contains("results"))
            for (const auto& r : (*reference)["results"])
                if (r.value("preset", "") == p) ref = r;
        const double tt = ref.value("train_clips_per_s", 0.0), ti = ref.value("infer_clips_per_s", 0.0),
                     tm = ref.value("peak_mb", -1.0);
        if (context.json) {
            std::cout << nlohmann::ordered_json{{"bench", "train"}, {"what", "model"}, {"preset", p}, {"batch", batch},
                                                {"threads", threads}, {"train_clips_per_s", f.train_clips_per_s},
                                                {"infer_clips_per_s", f.infer_clips_per_s}, {"peak_mb", f.peak_mb},
                                                {"torch_train_clips_per_s", tt}, {"torch_infer_clips_per_s", ti},
                                                {"torch_peak_mb", tm}}
                             .dump()
                      << "\n";
        } else {
            auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
            std::printf("%-20s %11.2f %11.2f %6.2fx %11.2f %11.2f %6.2fx %9.0f %9.0f\n", p.c_str(), f.train_clips_per_s, tt,
                        ratio(f.train_clips_per_s, tt), f.infer_clips_per_s, ti, ratio(f.infer_clips_per_s, ti), f.peak_mb,
                        tm);
        }
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace mtag::app
