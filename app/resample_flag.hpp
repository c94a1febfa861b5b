#pragma once
// The --resample-quality (alias --res-type, librosa's name) flag of the commands that decode or pitch-shift
// audio (tag, extract, augment), declared once so that they accept the same names with the same message.
#include "dsp/resample.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace mtag::app {

// Declares --resample-quality,--res-type on `cmd`, storing the name in `name` (its initial value is the
// shown default). `what` says what the converter is used for, for --help. A bad name is a usage error
// listing every name (soxr_vhq .. sinc_fastest, and the aliases best / medium / fastest).
CLI::Option* add_resample_quality_flag(CLI::App* cmd, std::string& name, const std::string& what);

// Declares --mp3-decode full|fast (dsp/mp3_decoder.hpp) on a command that decodes MP3 to a lower rate.
CLI::Option* add_mp3_decode_flag(CLI::App* cmd, std::string& name);

}  // namespace mtag::app
