// The generated library of `mtag bench tag|extract`, their child processes and their table.
#include "app/bench_library.hpp"

#include "data/progress/progress.hpp"
#include "data/synth/corpus.hpp"
#include "data/synth/renderer.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <malloc.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace mtag::app {

namespace fs = std::filesystem;

double Library::audio_seconds() const {
    double total = 0;
    for (const LibraryFile& f : files) total += f.seconds;
    return total;
}

std::size_t Library::count_extension(const std::string& ext) const {
    std::size_t n = 0;
    for (const LibraryFile& f : files) n += f.path.extension() == ext;
    return n;
}

std::string self_executable() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("mtag") : exe.string();
}

namespace {

std::string number_text(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

nlohmann::json library_key(const LibraryOptions& o) {
    return {{"version", 1}, {"files", o.files}, {"min_seconds", o.min_seconds}, {"max_seconds", o.max_seconds},
            {"seed", o.seed}, {"sample_rate", 44100}, {"channels", 2}};
}

// A library written earlier with the same options, if every file is still there.
std::optional<Library> cached_library(const fs::path& dir, const LibraryOptions& o) {
    std::ifstream in(dir / "library.json");
    if (!in) return std::nullopt;
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("key") || j["key"] != library_key(o) || !j.contains("list")) return std::nullopt;
    Library library{dir, {}};
    for (const nlohmann::json& f : j["list"]) {
        LibraryFile file{dir / f.at("path").get<std::string>(), f.at("seconds").get<double>()};
        if (!fs::is_regular_file(file.path)) return std::nullopt;
        library.files.push_back(file);
    }
    return library;
}

}  // namespace

