// mtag bench train [--model NAME ...] [--batch B] [--steps N] [--profile] [--torch-settings S]: every preset of nn/models at its
// published input size: training clips/s (forward + BCE-with-logits + backward + Adam step), inference
// clips/s (eval-mode forward) and peak memory, next to the same architectures in PyTorch with the same
// batch and threads (scripts/bench_torch_models.py, which builds them with scripts/export_check.py's twins,
// run once per preset so that one preset's failure or memory does not touch the others).
// Each preset is measured in a forked child process (mtag) and a fresh Python process (PyTorch).
// Peak memory, both sides alike: free heap returned to the kernel (malloc_trim), then VmRSS as the
// baseline and the peak reset (/proc/self/clear_refs 5), model + Adam built, two training steps, VmHWM
// minus the baseline. "tensor MB" is the engine's own peak of live tensor storage over the same span.
// Figures are the best of N timed steps after the warm-up (more steps, until 1 s of them, for fast models):
// the machine is shared, the minimum is the signal.
// --profile adds, per preset, where one training step's time goes by layer type (conv, BN, pool, ...) and
// by layer (name, stride, channels, input shape).
// PyTorch at its best: the first pass times each preset under every combination of glibc / jemalloc
// malloc (LD_PRELOAD), oneDNN on / off and (2-D models) channels_last, each in a fresh process, and keeps
// the fastest; later passes re-time that one. --torch-settings default skips the sweep.
#include "app/bench.hpp"
#include "data/run/fixed_front_end.hpp"
#include "dsp/error.hpp"
#include "nn/loss.hpp"
#include "nn/models/zoo.hpp"
#include "nn/memory_stats.hpp"
#include "nn/storage_allocator.hpp"
#include "nn/optim/adam.hpp"
#include "nn/profile.hpp"
#include "nn/threads.hpp"
#include "nn/workspace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>
#include <map>
#include <random>

