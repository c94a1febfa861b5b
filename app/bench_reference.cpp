// Running the Python reference scripts (PyTorch / torchaudio) that benchmarks compare against.
#include "app/bench.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace mtag::app {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'')
            quoted += "'\\''";
        else
            quoted += c;
    }
    return quoted + "'";
}

}  // namespace

std::optional<fs::path> find_reference_script(const std::string& script) {
    std::vector<fs::path> candidates;
    if (const char* source = std::getenv("MTAG_SOURCE_DIR"))
        candidates.push_back(fs::path(source) / "scripts");
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // build/mtag -> <checkout>/scripts; also one folder deeper (build/Release/mtag).
        candidates.push_back(exe.parent_path().parent_path() / "scripts");
        candidates.push_back(exe.parent_path().parent_path().parent_path() / "scripts");
    }
    candidates.push_back(fs::current_path(ec) / "scripts");
    for (const fs::path& folder : candidates)
        if (fs::is_regular_file(folder / script, ec)) return folder / script;
    return std::nullopt;
}

namespace {

// Runs a command, returning its exit status and stdout.
int run_capture(const std::string& command, std::string& output) {
    std::FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return -1;
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
    return ::pclose(pipe);
}

}  // namespace

std::optional<ReferenceOutput> run_reference_lines(const BenchContext& context, const std::string& script,
                                                   const std::vector<std::string>& args,
                                                   const std::vector<std::string>& environment) {
    if (context.reference_python.empty()) {
        std::cerr << "reference: skipped (--python '')\n";
        return std::nullopt;
    }
    const std::optional<fs::path> path = find_reference_script(script);
    if (!path) {
        std::cerr << "reference: skipped, scripts/" << script
                  << " not found (set MTAG_SOURCE_DIR to the checkout)\n";
        return std::nullopt;
    }
    std::vector<std::string> interpreters = {context.reference_python};
    if (context.reference_python == "python3") interpreters.push_back("/usr/bin/python3");
    std::string arguments;
    for (const std::string& arg : args) arguments += " " + shell_quote(arg);
    std::string env;
    for (const std::string& e : environment) env += shell_quote(e) + " ";
    if (!env.empty()) env = "env " + env;
    std::string last_problem;
    for (std::size_t attempt = 0; attempt < interpreters.size(); ++attempt) {
        const std::string& python = interpreters[attempt];
        // Every attempt but the last is quiet: a python3 without torch is expected where Debian's has it.
        const std::string quiet = attempt + 1 < interpreters.size() ? " 2>/dev/null" : "";
        std::string output;
        const int status =
            run_capture(env + shell_quote(python) + " " + shell_quote(path->string()) + arguments + quiet, output);
        if (status == 0) {
            ReferenceOutput result{.interpreter = python, .lines = {}};
            std::istringstream lines(output);
            std::string line;
            while (std::getline(lines, line)) {
                nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
                if (parsed.is_structured()) result.lines.push_back(std::move(parsed));  // not a bare number of a progress line
            }
            if (!result.lines.empty()) return result;
            last_problem = python + " printed no JSON";
        } else {
            last_problem = python + " failed (exit status " + std::to_string(WEXITSTATUS(status)) +
                           "; are torch and torchaudio installed for it?)";
        }
    }
    std::cerr << "reference: skipped, " << last_problem << "\n";
    return std::nullopt;
}

std::optional<nlohmann::json> run_reference_script(const BenchContext& context, const std::string& script,
                                                   const std::vector<std::string>& args,
                                                   const std::vector<std::string>& environment) {
    std::optional<ReferenceOutput> output = run_reference_lines(context, script, args, environment);
    if (!output) return std::nullopt;
    return std::move(output->lines.back());
}

}  // namespace mtag::app