Library make_library(const LibraryOptions& o, bool quiet) {
    if (o.files < 1) throw UsageError("--files " + std::to_string(o.files), "must be at least 1");
    if (!(o.min_seconds > 0) || o.max_seconds < o.min_seconds)
        throw UsageError("--min-seconds/--max-seconds", "need 0 < min <= max (got " + number_text(o.min_seconds) +
                                                            ", " + number_text(o.max_seconds) + ")");
    const fs::path dir = o.dir.empty() ? fs::path(self_executable()).parent_path() / "bench_library" /
                                             (std::to_string(o.files) + "x" + number_text(o.min_seconds) + "-" +
                                              number_text(o.max_seconds) + "s-seed" + std::to_string(o.seed))
                                       : o.dir;
    if (auto cached = cached_library(dir, o)) return *cached;
    std::error_code ec;
    fs::create_directories(dir / "audio", ec);
    if (ec) throw Error("bench library '" + dir.string() + "'", "cannot create it: " + ec.message() + "; pass --library DIR");

    // Lengths first, in index order, so they do not depend on the thread count.
    std::mt19937_64 rng(o.seed ^ 0x6d746167'6c696272ULL);
    std::uniform_real_distribution<double> length(o.min_seconds, o.max_seconds);
    Library library{dir, {}};
    for (int i = 0; i < o.files; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "audio/song_%04d.%s", i, i % 2 == 0 ? "mp3" : "flac");
        library.files.push_back({dir / name, std::round(length(rng) * 10.0) / 10.0});
    }
    if (!quiet)
        std::cerr << "bench: writing a library of " << o.files << " files (" << number_text(library.audio_seconds() / 3600.0)
                  << " h of 44.1 kHz stereo MP3/FLAC) into " << dir.string() << " (once; later runs reuse it)\n";
    data::Progress progress("library", library.files.size(), !quiet, 10.0, "files");
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::exception_ptr error;
    auto work = [&] {
        try {
            data::synth::Renderer renderer({.sample_rate = 44100, .channels = 2});
            for (std::size_t i = next++; i < library.files.size(); i = next++) {
                const LibraryFile& f = library.files[i];
                const data::synth::Score score = data::synth_clip_score(o.seed, static_cast<int>(i), f.seconds);
                dsp::save_audio(f.path, renderer.render(score));
                progress.advance();
            }
        } catch (...) {
            std::lock_guard lock(mutex);
            if (!error) error = std::current_exception();
            next = library.files.size();
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < std::max(1, o.threads); ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    progress.finish();
    if (error) std::rethrow_exception(error);

    nlohmann::json list = nlohmann::json::array();
    for (const LibraryFile& f : library.files)
        list.push_back({{"path", fs::relative(f.path, dir).string()}, {"seconds", f.seconds}});
    const fs::path tmp = dir / "library.json.tmp";
    {
        std::ofstream out(tmp);
        out << nlohmann::json{{"key", library_key(o)}, {"list", list}}.dump(1) << "\n";
        if (!out) throw Error("bench library '" + dir.string() + "'", "cannot write library.json");
    }
    fs::rename(tmp, dir / "library.json");
    return library;
}

ChildCost run_child(const std::vector<std::string>& argv, const fs::path& stdout_file, const fs::path& stderr_file,
                    const std::vector<std::string>& env) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> environment;
    for (char** e = environ; *e; ++e) environment.emplace_back(*e);
    environment.insert(environment.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (std::string& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ChildCost cost;
    // The child's ru_maxrss starts from this process's peak: posix_spawn shares our address space until the
    // exec, and the kernel carries the old address space's high-water mark over into the child at exec. A
    // bench that had just written its library reported every child at its own ~430 MB peak (mtag tag: 433
    // MB on a fresh 40-song library, 160 MB on the next run). Returning freed heap and resetting our peak to
    // today's resident size keeps the children's figures their own.
    malloc_trim(0);
    reset_peak_rss();
    const double t0 = wall_seconds();
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw Error("bench", "cannot start '" + argv[0] + "': " + std::strerror(spawned));
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);  // this child's own rusage, not the sum over every child
    cost.wall_seconds = wall_seconds() - t0;
    cost.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    cost.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    cost.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
    return cost;
}

std::optional<std::string> torch_python(const BenchContext& context, std::string& why) {
    if (context.reference_python.empty()) {
        why = "--python ''";
        return std::nullopt;
    }
    std::vector<std::string> candidates = {context.reference_python};
    if (context.reference_python == "python3") candidates.push_back("/usr/bin/python3");
    for (const std::string& python : candidates) {
        const std::string command = "'" + python + "' -c 'import torch, torchaudio, soundfile' >/dev/null 2>&1";
        if (std::system(command.c_str()) == 0) return python;
    }
    why = "python3 torch not found (tried";
    for (const std::string& python : candidates) why += " " + python;
    why += "; torch, torchaudio and soundfile must import)";
    return std::nullopt;
}

void print_throughput_header(const BenchContext& context) {
    if (context.json) return;
    std::printf("%-7s %-34s %7s %9s %10s %14s %12s\n", "threads", "pipeline", "files", "files/s", "audio h/h",
                "CPU s/audio h", "peak RSS MB");
}

void print_throughput_row(const BenchContext& context, const std::string& bench, const ThroughputRow& r) {
    if (context.json) {
        std::cout << nlohmann::json{{"bench", bench},
                                    {"threads", r.threads},
                                    {"pipeline", r.pipeline},
                                    {"files", r.files},
                                    {"audio_seconds", r.audio_seconds},
                                    {"wall_seconds", r.cost.wall_seconds},
                                    {"cpu_seconds", r.cost.cpu_seconds},
                                    {"files_per_second", r.files_per_second()},
                                    {"audio_hours_per_hour", r.audio_hours_per_hour()},
                                    {"cpu_seconds_per_audio_hour", r.cpu_seconds_per_audio_hour()},
                                    {"peak_rss_mb", r.cost.peak_rss_mb}}
                         .dump()
                  << "\n";
        return;
    }
    std::printf("%-7d %-34s %7zu %9.3f %10.1f %14.1f %12.0f\n", r.threads, r.pipeline.c_str(), r.files,
                r.files_per_second(), r.audio_hours_per_hour(), r.cpu_seconds_per_audio_hour(), r.cost.peak_rss_mb);
    std::fflush(stdout);
}

void print_ratio(const BenchContext& context, const std::string& bench, const ThroughputRow& mtag,
                 const ThroughputRow& reference, const std::string& label) {
    const double speed = mtag.files_per_second() / reference.files_per_second();
    const double memory = mtag.cost.peak_rss_mb / reference.cost.peak_rss_mb;
    if (context.json) {
        std::cout << nlohmann::json{{"bench", bench}, {"threads", mtag.threads}, {"ratio", "mtag / reference"},
                                    {"files_per_second", speed}, {"peak_rss", memory},
                                    {"reference", reference.pipeline}, {"mtag", mtag.pipeline}}
                         .dump()
                  << "\n";
        return;
    }
    std::printf("%-7d %-34s %7s %8.2fx %10s %14s %11.2fx\n", mtag.threads, label.c_str(), "", speed, "", "",
                memory);
}

std::optional<std::string> extra_value(const BenchContext& context, const std::string& flag) {
    for (std::size_t i = 0; i < context.extra.size(); ++i) {
        if (context.extra[i] != flag) continue;
        if (i + 1 >= context.extra.size()) throw UsageError(flag + " needs a value");
        return context.extra[i + 1];
    }
    return std::nullopt;
}

namespace {

double number_option(const BenchContext& context, const std::string& flag, double fallback) {
    const auto text = extra_value(context, flag);
    if (!text) return fallback;
    try {
        std::size_t used = 0;
        const double v = std::stod(*text, &used);
        if (used == text->size()) return v;
    } catch (const std::exception&) {
    }
    throw UsageError(flag + " '" + *text + "' is not a number");
}

}  // namespace

std::vector<int> bench_thread_counts(const BenchContext& context) {
    std::vector<int> counts;
    if (const auto text = extra_value(context, "--thread-counts")) {
        std::stringstream in(*text);
        std::string item;
        while (std::getline(in, item, ',')) {
            int n = 0;
            try {
                n = std::stoi(item);
            } catch (const std::exception&) {
            }
            if (n < 1) throw UsageError("--thread-counts '" + *text + "': each count must be a positive integer");
            counts.push_back(n);
        }
    } else {
        counts = {1, 2, std::max(1, static_cast<int>(std::thread::hardware_concurrency()))};
    }
    std::sort(counts.begin(), counts.end());
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    return counts;
}

LibraryOptions library_options(const BenchContext& context) {
    LibraryOptions o;
    if (const auto dir = extra_value(context, "--library")) o.dir = *dir;
    o.files = static_cast<int>(number_option(context, "--files", context.quick ? 2 : 200));
    o.min_seconds = number_option(context, "--min-seconds", context.quick ? 4.0 : 30.0);
    o.max_seconds = number_option(context, "--max-seconds", context.quick ? 6.0 : 300.0);
    o.seed = context.global->seed;
    o.threads = context.global->resolved_threads();
    return o;
}

fs::path reference_model(const BenchContext& context, const Library& library) {
    if (const auto given = extra_value(context, "--model")) return *given;
    const fs::path dir = library.dir / "short_chunk_cnn_random";
    if (fs::is_regular_file(dir / "model.json") && fs::is_regular_file(dir / "model.safetensors")) return dir;
    const std::string exe = self_executable();
    const fs::path init = library.dir / "short_chunk_cnn_init", tmp = library.dir / "short_chunk_cnn_random.tmp";
    std::error_code ec;
    fs::remove_all(init, ec);
    fs::remove_all(tmp, ec);
    const fs::path tags = library.dir / "tags.txt";
    {
        std::ofstream out(tags);
        for (int i = 1; i <= 50; ++i) out << "tag" << i << "\n";
    }
    const fs::path log = library.dir / "model.log";
    const std::string seed = std::to_string(context.global->seed);
    if (run_child({exe, "--quiet", "--seed", seed, "model", "init", "short_chunk_cnn", "--out", init.string()}, log, log)
                .exit_code != 0 ||
        run_child({exe, "--quiet", "model", "import", "--from", "safetensors", "--arch", "short_chunk_cnn",
                   (init / "model.safetensors").string(), "--out", tmp.string(), "--tags", tags.string()},
                  log, log)
                .exit_code != 0)
        throw Error("mtag bench", "could not make the reference model (see " + log.string() + ")");
    fs::rename(tmp, dir);
    fs::remove_all(init, ec);
    return dir;
}

std::vector<std::string> library_paths(const Library& library) {
    std::vector<std::string> paths;
    for (const LibraryFile& f : library.files) paths.push_back(f.path.string());
    return paths;
}

ChildCost run_in_batches(const std::vector<std::string>& prefix, const std::vector<std::string>& files,
                         std::size_t batch_files, const fs::path& out_stem, const std::vector<std::string>& suffix) {
    ChildCost total;
    total.exit_code = 0;
    const std::size_t step = batch_files == 0 ? files.size() : batch_files;
    for (std::size_t begin = 0, k = 0; begin < files.size(); begin += step, ++k) {
        std::vector<std::string> argv = prefix;
        argv.insert(argv.end(), files.begin() + static_cast<std::ptrdiff_t>(begin),
                    files.begin() + static_cast<std::ptrdiff_t>(std::min(files.size(), begin + step)));
        std::vector<std::string> tail = suffix;
        for (std::string& t : tail)
            if (const std::size_t at = t.find("{k}"); at != std::string::npos) t.replace(at, 3, std::to_string(k));
        argv.insert(argv.end(), tail.begin(), tail.end());
        const std::string stem = out_stem.string() + "." + std::to_string(k);
        const ChildCost c = run_child(argv, stem + ".out", stem + ".err");
        total.wall_seconds += c.wall_seconds;
        total.cpu_seconds += c.cpu_seconds;
        total.peak_rss_mb = std::max(total.peak_rss_mb, c.peak_rss_mb);
        if (c.exit_code != 0) total.exit_code = c.exit_code;
    }
    return total;
}

std::size_t batch_files_option(const BenchContext& context) {
    const auto text = extra_value(context, "--batch-files");
    if (!text) return 0;
    try {
        const long v = std::stol(*text);
        if (v >= 0) return static_cast<std::size_t>(v);
    } catch (const std::exception&) {
    }
    throw UsageError("--batch-files '" + *text + "' is not a non-negative integer (0: every file in one process)");
}

void print_library(const BenchContext& context, const std::string& bench, const Library& library,
                   const fs::path& model, std::size_t batch_files) {
    if (context.json) {
        std::cout << nlohmann::json{{"bench", bench},
                                    {"library", library.dir.string()},
                                    {"files", library.files.size()},
                                    {"mp3", library.count_extension(".mp3")},
                                    {"flac", library.count_extension(".flac")},
                                    {"audio_seconds", library.audio_seconds()},
                                    {"model", model.string()},
                                    {"batch_files", batch_files}}
                         .dump()
                  << "\n";
        return;
    }
    std::printf("%s: %zu files (%zu MP3, %zu FLAC, 44.1 kHz stereo), %.2f h (%.0f s) of audio, in %s\n",
                bench.c_str(), library.files.size(), library.count_extension(".mp3"), library.count_extension(".flac"),
                library.audio_seconds() / 3600.0, library.audio_seconds(), library.dir.string().c_str());
    std::printf("model %s; %s per process; wall, CPU and peak RSS of each child process (wait4)\n",
                model.string().c_str(),
                batch_files == 0 ? "every file" : (std::to_string(batch_files) + " files").c_str());
}

}  // namespace mtag::app
