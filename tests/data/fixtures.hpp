#pragma once
// Helpers for the data tests: scratch folders under MTAG_TEST_TMP and short tone files.
#include "dsp/audio_io.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <unistd.h>

namespace mtag::test {

// An empty folder MTAG_TEST_TMP/data/<name>.<pid>, wiped first. The process id keeps test cases that
// share a name apart when ctest runs them as parallel processes.
inline std::filesystem::path fresh_dir(const std::string& name) {
    const std::filesystem::path dir =
        std::filesystem::path(MTAG_TEST_TMP) / "data" / (name + "." + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// Writes a mono sine tone (creating parent folders).
inline void write_tone(const std::filesystem::path& path, double seconds, int sample_rate = 2000,
                       double hz = 220.0, float amplitude = 0.3f) {
    std::filesystem::create_directories(path.parent_path());
    dsp::Audio audio;
    audio.sample_rate = sample_rate;
    audio.channels = 1;
    audio.samples.resize(static_cast<std::size_t>(std::llround(seconds * sample_rate)));
    for (std::size_t i = 0; i < audio.samples.size(); ++i)
        audio.samples[i] =
            amplitude * static_cast<float>(std::sin(2 * std::numbers::pi * hz * i / sample_rate));
    dsp::save_audio(path, audio);
}

// Writes a text file verbatim (creating parent folders).
inline void write_text(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace mtag::test
