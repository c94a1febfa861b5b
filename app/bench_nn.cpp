// mtag bench nn: forward/backward milliseconds of the engine's layers at the sizes the tagging models
// use, achieved GFLOP/s against the OpenBLAS SGEMM peak measured in the same run, the peak memory of a
// training step, and the same figures from PyTorch (scripts/bench_torch.py) side by side.
// Timings are the best of R runs after one warm-up (the machine may be shared; best-of is the figure
// least disturbed by other processes), for both mtag and PyTorch alike.
#include "app/bench.hpp"
#include "dsp/error.hpp"
#include "nn/init.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/gru.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/microkernel.hpp"
#include "nn/layers/pool.hpp"
#include "nn/loss.hpp"
#include "nn/storage_allocator.hpp"
#include "nn/threads.hpp"
#include "nn/workspace.hpp"

#include <cblas.h>

extern "C" void openblas_set_num_threads(int);
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace mtag::app {

namespace {

using nlohmann::json;

struct Case {
    std::string name;
    std::string kind;  // conv2d | conv1d | bn2d | maxpool2d | gru | train_step
    // gru: cin = input_size F, cout = hidden_size H, w = time steps T
    std::int64_t cin = 1, cout = 1;
    std::array<std::int64_t, 2> kernel{3, 3}, stride{1, 1}, padding{1, 1};
    std::int64_t h = 1, w = 1;
    std::vector<std::int64_t> batches;
};

json to_json(const Case& c) {
    return {{"name", c.name},     {"kind", c.kind},      {"cin", c.cin},         {"cout", c.cout},
            {"kernel", c.kernel}, {"stride", c.stride},  {"padding", c.padding}, {"h", c.h},
            {"w", c.w},           {"batches", c.batches}};
}

std::vector<Case> make_cases(bool quick) {
    const std::vector<std::int64_t> batches =
        quick ? std::vector<std::int64_t>{1} : std::vector<std::int64_t>{1, 16};
    std::vector<Case> cases;
    cases.push_back({"train_step fcn-block c32 96x1366",
                     "train_step",
                     1,
                     32,
                     {3, 3},
                     {1, 1},
                     {1, 1},
                     96,
                     1366,
                     {quick ? 1 : 4}});
    cases.push_back(
        {"conv2d 3x3 1->128 96x1366", "conv2d", 1, 128, {3, 3}, {1, 1}, {1, 1}, 96, 1366, batches});
    cases.push_back(
        {"conv2d 3x3 128->128 48x341", "conv2d", 128, 128, {3, 3}, {1, 1}, {1, 1}, 48, 341, batches});
    cases.push_back(
        {"conv1d k3 128->128 L19683", "conv1d", 128, 128, {1, 3}, {1, 1}, {0, 1}, 1, 19683, batches});
    cases.push_back({"conv1d k3 256->256 L729", "conv1d", 256, 256, {1, 3}, {1, 1}, {0, 1}, 1, 729, batches});
    cases.push_back(
        {"conv1d k3 s3 1->128 L59049", "conv1d", 1, 128, {1, 3}, {1, 3}, {0, 0}, 1, 59049, batches});
    cases.push_back({"bn2d 128 96x1366", "bn2d", 128, 128, {1, 1}, {1, 1}, {0, 0}, 96, 1366, batches});
    cases.push_back({"bn2d 128 48x341", "bn2d", 128, 128, {1, 1}, {1, 1}, {0, 0}, 48, 341, batches});
    cases.push_back(
        {"maxpool2d (2,4) 128 96x1366", "maxpool2d", 128, 128, {2, 4}, {2, 4}, {0, 0}, 96, 1366, batches});
    cases.push_back(
        {"maxpool2d (2,4) 128 48x341", "maxpool2d", 128, 128, {2, 4}, {2, 4}, {0, 0}, 48, 341, batches});
    // GRU (return_sequences) against torch.nn.GRU: F = 128, H = 32 as the imported CRNN's, and H = 256;
    // 15 steps (the CRNN's sequence) and 300.
    const std::vector<std::int64_t> gru_batches{quick ? 1 : 16};
    for (const std::int64_t h : {32, 256})
        for (const std::int64_t steps : {15, 300})
            cases.push_back({.name = "gru F128 H" + std::to_string(h) + " T" + std::to_string(steps),
                             .kind = "gru",
                             .cin = 128,
                             .cout = h,
                             .w = steps,
                             .batches = gru_batches});
    return cases;
}

std::shared_ptr<nn::Module> build(const Case& c) {
    if (c.kind == "conv2d")
        return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = c.cin,
                                                              .out_channels = c.cout,
                                                              .kernel_size = c.kernel,
                                                              .stride = c.stride,
                                                              .padding = c.padding});
    if (c.kind == "conv1d")
        return std::make_shared<nn::Conv1d>(nn::Conv1dOptions{.in_channels = c.cin,
                                                              .out_channels = c.cout,
                                                              .kernel_size = c.kernel[1],
                                                              .stride = c.stride[1],
                                                              .padding = c.padding[1]});
    if (c.kind == "bn2d")
        return std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions{.num_features = c.cin});
    if (c.kind == "maxpool2d")
        return std::make_shared<nn::MaxPool2d>(nn::Pool2dOptions{.kernel_size = c.kernel});
    if (c.kind == "gru")
        return std::make_shared<nn::GRU>(nn::GruOptions{.input_size = c.cin, .hidden_size = c.cout});
    // train_step: an FCN-style block pair, as PyTorch's twin in bench_torch.py.
    auto net = std::make_shared<nn::Sequential>();
    const std::int64_t ch = c.cout;
    net->add(std::make_shared<nn::Conv2d>(
        nn::Conv2dOptions{.in_channels = 1, .out_channels = ch, .padding = {1, 1}}));
    net->add(std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions{.num_features = ch}));
    net->add(std::make_shared<nn::ReLU>(true));
    net->add(std::make_shared<nn::MaxPool2d>(nn::Pool2dOptions{.kernel_size = {2, 4}}));
    net->add(std::make_shared<nn::Conv2d>(
        nn::Conv2dOptions{.in_channels = ch, .out_channels = ch, .padding = {1, 1}}));
    net->add(std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions{.num_features = ch}));
    net->add(std::make_shared<nn::ReLU>(true));
    net->add(std::make_shared<nn::MaxPool2d>(nn::Pool2dOptions{.kernel_size = {2, 4}}));
    net->add(std::make_shared<nn::GlobalPool>(
        nn::GlobalPoolOptions{nn::GlobalPoolOptions::Mode::max, nn::GlobalPoolOptions::Axes::all}));
    net->add(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = ch, .out_features = 50}));
    net->set_input_grad(false);
    return net;
}

