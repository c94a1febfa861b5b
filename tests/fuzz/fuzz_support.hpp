#pragma once
// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp): a scratch folder per process for parsers that
// read a path rather than bytes, and the rule every target follows: mtag::Error is the parser's correct
// answer to bad input; any other exception escapes and aborts, so libFuzzer reports it as a finding
// (as it reports crashes, leaks, sanitizer reports and hangs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace mtag::fuzz {

// A folder under $TMPDIR (or /tmp) private to this process, created once.
inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        const char* tmp = std::getenv("TMPDIR");
        std::filesystem::path d = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                                  ("mtag-fuzz." + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

// Writes the fuzzer's bytes to scratch_dir()/name (replacing it) and returns the path.
inline std::filesystem::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path path = scratch_dir() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path;
}

inline std::string as_string(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace mtag::fuzz