namespace mtag::app {

namespace {

struct ModelFigures {
    double train_clips_per_s = 0, infer_clips_per_s = 0, peak_mb = -1, tensor_mb = 0;
    double train_clips_per_s_median = 0;  // the sustained rate: batch / median step
    double step_seconds = 0;
    std::vector<nn::LayerTime> profile;  // one training step by layer type (with --profile)
    std::vector<nn::LayerTime> layers;   // the same step by layer instance (with --profile)
};

// Layer types grouped as the table reports them.
std::string layer_group(const std::string& type) {
    if (type.rfind("Conv", 0) == 0) return "conv";
    if (type.rfind("BatchNorm", 0) == 0) return "bn";
    if (type.find("Pool") != std::string::npos) return "pool";
    if (type == "ReLU" || type == "LeakyReLU" || type == "ELU" || type == "Sigmoid" || type == "Tanh") return "act";
    if (type == "Linear") return "dense";
    return "other";
}

constexpr std::int64_t kTags = 50;

struct StepTimes {
    double best = 0, median = 0;
};

// Best and median wall time of fn: at least `steps` runs, more (up to 500) until 1 s of timed runs. The
// best of 3 steps of cnn1d (a few milliseconds each) varied by 2x between runs. The median is reported
// beside the best because the best alone once hid a slowdown: with false sharing in a conv backward,
// cnn1d's median step on two threads was 8.7 ms while occasional steps took 3.3 ms.
// scripts/bench_torch_models.py uses the same rule.
template <class F>
StepTimes step_times(F&& fn, int steps) {
    std::vector<double> times;
    double total = 0.0;
    for (int runs = 0; runs < steps || (total < 1.0 && runs < 500); ++runs) {
        const double t0 = wall_seconds();
        fn();
        times.push_back(wall_seconds() - t0);
        total += times.back();
    }
    std::sort(times.begin(), times.end());
    return {times.front(), times[times.size() / 2]};
}

ModelFigures measure(const std::string& preset, std::int64_t batch, int steps, bool profile) {
    ModelFigures f;
    nn::release_scratch();
    nn::release_cached_storage();
    malloc_trim(0);
    const long base = process_status_kb("VmRSS");
    const bool peak_ok = reset_peak_rss();
    const std::size_t tensor_base = nn::tensor_bytes_live();
    nn::reset_tensor_bytes_peak();
    auto model = data::build_new_model({{"preset", preset}, {"seed", std::uint64_t{1}}}, kTags);
    model->train();
    model->set_input_grad(false);
    const nn::Tensor x = random_normal_tensor(model->input_shape(batch), 2);
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
    if (peak_ok) f.peak_mb = static_cast<double>(process_status_kb("VmHWM") - base) / 1024.0;
    f.tensor_mb = static_cast<double>(nn::tensor_bytes_peak() - tensor_base) / (1024.0 * 1024.0);
    const StepTimes train = step_times(train_step, steps);
    f.train_clips_per_s = static_cast<double>(batch) / train.best;
    f.train_clips_per_s_median = static_cast<double>(batch) / train.median;
    f.step_seconds = train.best;
    if (profile) {
        nn::reset_layer_profile();
        nn::set_layer_profiling(true);
        const double t0 = wall_seconds();
        train_step();
        f.step_seconds = wall_seconds() - t0;  // the profiled step, so that shares add up
        nn::set_layer_profiling(false);
        f.profile = nn::layer_profile();
        f.layers = nn::layer_instance_profile();
    }
    model->eval();
    model->forward(x);
    f.infer_clips_per_s = static_cast<double>(batch) / step_times([&] { model->forward(x); }, steps).best;
    return f;
}

nlohmann::json to_json(const ModelFigures& f) {
    nlohmann::json prof = nlohmann::json::array();
    for (const nn::LayerTime& t : f.profile) prof.push_back({t.type, t.forward_seconds, t.backward_seconds, t.calls});
    nlohmann::json layers = nlohmann::json::array();
    for (const nn::LayerTime& t : f.layers) layers.push_back({t.type, t.forward_seconds, t.backward_seconds, t.calls});
    return {{"train", f.train_clips_per_s}, {"train_median", f.train_clips_per_s_median},
            {"infer", f.infer_clips_per_s}, {"peak", f.peak_mb},
            {"tensor", f.tensor_mb},        {"step", f.step_seconds},       {"profile", prof},
            {"layers", layers}};
}

ModelFigures from_json(const nlohmann::json& j) {
    ModelFigures f;
    f.train_clips_per_s = j.at("train");
    f.train_clips_per_s_median = j.at("train_median");
    f.infer_clips_per_s = j.at("infer");
    f.peak_mb = j.at("peak");
    f.tensor_mb = j.at("tensor");
    f.step_seconds = j.at("step");
    for (const auto& t : j.at("profile")) f.profile.push_back({t[0], t[1], t[2], t[3]});
    for (const auto& t : j.at("layers")) f.layers.push_back({t[0], t[1], t[2], t[3]});
    return f;
}

// Measures one preset in a forked child process, as the PyTorch side runs one process per preset: the
// peak is not inflated or hidden by heap left over from the previous preset, and a preset that runs out
// of memory or crashes is reported as failed while the others go on. The parent runs no model and starts
// no engine workers (nn::set_thread_budget runs in the child).
ModelFigures measure_in_child(const std::string& preset, std::int64_t batch, int steps, bool profile, int threads,
                              std::string& error) {
    std::fflush(stdout);
    std::fflush(stderr);
    int fds[2];
    if (::pipe(fds) != 0) throw Error("mtag bench train", "pipe() failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw Error("mtag bench train", "fork() failed");
    if (pid == 0) {
        ::close(fds[0]);
        std::string text;
        try {
            nn::set_thread_budget(threads);  // the engine's workers are created here, in the child
            text = nlohmann::json{{"ok", to_json(measure(preset, batch, steps, profile))}}.dump();
        } catch (const std::exception& e) {
            text = nlohmann::json{{"error", e.what()}}.dump();
        }
        const char* data = text.data();
        std::size_t left = text.size();
        while (left > 0) {
            const ssize_t w = ::write(fds[1], data, left);
            if (w <= 0) break;
            data += w;
            left -= static_cast<std::size_t>(w);
        }
        ::close(fds[1]);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t r; (r = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(r));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        if (j.contains("ok")) return from_json(j["ok"]);
        error = j.value("error", std::string("unknown error"));
    } catch (const nlohmann::json::exception&) {
        error = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) + " (out of memory?)"
                                    : "the measuring process exited with status " + std::to_string(WEXITSTATUS(status));
    }
    return {};
}

// What `mtag bench train` was asked for after the area name.
struct TrainBenchArgs {
    std::vector<std::string> presets;
    std::int64_t batch = 16;
    int steps = 3;
    bool profile = false;
    bool torch_sweep = true;  // --torch-settings sweep (default) | default
};

// Parses --model NAME (repeatable), --batch B, --steps N and --profile; checks the preset names.
TrainBenchArgs parse_train_bench_args(const BenchContext& context) {
    TrainBenchArgs args;
    std::vector<std::string>& presets = args.presets;
    args.batch = context.quick ? 2 : 16;
    args.steps = context.quick ? 1 : 3;
    for (std::size_t i = 0; i < context.extra.size(); ++i) {
        const std::string& a = context.extra[i];
        const bool has_value = i + 1 < context.extra.size();
        if (a == "--") continue;
        if (a == "--model" && has_value)
            presets.push_back(context.extra[++i]);
        else if (a == "--batch" && has_value)
            args.batch = std::stoll(context.extra[++i]);
        else if (a == "--steps" && has_value)
            args.steps = std::stoi(context.extra[++i]);
        else if (a == "--profile")
            args.profile = true;
        else if (a == "--torch-settings" && has_value) {
            const std::string v = context.extra[++i];
            if (v != "sweep" && v != "default")
                throw UsageError("mtag bench train: --torch-settings '" + v + "', expected sweep or default");
            args.torch_sweep = v == "sweep";
        } else
            throw UsageError("mtag bench train: unknown argument '" + a +
                             "' (--model NAME, --batch B, --steps N, --profile, --torch-settings sweep|default, "
                             "or 'optim')");
    }
    if (args.batch < 1 || args.steps < 1)
        throw UsageError("mtag bench train: --batch and --steps must be positive");
    if (presets.empty())
        presets = context.quick ? std::vector<std::string>{"cnn1d"} : nn::models::preset_names();
    for (const std::string& p : presets) nn::models::preset_info(p);  // unknown names fail before any work
    return args;
}

// Every preset's figures (mtag's best over the passes, or its error) and the PyTorch reference's.
struct TrainBenchResults {
    std::vector<ModelFigures> figures;
    std::vector<std::string> errors;
    std::map<std::string, nlohmann::json> reference;
};

// One configuration of the PyTorch side: the allocator, channels_last and oneDNN switches a
// performance-minded user would try (scripts/bench_torch_models.py).
struct TorchSetting {
    bool jemalloc = false, channels_last = false, mkldnn = true;
    std::string name() const {
        return std::string(jemalloc ? "jemalloc" : "glibc") + (channels_last ? "+cl" : "") +
               (mkldnn ? "" : "+no-onednn");
    }
};

// Debian's libjemalloc2, or empty when it is not installed (scripts/setup.sh --bench installs it).
std::string jemalloc_library() {
    for (const char* path : {"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
                             "/usr/lib/libjemalloc.so.2"})
        if (std::filesystem::exists(path)) return path;
    return {};
}

// The settings to try for preset p: glibc and jemalloc malloc x oneDNN on and off x (2-D models only)
// contiguous and channels_last; only PyTorch's defaults with --torch-settings default.
std::vector<TorchSetting> torch_settings(const TrainBenchArgs& args, const std::string& p) {
    if (!args.torch_sweep) return {TorchSetting{}};
    // 1-D models (cnn1d, the sample-level CNNs) have no 4-D tensors for channels_last to change.
    const std::string family = nn::models::preset_info(p).family;
    const bool two_d = family != "cnn1d" && family != "sample_cnn";
    std::vector<TorchSetting> out;
    for (const bool jemalloc : {false, true}) {
        if (jemalloc && jemalloc_library().empty()) continue;
        for (const bool mkldnn : {true, false})
            for (const bool cl : {false, true})
                if (!cl || two_d) out.push_back({jemalloc, cl, mkldnn});
    }
    return out;
}

// Times preset p in PyTorch (scripts/bench_torch_models.py), one fresh process per setting in `settings`,
// and folds the fastest into reference[p] ("settings" names it; its peak memory is the one reported).
// Returns the winning setting, which later passes measure alone.
TorchSetting measure_torch_preset(const BenchContext& context, const TrainBenchArgs& args, const std::string& p,
                                  int threads, const std::vector<TorchSetting>& settings,
                                  std::map<std::string, nlohmann::json>& reference) {
    const nlohmann::json spec =
        nlohmann::json::array({{{"preset", p}, {"options", nn::models::preset_options(p)}}});
    const std::filesystem::path spec_file = context.work_dir / ("bench_train_" + p + ".json");
    std::ofstream(spec_file) << spec.dump();
    TorchSetting best_setting = settings.front();
    nlohmann::json best;
    for (const TorchSetting& s : settings) {
        settle_before_measuring();
        std::vector<std::string> script_args{"--spec", spec_file.string(), "--batch", std::to_string(args.batch),
                                             "--steps", std::to_string(args.steps), "--threads",
                                             std::to_string(threads), "--tags", std::to_string(kTags),
                                             "--mkldnn", s.mkldnn ? "on" : "off"};
        if (s.channels_last) script_args.emplace_back("--channels-last");
        std::vector<std::string> environment;
        if (s.jemalloc) environment.push_back("LD_PRELOAD=" + jemalloc_library());
        const std::optional<nlohmann::json> r =
            run_reference_script(context, "bench_torch_models.py", script_args, environment);
        if (!r || !r->contains("results")) continue;
        for (nlohmann::json item : (*r)["results"]) {
            if (item.value("preset", "") != p || item.contains("error")) continue;
            item["settings"] = s.name();
            if (settings.size() > 1 && !context.json)
                std::fprintf(stderr, "mtag bench train: PyTorch %s with %s: %.2f clips/s\n", p.c_str(),
                             s.name().c_str(), item.value("train_clips_per_s", 0.0));
            if (best.is_null() || item.value("train_clips_per_s", 0.0) > best.value("train_clips_per_s", 0.0)) {
                best = item;
                best_setting = s;
            }
        }
    }
    if (best.is_null()) return best_setting;
    const bool first = !reference.count(p);
    keep_best_reference(reference[p], best, {"train_clips_per_s", "train_clips_per_s_median", "infer_clips_per_s"},
                        Better::larger);
    if (first) reference[p]["settings"] = best.value("settings", "");
    return best_setting;
}

// Measures every preset in every pass, mtag then PyTorch, each after a pause.
TrainBenchResults measure_presets(const BenchContext& context, const TrainBenchArgs& args, int threads) {
    const std::vector<std::string>& presets = args.presets;
    // Each preset in a forked child (mtag), then in a fresh Python process (PyTorch, one per preset: a
    // failure or a large model stays contained), each measured process after a pause
    // (settle_before_measuring): cnn1d, timed at once after the last PyTorch preset had exited, had
    // measured anywhere between ~1800 and ~3400 clips/s instead of ~3900. Over the passes each side keeps
    // its best throughput; memory figures and the profile come from the first pass.
    TrainBenchResults results;
    std::vector<ModelFigures>& figures = results.figures;
    std::vector<std::string>& errors = results.errors;
    figures.resize(presets.size());
    errors.resize(presets.size());
    // The first pass tries every PyTorch setting; later passes re-measure the fastest one.
    std::map<std::string, TorchSetting> torch_winner;
    std::filesystem::create_directories(context.work_dir);
    for (int pass = 0; pass < context.passes; ++pass)
        for (std::size_t k = 0; k < presets.size(); ++k) {
            const std::string& p = presets[k];
            if (!context.json)
                std::fprintf(stderr, "mtag bench train: pass %d of %d, timing %s...\n", pass + 1,
                             context.passes, p.c_str());
            settle_before_measuring();
            std::string error;
            const ModelFigures f =
                measure_in_child(p, args.batch, args.steps, args.profile && pass == 0, threads, error);
            if (pass == 0) {
                figures[k] = f;
                errors[k] = error;
            } else if (error.empty() && errors[k].empty()) {
                figures[k].train_clips_per_s = std::max(figures[k].train_clips_per_s, f.train_clips_per_s);
                figures[k].train_clips_per_s_median =
                    std::max(figures[k].train_clips_per_s_median, f.train_clips_per_s_median);
                figures[k].infer_clips_per_s = std::max(figures[k].infer_clips_per_s, f.infer_clips_per_s);
            }

            if (context.reference_python.empty()) continue;
            const std::vector<TorchSetting> settings =
                torch_winner.count(p) ? std::vector<TorchSetting>{torch_winner[p]} : torch_settings(args, p);
            torch_winner[p] = measure_torch_preset(context, args, p, threads, settings, results.reference);
        }
    return results;
}

// Prints one preset's figures beside PyTorch's: a JSON line, or a table row ("failed: ..." on error).
void print_preset(const BenchContext& context, const TrainBenchArgs& args, int threads, const std::string& p,
                  const ModelFigures& f, const std::string& error, const nlohmann::json& ref) {
    const double tt = ref.value("train_clips_per_s", 0.0), ti = ref.value("infer_clips_per_s", 0.0),
                 tm = ref.value("peak_mb", -1.0), tt_median = ref.value("train_clips_per_s_median", 0.0);
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    if (context.json) {
        nlohmann::ordered_json j{{"bench", "train"},
                                 {"what", "model"},
                                 {"preset", p},
                                 {"batch", args.batch},
                                 {"threads", threads},
                                 {"train_clips_per_s", f.train_clips_per_s},
                                 {"train_clips_per_s_median", f.train_clips_per_s_median},
                                 {"infer_clips_per_s", f.infer_clips_per_s},
                                 {"peak_mb", f.peak_mb},
                                 {"tensor_peak_mb", f.tensor_mb},
                                 {"torch_train_clips_per_s", tt},
                                 {"torch_train_clips_per_s_median", tt_median},
                                 {"torch_infer_clips_per_s", ti},
                                 {"torch_peak_mb", tm},
                                 {"torch_settings", ref.value("settings", "")}};
        if (!error.empty()) j["error"] = error;
        if (ref.contains("error")) j["torch_error"] = ref["error"];
        if (!f.profile.empty()) {
            nlohmann::ordered_json prof = nlohmann::ordered_json::object();
            for (const nn::LayerTime& t : f.profile)
                prof[t.type] = {{"forward_s", t.forward_seconds}, {"backward_s", t.backward_seconds}};
            j["step_seconds"] = f.step_seconds;
            j["profile"] = prof;
            nlohmann::ordered_json layers = nlohmann::ordered_json::array();
            for (const nn::LayerTime& t : f.layers)
                layers.push_back({{"layer", t.type}, {"forward_s", t.forward_seconds}, {"backward_s", t.backward_seconds}});
            j["layers"] = layers;
        }
        std::cout << j.dump() << "\n";
    } else if (!error.empty()) {
        std::printf("%-20s failed: %s\n", p.c_str(), error.c_str());
    } else {
        // Reference columns read "-" when the reference was skipped or failed.
        auto figure = [](double v, const char* format) {
            char text[32] = "-";
            if (v > 0) std::snprintf(text, sizeof text, format, v);
            return std::string(text);
        };
        auto times = [&](double a, double b) { return figure(ratio(a, b), "%.2fx"); };
        std::printf("%-20s %10.2f %10s %7s %7s %10.2f %10s %7s %8.0f %8s %7s %9.0f  %s\n", p.c_str(),
                    f.train_clips_per_s, figure(tt, "%.2f").c_str(), times(f.train_clips_per_s, tt).c_str(),
                    times(f.train_clips_per_s_median, tt_median).c_str(), f.infer_clips_per_s,
                    figure(ti, "%.2f").c_str(), times(f.infer_clips_per_s, ti).c_str(), f.peak_mb,
                    figure(tm, "%.0f").c_str(), times(f.peak_mb, tm).c_str(), f.tensor_mb,
                    ref.value("settings", std::string("-")).c_str());
    }
}

// Prints the table of where one training step's time goes by layer group (--profile), per preset.
void print_profiles(const std::vector<std::pair<std::string, ModelFigures>>& profiles) {
    const char* groups[] = {"conv", "bn", "pool", "act", "dense", "other"};
    std::printf(
        "\nwhere one training step's time goes (forward + backward per layer type; rest = loss, Adam, "
        "copies between stages)\n%-20s %8s",
        "preset", "step s");
    for (const char* g : groups) std::printf(" %7s", g);
    std::printf(" %7s\n", "rest");
    for (const auto& [p, f] : profiles) {
        std::map<std::string, double> by_group;
        double timed = 0;
        for (const nn::LayerTime& t : f.profile) {
            by_group[layer_group(t.type)] += t.forward_seconds + t.backward_seconds;
            timed += t.forward_seconds + t.backward_seconds;
        }
        std::printf("%-20s %8.3f", p.c_str(), f.step_seconds);
        for (const char* g : groups) std::printf(" %6.1f%%", 100.0 * by_group[g] / f.step_seconds);
        std::printf(" %6.1f%%\n", 100.0 * std::max(0.0, f.step_seconds - timed) / f.step_seconds);
    }
    // Per layer: which instance (stride, channels, map size) the time goes to.
    for (const auto& [p, f] : profiles) {
        std::printf("\n%s, per layer (ms of one training step)\n%-70s %9s %9s %7s\n", p.c_str(), "layer",
                    "forward", "backward", "share");
        for (const nn::LayerTime& t : f.layers)
            std::printf("%-70s %9.2f %9.2f %6.1f%%\n", t.type.c_str(), 1e3 * t.forward_seconds,
                        1e3 * t.backward_seconds,
                        100.0 * (t.forward_seconds + t.backward_seconds) / f.step_seconds);
    }
}

}  // namespace

int bench_train(const BenchContext& context) {
    const TrainBenchArgs args = parse_train_bench_args(context);
    const int threads = context.global->resolved_threads();
    TrainBenchResults results = measure_presets(context, args, threads);

    if (!context.json)
        std::printf(
            "mtag bench train: presets at their published input size, batch %lld, %d thread(s), best of %d+ "
            "step(s) (more until 1 s for fast models) "
            "in each of %d pass(es), mtag then PyTorch per preset, "
            "50 tags, Adam\n"
            "peak MB: VmHWM - VmRSS before the model was built (after malloc_trim), the same in the PyTorch "
            "script; "
            "median: the training ratio of median steps (sustained rates); torch settings: the fastest PyTorch "
            "configuration tried (allocator, +cl = channels_last, +no-onednn = torch.backends.mkldnn off)\n"
            "%-20s %10s %10s %7s %7s %10s %10s %7s %8s %8s %7s %9s  %s\n",
            static_cast<long long>(args.batch), threads, args.steps, context.passes, "preset", "train c/s",
            "torch c/s", "ratio", "median", "infer c/s", "torch c/s", "ratio", "peak MB", "torch MB", "ratio",
            "tensor MB", "torch settings");
    std::vector<std::pair<std::string, ModelFigures>> profiles;
    int failures = 0;
    for (std::size_t k = 0; k < args.presets.size(); ++k) {
        const std::string& p = args.presets[k];
        const std::string& error = results.errors[k];
        const ModelFigures& f = results.figures[k];
        if (!error.empty()) ++failures;
        const nlohmann::json ref =
            results.reference.count(p) ? results.reference[p] : nlohmann::json::object();
        print_preset(context, args, threads, p, f, error, ref);
        if (error.empty() && !f.profile.empty()) profiles.emplace_back(p, f);
        std::fflush(stdout);
    }
    if (!context.json && !profiles.empty()) print_profiles(profiles);
    if (failures > 0) return 3;
    return 0;
}

}  // namespace mtag::app
