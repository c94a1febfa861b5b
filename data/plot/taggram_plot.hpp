#pragma once
// Taggrams as musicnn draws them: tag activations over time, one row per tag, the tags with the highest
// mean activation on top (top-N), time in seconds on x.
#include "data/plot/figure.hpp"

#include <span>
#include <string>
#include <vector>

namespace mtag::data::plot {

struct TaggramOptions {
    ColorMap cmap = ColorMap::viridis;
    std::size_t top_n = 10;          // 0 = every tag
    double width = 900, height = 0;  // height 0: 80 + 22 per tag shown
    std::string title;
};

struct TaggramPlot {
    Figure figure;
    Axes axes;                       // x: seconds; y: row index (0 = the bottom row)
    std::vector<std::size_t> order;  // the tags shown, top row first (indices into `tags`)
    // The data y of the centre of the row that shows tags[order[i]]: order.size() - 1 - i.
    double row_y(std::size_t i) const { return static_cast<double>(order.size() - 1 - i); }
};

// taggram: [chunks, tags] row-major probabilities (data/tag's TagResult::taggram); chunk c covers
// [c * hop_seconds, c * hop_seconds + window_seconds). Throws mtag::Error on mismatched sizes.
TaggramPlot plot_taggram(std::span<const float> taggram, const std::vector<std::string>& tags, double hop_seconds,
                         double window_seconds, const TaggramOptions& options = {});

}  // namespace mtag::data::plot
