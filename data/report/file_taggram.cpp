#include "data/report/file_taggram.hpp"

#include "dsp/error.hpp"

namespace mtag::data::report {

plot::TaggramPlot plot_file_taggram(const Tagger& tagger, const std::filesystem::path& file,
                                    plot::TaggramOptions options) {
    const RunCard& card = tagger.card();
    if (card.embedding_only)
        throw Error("run '" + tagger.run_dir().string() + "'", "is a feature extractor without a trained head: no taggram");
    TagOptions tag_options;
    tag_options.layout = ChunkLayout::all;  // every non-overlapping chunk: the taggram covers the file
    tag_options.taggram = true;
    const TagResult result = tagger.session()->tag_file(file, tag_options);
    // Non-overlapping chunks start input_length frames (or samples) apart (data/pipeline/chunking).
    const double hop = static_cast<double>(card.input_length * card.hop_samples()) / card.sample_rate;
    const double window = static_cast<double>(card.window_samples()) / card.sample_rate;
    if (options.title.empty()) options.title = file.filename().string();
    return plot::plot_taggram(result.taggram, card.tags, hop, window, options);
}

}  // namespace mtag::data::report
