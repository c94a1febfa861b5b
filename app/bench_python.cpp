// mtag bench python: mtag's Python module against torchaudio / PyTorch (scripts/bench_python.py, which does
// the measuring: mtag.feature.melspectrogram vs torchaudio.transforms.MelSpectrogram, and mtag.data.Loader vs
// a torch DataLoader doing decode + resample + augment + log-mel at equal worker counts). This row runs the
// script with the package this build assembled (build/python on PYTHONPATH) and prints its figures.
#include "app/bench.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace mtag::app {

namespace fs = std::filesystem;

int bench_python(const BenchContext& context) {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // build/mtag -> build/python holds the package (import mtag).
        const fs::path package = exe.parent_path() / "python";
        const char* old = std::getenv("PYTHONPATH");
        const std::string value = package.string() + (old && *old ? ":" + std::string(old) : "");
        ::setenv("PYTHONPATH", value.c_str(), 1);
    }
    std::vector<std::string> args = {"--mtag", ec ? std::string("mtag") : exe.string()};
    if (context.quick) args.push_back("--quick");
    // The script's own flags (`mtag bench python -- --part mtag-loader --data DIR`); CLI11 keeps the "--".
    for (const std::string& a : context.extra)
        if (a != "--") args.push_back(a);
    const std::optional<nlohmann::json> result = run_reference_script(context, "bench_python.py", args);
    if (!result) {
        std::cerr << "bench python: no figures (needs the Python module, torch and torchaudio)\n";
        return 1;
    }
    if (context.json) {
        std::cout << result->dump() << "\n";
        return 0;
    }
    // `--part` (passed through to the script) leaves out the parts it did not run: print only what ran.
    const nlohmann::json mel = result->value("mel", nlohmann::json::object());
    const nlohmann::json loader = result->value("loader", nlohmann::json::object());
    if (mel.contains("mtag_seconds"))
        std::printf("python: melspectrogram %.0f s audio: mtag %.2f ms (median %.2f), torchaudio %.2f ms (median %.2f), "
                    "%.2fx best, %.2fx median (target >= 4x)\n",
                    mel.value("audio_seconds", 0.0), 1e3 * mel.value("mtag_seconds", 0.0),
                    1e3 * mel.value("mtag_median_seconds", 0.0), 1e3 * mel.value("torchaudio_seconds", 0.0),
                    1e3 * mel.value("torchaudio_median_seconds", 0.0), mel.value("speedup", 0.0),
                    mel.value("median_speedup", 0.0));
    if (loader.contains("torch_clips_per_second"))
        std::printf("python: loader %d workers, %d epochs: mtag %.1f clips/s best epoch (median %.1f; memory cache %.1f), "
                    "torch DataLoader %.1f (median %.1f), %.2fx best, %.2fx median (target >= 3x)\n",
                    loader.value("workers", 0), loader.value("epochs", 0), loader.value("mtag_clips_per_second", 0.0),
                    loader.value("mtag_median_clips_per_second", 0.0),
                    loader.value("mtag_memory_cache_clips_per_second", 0.0),
                    loader.value("torch_clips_per_second", 0.0), loader.value("torch_median_clips_per_second", 0.0),
                    loader.value("speedup", 0.0), loader.value("median_speedup", 0.0));
    else if (loader.contains("mtag_clips_per_second"))
        std::printf("python: loader %d workers, %d epochs: mtag %.1f clips/s best epoch (median %.1f; memory cache %.1f, "
                    "median %.1f)\n",
                    loader.value("workers", 0), loader.value("epochs", 0), loader.value("mtag_clips_per_second", 0.0),
                    loader.value("mtag_median_clips_per_second", 0.0),
                    loader.value("mtag_memory_cache_clips_per_second", 0.0),
                    loader.value("mtag_memory_cache_median_clips_per_second", 0.0));
    return 0;
}

}  // namespace mtag::app
