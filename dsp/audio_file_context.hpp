#pragma once
// The context every error about one audio file starts with, whichever decoder raised it.
#include <filesystem>
#include <string>

namespace mtag::dsp {

inline std::string audio_file_context(const std::filesystem::path& path) {
    return "audio file '" + path.string() + "'";
}

}  // namespace mtag::dsp