nn::Shape input_shape(const Case& c, std::int64_t batch) {
    if (c.kind == "conv1d") return {batch, c.cin, c.w};
    if (c.kind == "gru") return {batch, c.w, c.cin};
    return {batch, c.cin, c.h, c.w};
}

// Flops of one forward pass of a direct convolution, 2 * C_out * C_in * kernel * positions (conv only; 0
// otherwise). Winograd does fewer multiplies; its GFLOP/s are quoted on this direct count, as PyTorch's
// and cuDNN's benchmarks do, so the figure can exceed the SGEMM peak.
double forward_flops(const Case& c, std::int64_t batch) {
    if (c.kind != "conv2d" && c.kind != "conv1d") return 0.0;
    const std::int64_t oh = (c.h + 2 * c.padding[0] - c.kernel[0]) / c.stride[0] + 1;
    const std::int64_t ow = (c.w + 2 * c.padding[1] - c.kernel[1]) / c.stride[1] + 1;
    return 2.0 * static_cast<double>(batch * c.cout * c.cin * c.kernel[0] * c.kernel[1] * oh * ow);
}

// Bytes a pass must at least move through memory: every input read once, every output written once
// (forward: x, weights -> y; backward: x, dy, weights -> dx, dweights), conv only. With the measured
// memory bandwidth this gives the roofline, min(SGEMM peak, flops / (bytes / bandwidth)): a layer with few
// input channels (K = C_in * kernel of 3 or 9) does so little work per output byte that its floor is the
// memory traffic, not the multiply rate.
std::pair<double, double> pass_bytes(const Case& c, std::int64_t batch) {
    if (c.kind != "conv2d" && c.kind != "conv1d") return {0.0, 0.0};
    const std::int64_t oh = (c.h + 2 * c.padding[0] - c.kernel[0]) / c.stride[0] + 1;
    const std::int64_t ow = (c.w + 2 * c.padding[1] - c.kernel[1]) / c.stride[1] + 1;
    const double x = static_cast<double>(batch * c.cin * c.h * c.w), y = static_cast<double>(batch * c.cout * oh * ow);
    const double w = static_cast<double>(c.cout * c.cin * c.kernel[0] * c.kernel[1]);
    return {4.0 * (x + y + w), 4.0 * (2.0 * x + y + 2.0 * w)};
}

