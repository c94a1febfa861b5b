#pragma once
// Where mtag's time goes when it tags or extracts a library: decode, resample, front end, network (or
// the .npy write), measured in this process on one thread over a few files of the bench library, so the
// phases are not blurred by the overlap `mtag tag` arranges between them.
#include "app/bench_library.hpp"

#include <filesystem>

namespace mtag::app {

enum class ProfileKind { tag, extract };

// Prints CPU seconds per audio hour and the share of each phase for up to 4 files (MP3 and FLAC).
void print_pipeline_profile(const BenchContext& context, const Library& library, const std::filesystem::path& model,
                            ProfileKind kind);

}  // namespace mtag::app
