#include "data/plot/taggram_plot.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <numeric>

namespace mtag::data::plot {

TaggramPlot plot_taggram(std::span<const float> taggram, const std::vector<std::string>& tags, double hop_seconds,
                         double window_seconds, const TaggramOptions& options) {
    const std::size_t n_tags = tags.size();
    if (n_tags == 0 || taggram.empty() || taggram.size() % n_tags != 0)
        throw Error("plot taggram", "the taggram has " + std::to_string(taggram.size()) + " values, not a multiple of " +
                                        std::to_string(n_tags) + " tags");
    const std::size_t chunks = taggram.size() / n_tags;
    std::vector<double> mean(n_tags, 0.0);
    for (std::size_t c = 0; c < chunks; ++c)
        for (std::size_t t = 0; t < n_tags; ++t) mean[t] += taggram[c * n_tags + t] / static_cast<double>(chunks);
    std::vector<std::size_t> order(n_tags);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return mean[a] > mean[b]; });
    if (options.top_n > 0 && order.size() > options.top_n) order.resize(options.top_n);
    const std::size_t rows = order.size();

    // Image rows bottom-up: data row r shows tags[order[rows - 1 - r]], so the top row is the highest mean.
    std::vector<float> image(rows * chunks);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < chunks; ++c) image[r * chunks + c] = taggram[c * n_tags + order[rows - 1 - r]];

    const double height = options.height > 0 ? options.height : 80 + 22.0 * static_cast<double>(rows);
    const double top = options.title.empty() ? 14 : 32;
    std::size_t longest = 0;
    for (std::size_t t : order) longest = std::max(longest, tags[t].size());
    const double left = std::min(260.0, 20 + 6.5 * static_cast<double>(longest));
    Axes axes;
    axes.rect = {left, top, options.width - left - 90, height - top - 46};
    // The chunks are contiguous when hop == window; a chunk's column spans one hop.
    const double t1 = static_cast<double>(chunks - 1) * hop_seconds + std::max(hop_seconds, window_seconds);
    axes.x = {0, static_cast<double>(chunks) * hop_seconds, Scale::linear, "Time (s)",
              nice_ticks(0, static_cast<double>(chunks) * hop_seconds, 8)};
    std::vector<Tick> row_ticks;
    for (std::size_t i = 0; i < rows; ++i) row_ticks.push_back({static_cast<double>(rows - 1 - i), tags[order[i]]});
    axes.y = {-0.5, static_cast<double>(rows) - 0.5, Scale::linear, "", row_ticks};
    (void)t1;

    TaggramPlot plot{Figure(options.width, height), axes, order};
    draw_image(plot.figure, axes, image, rows, chunks, 0, static_cast<double>(chunks) * hop_seconds, -0.5,
               static_cast<double>(rows) - 0.5, options.cmap, 0.0, 1.0);
    draw_axes(plot.figure, axes);
    const Rect& r = axes.rect;
    draw_colorbar(plot.figure, {r.x + r.width + 18, r.y + 14, 14, r.height - 14}, options.cmap, 0, 1, "p");
    if (!options.title.empty()) draw_text(plot.figure, r.x + r.width / 2, 14, options.title, 13, 0.5, {0, 0, 0}, true);
    return plot;
}

}  // namespace mtag::data::plot