// Best copy bandwidth (bytes read + written per second) over a 256 MB buffer with the thread budget:
// the memory side of the roofline, measured in the same run as the layers.
double copy_bandwidth(bool quick) {
    const std::size_t n = std::size_t{32} << 20;  // floats per side: 128 MB
    std::vector<float> a(n, 1.0f), b(n, 0.0f);
    double best = 0.0;
    for (int r = 0; r < (quick ? 3 : 6); ++r) {
        const double t0 = wall_seconds();
        nn::parallel_for(static_cast<std::int64_t>(n / 4096), 64, [&](std::int64_t b0, std::int64_t b1) {
            std::memcpy(b.data() + b0 * 4096, a.data() + b0 * 4096, static_cast<std::size_t>(b1 - b0) * 4096 * sizeof(float));
        });
        const double dt = wall_seconds() - t0;
        if (r > 0) best = std::max(best, 2.0 * static_cast<double>(n) * sizeof(float) / dt);
    }
    return best;
}

constexpr double not_timed = std::numeric_limits<double>::infinity();

struct Timing {
    double forward_ms = not_timed, backward_ms = not_timed;          // wall clock
    double forward_cpu_ms = not_timed, backward_cpu_ms = not_timed;  // process CPU time (all threads)
    std::string algorithm;                                           // conv: "gemm" or the Winograd tile
};

// Each figure of `best` becomes the smaller of the two (the best over passes).
void keep_best(Timing& best, const Timing& t) {
    best.forward_ms = std::min(best.forward_ms, t.forward_ms);
    best.backward_ms = std::min(best.backward_ms, t.backward_ms);
    best.forward_cpu_ms = std::min(best.forward_cpu_ms, t.forward_cpu_ms);
    best.backward_cpu_ms = std::min(best.backward_cpu_ms, t.backward_cpu_ms);
    best.algorithm = t.algorithm;
}

