// mtag bench AREA: dispatches to the benchmark of one area (io, dsp, augment, nn, data, train, tag, extract).
#include "app/bench.hpp"
#include "dsp/error.hpp"
#include "nn/tensor.hpp"

#include <functional>
#include <map>
#include <utility>
#include <unistd.h>

#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <random>
#include <thread>

namespace mtag::app {

double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

long process_status_kb(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return 0;
}

bool reset_peak_rss() {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";
    return static_cast<bool>(reset);
}

nn::Tensor random_normal_tensor(const nn::Shape& shape, std::uint64_t seed) {
    nn::Tensor t = nn::Tensor::uninitialized(shape);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> n01(0.0f, 1.0f);
    for (float& v : t.span()) v = n01(rng);
    return t;
}

void keep_best_reference(nlohmann::json& best, const nlohmann::json& result,
                         std::initializer_list<const char*> fields, Better better) {
    if (best.is_null()) {
        best = result;
        return;
    }
    for (const char* field : fields) {
        if (!result.contains(field)) continue;
        const double value = result[field].get<double>();
        if (!best.contains(field) || (better == Better::smaller ? value < best[field].get<double>()
                                                                : value > best[field].get<double>()))
            best[field] = value;
    }
}

void settle_before_measuring() {
    std::this_thread::sleep_for(std::chrono::seconds(3));
}

Command add_bench_command(CLI::App& root, const GlobalOptions& global) {
    struct Options {
        std::string area;
        std::vector<std::string> extra;
        std::string work_dir;
        bool json = false;
        bool quick = false;
        std::string python = "python3";
        std::vector<std::string> models;  // bench train
        int batch = 0, steps = 0;
        int passes = 0;
        bool profile = false;
        std::map<std::string, std::string> library;  // bench tag/extract: flag -> value, checked by the area
        bool prepare_only = false;                    // bench tag/extract
        std::string torch_settings;  // bench train: sweep | default
    };
    auto options = std::make_shared<Options>();
    CLI::App* cmd = root.add_subcommand("bench", "Measure throughput of one area against a reference in the same run");
    cmd->add_option("area", options->area, "io | dsp | augment | nn | optim | data | train | python | tag | extract")
        ->required()
        ->check(CLI::IsMember({"io", "dsp", "augment", "nn", "optim", "data", "train", "python", "tag", "extract"}));
    cmd->add_option("args", options->extra, "Area-specific arguments (see README)");
    cmd->add_option("--work-dir", options->work_dir, "Scratch folder for generated inputs (default: a temporary folder)");
    cmd->add_flag("--json", options->json, "Print JSON lines instead of a table");
    cmd->add_flag("--quick", options->quick, "Fewer repetitions; figures are noisier");
    cmd->add_option("--python", options->python, "Python interpreter for the PyTorch/torchaudio reference ('' to skip)")
        ->capture_default_str();
    cmd->add_option("--passes", options->passes,
                    "bench nn/train: alternate mtag and the reference this many times, keeping each side's best "
                    "(default 3; 1 with --quick)")
        ->check(CLI::Range(1, 100));
    cmd->add_option("--model", options->models,
                    "bench train: preset(s) to measure (default: all); bench tag/extract: a log-mel model directory "
                    "(default: a random short_chunk_cnn made once in the library folder)");
    cmd->add_option("--batch", options->batch, "bench train: batch size (default 16)");
    cmd->add_option("--steps", options->steps, "bench train: timed steps, best kept (default 3)");
    cmd->add_flag("--profile", options->profile,
                  "bench train: also show where a training step's time goes per layer type and per layer");
    cmd->add_option("--torch-settings", options->torch_settings,
                    "bench train: sweep (default: PyTorch under glibc/jemalloc malloc, oneDNN on/off, channels_last; "
                    "the fastest is kept) or default (PyTorch's defaults only)")
        ->check(CLI::IsMember({"sweep", "default"}));
        const std::pair<const char*, const char*> library_flags[] = {
        {"--library", "bench tag/extract: DIR where the library is made once and reused (default: "
                      "build/bench_library/<files>x<min>-<max>s-seed<seed>)"},
        {"--files", "bench tag/extract: songs in the library (default 200; 2 with --quick), half MP3, half FLAC"},
        {"--min-seconds", "bench tag/extract: shortest song (default 30; 4 with --quick)"},
        {"--max-seconds", "bench tag/extract: longest song (default 300; 6 with --quick)"},
        {"--thread-counts", "bench tag/extract: the rows' thread counts, e.g. 1,2 (default 1, 2 and every core)"},
        {"--batch-files", "bench tag/extract: files per cold process (default 0: all in one, the model loaded once)"},
        {"--torch-batch", "bench tag: chunks per PyTorch forward pass (default 16)"}};
    for (const auto& [flag, help] : library_flags) cmd->add_option(flag, options->library[flag], help);
    cmd->add_flag("--prepare-only", options->prepare_only,
                  "bench tag/extract: make (or check) the library and the model, print where, measure nothing");
    cmd->allow_extras();
    cmd->footer(
        "bench tag | extract: mtag tag (short_chunk_cnn) or mtag extract (its log-mel front end to .npy) over a\n"
        "generated library of 44.1 kHz stereo songs, against PyTorch + torchaudio doing the same work\n"
        "(scripts/bench_tag_torch.py, scripts/bench_extract_torchaudio.py), each side a cold process measured\n"
        "from outside (wait4). Prints files/s, audio hours per hour, CPU seconds per audio hour and peak RSS per\n"
        "thread count, the ratio, a cross-check by scripts/bench_tag_torch_minimal.py, and where mtag's time\n"
        "goes. Without python3 torch the reference rows say 'skipped: python3 torch not found'.");
    return {cmd, [options, &global, cmd]() {
        BenchContext context;
        context.global = &global;
        context.json = options->json;
        context.quick = options->quick;
        context.passes = options->passes > 0 ? options->passes : (options->quick ? 1 : 3);
        context.reference_python = options->python;
        context.extra = options->extra;
        for (const std::string& extra : cmd->remaining()) context.extra.push_back(extra);
        for (const std::string& m : options->models) context.extra.insert(context.extra.end(), {"--model", m});
        if (options->batch > 0) context.extra.insert(context.extra.end(), {"--batch", std::to_string(options->batch)});
        if (options->profile) context.extra.push_back("--profile");
        if (options->prepare_only) context.extra.push_back("--prepare-only");
        for (const auto& [flag, value] : options->library)
            if (!value.empty()) context.extra.insert(context.extra.end(), {flag, value});
        if (!options->torch_settings.empty())
            context.extra.insert(context.extra.end(), {"--torch-settings", options->torch_settings});
        if (options->steps > 0) context.extra.insert(context.extra.end(), {"--steps", std::to_string(options->steps)});
        context.work_dir = options->work_dir.empty()
                               ? std::filesystem::temp_directory_path() / ("mtag-bench-" + std::to_string(::getpid()))
                               : std::filesystem::path(options->work_dir);
        std::filesystem::create_directories(context.work_dir);
        static const std::map<std::string, std::function<int(const BenchContext&)>> areas = {
            {"io", bench_io},   {"dsp", bench_dsp},   {"augment", bench_augment},
            {"nn", bench_nn},   {"optim", bench_optim},   {"data", bench_data}, {"train", bench_train},
            {"python", bench_python}, {"tag", bench_tag}, {"extract", bench_extract}};
        const int code = areas.at(options->area)(context);
        if (options->work_dir.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(context.work_dir, ec);
        }
        return code;
    }};
}

}  // namespace mtag::app
