#pragma once
// The taggram of an audio file under a trained run: the tagger's per-chunk scores over every
// non-overlapping chunk (data/tag), drawn by data/plot. Shared by `mtag plot taggram` and the report.
#include "data/plot/taggram_plot.hpp"
#include "data/tag/tagger.hpp"

#include <filesystem>

namespace mtag::data::report {

// Tags `file` with one session of `tagger` and draws its taggram. Throws mtag::Error naming the file when
// it cannot be decoded, or the run when it has no trained head (an embedding-only model).
plot::TaggramPlot plot_file_taggram(const Tagger& tagger, const std::filesystem::path& file,
                                    plot::TaggramOptions options = {});

}  // namespace mtag::data::report