Timing time_case(const Case& c, std::int64_t batch, int repeats) {
    auto layer = build(c);
    nn::init::initialize(*layer, {.scheme = nn::init::Scheme::torch_default, .seed = 1});
    const nn::Tensor x = random_normal_tensor(input_shape(c, batch), 2);
    Timing best;
    nn::Tensor grad;
    // At least `repeats` timed runs, and more (up to max_runs) until min_seconds of them: the best of 5 runs
    // of a sub-millisecond layer still varied by 25% between runs on a shared machine. Same rule as
    // scripts/bench_torch.py.
    constexpr double min_seconds = 0.3;
    constexpr int max_runs = 200;
    double timed = 0.0;
    for (int r = 0; r <= repeats || (timed < min_seconds && r <= max_runs); ++r) {
        double t0 = wall_seconds(), c0 = process_cpu_seconds();
        nn::Tensor y = layer->forward(x);
        if (auto* conv = dynamic_cast<nn::ConvBase*>(layer.get()))
            best.algorithm =
                conv->last_winograd_tile() ? nn::winograd::name(*conv->last_winograd_tile())
                                           : (conv->last_direct() ? "direct" : "gemm");
        const double fwd = wall_seconds() - t0, fwd_cpu = process_cpu_seconds() - c0;
        if (!grad.defined() || !(grad.shape() == y.shape())) grad = nn::Tensor::full(y.shape(), 1.0f);
        t0 = wall_seconds();
        c0 = process_cpu_seconds();
        layer->backward(grad);
        const double bwd = wall_seconds() - t0, bwd_cpu = process_cpu_seconds() - c0;
        if (r > 0) {
            timed += fwd + bwd;
            best.forward_ms = std::min(best.forward_ms, 1e3 * fwd);
            best.backward_ms = std::min(best.backward_ms, 1e3 * bwd);
            best.forward_cpu_ms = std::min(best.forward_cpu_ms, 1e3 * fwd_cpu);
            best.backward_cpu_ms = std::min(best.backward_cpu_ms, 1e3 * bwd_cpu);
        }
    }
    return best;
}

// Peak resident memory (MB) of building the model and running two training steps, above the resident
// size before; -1 when the kernel does not allow resetting the peak.
double train_step_memory(const Case& c, std::int64_t batch) {
    nn::release_scratch();
    const long base = process_status_kb("VmRSS");
    if (!reset_peak_rss()) return -1.0;
    {
        auto net = build(c);
        nn::init::initialize(*net, {.scheme = nn::init::Scheme::torch_default, .seed = 1});
        const nn::Tensor x = random_normal_tensor(input_shape(c, batch), 2);
        nn::Tensor target = nn::Tensor::full({batch, 50}, 0.0f);
        for (std::size_t i = 0; i < target.size(); i += 3) target[i] = 1.0f;
        nn::BCEWithLogitsLoss loss;
        for (int step = 0; step < 2; ++step) {
            net->zero_grad();
            loss.forward(net->forward(x), target);
            net->backward(loss.backward());
        }
    }
    const long peak = process_status_kb("VmHWM");
    nn::release_scratch();
    return static_cast<double>(peak - base) / 1024.0;
}

// Best GFLOP/s of square SGEMMs (512, 1024, 2048) with OpenBLAS's own threading at the thread budget:
// the machine's attainable SGEMM rate with the OpenBLAS kernels in use (best of several runs, as for
// the layers). The engine keeps OpenBLAS single-threaded (nn/gemm.hpp); it is restored after.
double sgemm_peak(bool quick) {
    openblas_set_num_threads(nn::thread_budget());
    double best = 0.0;
    for (const int n : {512, 1024, 2048}) {
        std::vector<float> a(static_cast<std::size_t>(n) * n, 0.5f), b(a), c(a.size());
        const int runs = quick ? 2 : (n == 2048 ? 3 : 6);
        for (int r = 0; r < runs; ++r) {
            const double t0 = wall_seconds();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                        0.0f, c.data(), n);
            const double dt = wall_seconds() - t0;
            if (r > 0) best = std::max(best, 2.0 * n * n * static_cast<double>(n) / dt / 1e9);
        }
    }
    openblas_set_num_threads(1);
    return best;
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    in >> one;
    return one.empty() ? "?" : one;
}

// Runs bench_torch.py; returns (name, batch) -> JSON result. Empty when Python or torch is missing.
std::map<std::pair<std::string, std::int64_t>, json> run_reference(const BenchContext& context,
                                                                   const std::vector<Case>& cases,
                                                                   int threads, int repeats, bool memory,
                                                                   std::string& note) {
    std::map<std::pair<std::string, std::int64_t>, json> out;
    json spec{{"threads", threads}, {"repeats", repeats}, {"memory", memory}, {"cases", json::array()}};
    for (const Case& c : cases) spec["cases"].push_back(to_json(c));
    const auto spec_path = context.work_dir / "bench_nn_cases.json";
    std::ofstream(spec_path) << spec.dump();
    const std::optional<ReferenceOutput> reference =
        run_reference_lines(context, "bench_torch.py", {"--cases", spec_path.string()});
    if (!reference) {
        note = "PyTorch reference skipped (why: the 'reference:' line above)";
        return out;
    }
    for (const json& j : reference->lines) {
        try {
            out[{j.at("name").get<std::string>(), j.at("batch").get<std::int64_t>()}].update(j);
        } catch (const json::exception&) {
        }
    }
    note = "PyTorch reference: " + reference->interpreter + " bench_torch.py";
    return out;
}

}  // namespace

namespace {

using CaseKey = std::pair<std::string, std::int64_t>;

// What the passes measured: mtag's best timing and the reference's best row per (case, batch).
struct Measurements {
    std::map<CaseKey, Timing> timings;
    std::map<CaseKey, json> reference;
    std::string note;
};

// `mtag bench nn conv1d bn2d` keeps the cases whose name contains any of the words.
std::vector<Case> selected_cases(const BenchContext& context) {
    std::vector<Case> cases = make_cases(context.quick);
    if (!context.extra.empty())
        std::erase_if(cases, [&](const Case& c) {
            return std::none_of(context.extra.begin(), context.extra.end(),
                                [&](const std::string& f) { return c.name.find(f) != std::string::npos; });
        });
    return cases;
}

// In each pass, mtag's timings first, then the PyTorch process, each after a pause (see
// settle_before_measuring): timings taken right after the reference had exited and freed its gigabytes
// came out up to 1.5x slower than on a quiet machine (conv2d 1->128, one thread: 4.4 against 3.0 ms).
// Each side keeps its best per case over the passes (BenchContext::passes).
Measurements measure(const BenchContext& context, const std::vector<Case>& cases, int threads, int repeats) {
    Measurements m;
    for (int pass = 0; pass < context.passes; ++pass) {
        if (!context.json)
            std::fprintf(stderr, "mtag bench nn: pass %d of %d, timing %zu layers...\n", pass + 1, context.passes,
                         cases.size());
        settle_before_measuring();  // a previous command may have just freed gigabytes
        for (const Case& c : cases)
            for (std::int64_t b : c.batches)
                keep_best(m.timings[{c.name, b}], time_case(c, b, b > 4 ? std::min(repeats, 3) : repeats));
        nn::release_scratch();
        nn::release_cached_storage();
        if (!context.reference_python.empty()) settle_before_measuring();
        for (const auto& [key, row] : run_reference(context, cases, threads, repeats, pass == 0, m.note))
            keep_best_reference(m.reference[key], row,
                                {"forward_ms", "backward_ms", "forward_cpu_ms", "backward_cpu_ms"}, Better::smaller);
    }
    return m;
}

// The machine figures every row is judged against.
struct Roofline {
    std::string core;
    std::string load_before;
    double peak = 0;       // SGEMM GFLOP/s
    double bandwidth = 0;  // bytes/s
};

void print_header(const BenchContext& context, const Roofline& r, int threads, int repeats, const std::string& note) {
    if (context.json) {
        std::cout << json{{"bench", "nn"},         {"threads", threads},        {"repeats", repeats},
                          {"passes", context.passes},
                          {"openblas_core", r.core}, {"sgemm_peak_gflops", r.peak},
                          {"copy_bandwidth_gbps", r.bandwidth / 1e9}, {"load_average", r.load_before},
                          {"reference", note}}
                         .dump()
                  << "\n";
        return;
    }
    std::printf(
        "mtag bench nn: %d thread(s), best of %d run(s) (3 at batch > 4; more until 0.3 s for small "
        "layers) in each of %d pass(es), mtag then PyTorch in each; OpenBLAS kernels %s, SGEMM "
        "peak %.1f GFLOP/s "
        "(best square 512..2048); memory copy bandwidth %.1f GB/s; conv micro-kernel %s; load average %s\n",
        threads, repeats, context.passes, r.core.c_str(), r.peak, r.bandwidth / 1e9,
        nn::microkernel::kernel_name().c_str(), r.load_before.c_str());
    std::printf("%s\n", note.c_str());
    std::printf("%-32s %5s | %10s %10s %7s | %10s %10s %7s | %8s %6s %6s %8s %6s %6s | %7s %7s | %s\n",
                "layer", "batch", "fwd ms", "torch ms", "speedup", "bwd ms", "torch ms", "speedup",
                "fwd GF/s", "%peak", "%roof", "bwd GF/s", "%peak", "%roof", "cpu-fwd", "cpu-bwd", "algo");
    std::printf(
        "(speedup = torch ms / mtag ms, wall clock; cpu-fwd/cpu-bwd = the same ratio of process CPU "
        "time; GF/s = direct-convolution flops / time, backward counted as 2x forward; %%roof = GF/s against the "
        "roofline min(SGEMM peak, flops / (minimum bytes / copy bandwidth)); algo = the conv "
        "path (gemm, direct or a Winograd tile), MTAG_CONV_ALGO=gemm selects the im2col/GEMM one)\n");
}

// One (case, batch) as JSON: times, GFLOP/s against the peak and the roofline, the reference's figures.
json case_row(const Case& c, std::int64_t b, const Timing& t, const json* ref, const Roofline& r, double peak_mb) {
    const double flops = forward_flops(c, b);
    const double gf = flops > 0 ? flops / (t.forward_ms * 1e6) : 0.0;
    const double gb = flops > 0 ? 2.0 * flops / (t.backward_ms * 1e6) : 0.0;
    const auto [bytes_f, bytes_b] = pass_bytes(c, b);
    // Attainable GFLOP/s: the SGEMM peak, or less when moving the minimum bytes takes longer.
    const double roof_f = flops > 0 ? std::min(r.peak, flops / (bytes_f / r.bandwidth) / 1e9) : 0.0;
    const double roof_b = flops > 0 ? std::min(r.peak, 2.0 * flops / (bytes_b / r.bandwidth) / 1e9) : 0.0;
    json row{{"bench", "nn"},
             {"layer", c.name},
             {"batch", b},
             {"forward_ms", t.forward_ms},
             {"backward_ms", t.backward_ms},
             {"forward_cpu_ms", t.forward_cpu_ms},
             {"backward_cpu_ms", t.backward_cpu_ms}};
    if (!t.algorithm.empty()) row["algorithm"] = t.algorithm;
    if (flops > 0) {
        row["forward_gflops"] = gf;
        row["backward_gflops"] = gb;
        row["forward_fraction_of_peak"] = gf / r.peak;
        row["backward_fraction_of_peak"] = gb / r.peak;
        row["forward_roofline_gflops"] = roof_f;
        row["backward_roofline_gflops"] = roof_b;
        row["forward_fraction_of_roofline"] = gf / roof_f;
        row["backward_fraction_of_roofline"] = gb / roof_b;
    }
    const double tf = ref ? ref->value("forward_ms", 0.0) : 0.0, tb = ref ? ref->value("backward_ms", 0.0) : 0.0;
    if (tf > 0) {
        row["torch_forward_ms"] = tf;
        row["torch_backward_ms"] = tb;
        row["forward_speedup_vs_torch"] = tf / t.forward_ms;
        row["backward_speedup_vs_torch"] = tb / t.backward_ms;
        const double cf = ref->value("forward_cpu_ms", 0.0), cb = ref->value("backward_cpu_ms", 0.0);
        if (cf > 0 && cb > 0) {
            row["torch_forward_cpu_ms"] = cf;
            row["torch_backward_cpu_ms"] = cb;
        }
    }
    if (c.kind == "train_step") {
        row["peak_mb"] = peak_mb;
        if (ref && ref->contains("peak_mb") && !(*ref)["peak_mb"].is_null()) row["torch_peak_mb"] = (*ref)["peak_mb"];
    }
    return row;
}

// The table line of a row made by case_row.
void print_row(const json& row, const Roofline& r) {
    auto num = [](double v, const char* fmt) {
        char s[32];
        if (v <= 0) return std::string("-");
        std::snprintf(s, sizeof s, fmt, v);
        return std::string(s);
    };
    auto get = [&](const char* key) { return row.value(key, 0.0); };
    const double fwd = get("forward_ms"), bwd = get("backward_ms"), tf = get("torch_forward_ms"),
                 tb = get("torch_backward_ms"), gf = get("forward_gflops"), gb = get("backward_gflops");
    const double roof_f = get("forward_roofline_gflops"), roof_b = get("backward_roofline_gflops");
    // CPU-time speedups (torch CPU ms / mtag CPU ms): less disturbed by other processes than wall time.
    const double cf = get("torch_forward_cpu_ms"), cb = get("torch_backward_cpu_ms");
    const std::string algo = row.value("algorithm", std::string("-"));
    std::printf("%-32s %5lld | %10s %10s %7s | %10s %10s %7s | %8s %6s %6s %8s %6s %6s | %7s %7s | %s\n",
                row["layer"].get<std::string>().c_str(), static_cast<long long>(row["batch"].get<std::int64_t>()),
                num(fwd, "%.2f").c_str(), num(tf, "%.2f").c_str(), num(tf > 0 ? tf / fwd : 0, "%.2fx").c_str(),
                num(bwd, "%.2f").c_str(), num(tb, "%.2f").c_str(), num(tb > 0 ? tb / bwd : 0, "%.2fx").c_str(),
                num(gf, "%.1f").c_str(), num(gf / r.peak * 100, "%.0f%%").c_str(),
                num(roof_f > 0 ? gf / roof_f * 100 : 0, "%.0f%%").c_str(), num(gb, "%.1f").c_str(),
                num(gb / r.peak * 100, "%.0f%%").c_str(), num(roof_b > 0 ? gb / roof_b * 100 : 0, "%.0f%%").c_str(),
                num(cf > 0 ? cf / get("forward_cpu_ms") : 0, "%.2fx").c_str(),
                num(cb > 0 ? cb / get("backward_cpu_ms") : 0, "%.2fx").c_str(), algo.c_str());
    std::fflush(stdout);
    if (row.contains("peak_mb")) {
        const double tm = row.contains("torch_peak_mb") ? row["torch_peak_mb"].get<double>() : 0.0;
        std::printf("%-32s %5s   peak memory of two training steps: mtag %.0f MB, torch %s MB\n", "", "",
                    row["peak_mb"].get<double>(), num(tm, "%.0f").c_str());
    }
}

}  // namespace

int bench_nn(const BenchContext& context) {
    const int threads = context.global->resolved_threads();
    nn::set_thread_budget(threads);
    const int repeats = context.quick ? 1 : 5;
    const std::vector<Case> cases = selected_cases(context);
    // Memory first, before any other layer has grown the allocator or the scratch buffers.
    std::map<std::int64_t, double> memory;
    for (const Case& c : cases)
        if (c.kind == "train_step")
            for (std::int64_t b : c.batches) memory[b] = train_step_memory(c, b);
    Roofline roofline;
    roofline.core = nn::init_blas();
    roofline.load_before = load_average();
    roofline.peak = sgemm_peak(context.quick);
    roofline.bandwidth = copy_bandwidth(context.quick);
    const Measurements m = measure(context, cases, threads, repeats);
    print_header(context, roofline, threads, repeats, m.note);
    for (const Case& c : cases)
        for (std::int64_t b : c.batches) {
            const auto it = m.reference.find({c.name, b});
            const json row = case_row(c, b, m.timings.at({c.name, b}), it != m.reference.end() ? &it->second : nullptr,
                                      roofline, memory[b]);
            if (context.json) std::cout << row.dump() << "\n";
            else print_row(row, roofline);
        }
    if (!context.json)
        std::printf("load average at the end: %s (on a shared machine, figures vary from run to run)\n",
                    load_average().c_str());
    nn::release_scratch();
    return 0;
}

}  // namespace mtag::app
