// mtag plot: spectrograms, taggrams, training curves and evaluation plots as PNG, SVG or PDF (by the
// output's extension). The drawing lives in data/plot; this file only parses options and loads inputs.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "app/feature_flags.hpp"
#include "data/plot/curves_plot.hpp"
#include "data/plot/eval_plots.hpp"
#include "data/plot/spectrogram_plot.hpp"
#include "data/pretrained/model_zoo.hpp"
#include "data/report/file_taggram.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_extractor.hpp"
#include "nn/threads.hpp"

#include <iostream>

#include "mtag_version.hpp"

namespace mtag::app {

namespace {

namespace plot = data::plot;

// Options every plot kind takes.
struct CommonOptions {
    std::string out;
    std::string cmap;
    std::string title;
    double width = 0, height = 0;
};

void add_common(CLI::App* cmd, CommonOptions& o, const std::string& default_cmap) {
    cmd->add_option("--out,-o", o.out, "Output file: .png, .svg or .pdf")->required();
    cmd->add_option("--title", o.title, "Figure title");
    cmd->add_option("--width", o.width, "Figure width in points (PNG pixels)")->check(CLI::Range(100.0, 10000.0));
    cmd->add_option("--height", o.height, "Figure height in points (PNG pixels)")->check(CLI::Range(100.0, 10000.0));
    if (!default_cmap.empty()) {
        o.cmap = default_cmap;
        cmd->add_option("--cmap", o.cmap, "Colour map: magma | viridis")
            ->check(CLI::IsMember({"magma", "viridis"}))
            ->capture_default_str();
    }
}

// Checks the output's extension before any work, so a typo costs nothing.
void check_output(const std::string& out) {
    if (!plot::is_figure_extension(out))
        throw UsageError("--out '" + out + "': the extension picks the format; use .png, .svg or .pdf");
}

int save(const plot::Figure& figure, const std::string& out, bool quiet) {
    figure.save(out);
    if (!quiet) std::cerr << "mtag plot: wrote " << out << "\n";
    return 0;
}

struct SpectrogramCommand {
    CommonOptions common;
    std::string input, config;
    double offset = 0, duration = -1;
    FeatureFlags flags;
};

int run_spectrogram(const SpectrogramCommand& o, const GlobalOptions& global) {
    check_output(o.common.out);
    plot::SpectrogramOptions options;
    options.cmap = plot::parse_color_map(o.common.cmap);
    options.title = o.common.title.empty() ? std::filesystem::path(o.input).filename().string() : o.common.title;
    options.offset_seconds = o.offset;
    if (o.common.width > 0) options.width = o.common.width;
    if (o.common.height > 0) options.height = o.common.height;
    dsp::LoadOptions load;
    load.offset_seconds = o.offset;
    load.duration_seconds = o.duration;
    if (o.flags.feature == "waveform") {
        if (!o.config.empty()) throw UsageError("--feature waveform takes no --config");
        load.sample_rate = o.flags.sample_rate.value_or(0);
        const dsp::Audio audio = dsp::load_audio(o.input, load);
        return save(plot::plot_waveform(audio.samples, audio.sample_rate, options).figure, o.common.out, global.quiet);
    }
    const dsp::FeatureConfig config = build_feature_config(o.config, o.flags);
    load.sample_rate = config.sample_rate;
    const dsp::Audio audio = dsp::load_audio(o.input, load);
    dsp::FeatureExtractor extractor(config);
    dsp::FloatMatrix feature;
    extractor.compute(audio.samples, feature);
    return save(plot::plot_spectrogram(feature, extractor.config(), options).figure, o.common.out, global.quiet);
}

struct TaggramCommand {
    CommonOptions common;
    std::string model, input;
    std::size_t top = 10;
};

int run_taggram(const TaggramCommand& o, const GlobalOptions& global) {
    check_output(o.common.out);
    nn::set_thread_budget(global.resolved_threads());
    const data::Tagger tagger(data::resolve_model(o.model, mtag::version, global.quiet));
    plot::TaggramOptions options;
    options.cmap = plot::parse_color_map(o.common.cmap);
    options.top_n = o.top;
    options.title = o.common.title;
    if (o.common.width > 0) options.width = o.common.width;
    if (o.common.height > 0) options.height = o.common.height;
    return save(data::report::plot_file_taggram(tagger, o.input, options).figure, o.common.out, global.quiet);
}

struct CurvesCommand {
    CommonOptions common;
    std::vector<std::string> runs;
};

int run_curves(const CurvesCommand& o, const GlobalOptions& global) {
    check_output(o.common.out);
    std::vector<plot::TrainingLog> logs;
    for (const std::string& run : o.runs) logs.push_back(plot::read_training_log(run));
    plot::CurvesOptions options;
    options.title = o.common.title;
    if (o.common.width > 0) options.width = o.common.width;
    if (o.common.height > 0) options.height = o.common.height;
    return save(plot::plot_curves(logs, options).figure, o.common.out, global.quiet);
}

struct EvalCommand {
    CommonOptions common;
    std::string eval, group;
    std::size_t per_end = 3;
};

plot::EvalPlotOptions eval_options(const EvalCommand& o) {
    plot::EvalPlotOptions options;
    if (!o.common.cmap.empty()) options.cmap = plot::parse_color_map(o.common.cmap);
    options.width = o.common.width;
    options.height = o.common.height;
    options.title = o.common.title;
    options.curves_per_end = o.per_end;
    return options;
}

}  // namespace

Command add_plot_command(CLI::App& root, const GlobalOptions& global) {
    CLI::App* cmd = root.add_subcommand(
        "plot", "Draw spectrograms, taggrams, training curves and evaluation plots (PNG, SVG or PDF)");
    cmd->require_subcommand(1);

    auto spec = std::make_shared<SpectrogramCommand>();
    CLI::App* s = cmd->add_subcommand("spectrogram", "A feature of an audio file with real axes and a dB colour bar");
    s->add_option("input", spec->input, "Audio file")->required()->check(CLI::ExistingFile);
    s->add_option("--config", spec->config, "Feature config JSON (or a features.json of mtag extract)")
        ->check(CLI::ExistingFile);
    s->add_option("--offset", spec->offset, "Start this many seconds into the file")->check(non_negative);
    s->add_option("--duration", spec->duration, "Seconds to show (default: to the end)")->check(positive);
    add_common(s, spec->common, "magma");
    add_feature_flags(s, spec->flags, {"stft", "mel", "logmel", "cqt", "mfcc", "waveform"});
    s->footer("Time in seconds; frequency on the feature's scale: mel-spaced Hz for mel/logmel, log with note\n"
              "names for cqt, linear Hz for stft. Spectra without log compression are shown in dB re their maximum.");

    auto tg = std::make_shared<TaggramCommand>();
    CLI::App* t = cmd->add_subcommand("taggram", "Tag activations over time (musicnn style), top tags by mean score");
    t->add_option("--model", tg->model, "Run directory or pretrained model name")->required();
    t->add_option("input", tg->input, "Audio file")->required()->check(CLI::ExistingFile);
    t->add_option("--top", tg->top, "Tags shown (highest mean first; 0 = all)")->capture_default_str();
    add_common(t, tg->common, "viridis");

    auto cu = std::make_shared<CurvesCommand>();
    CLI::App* c = cmd->add_subcommand("curves", "Loss, validation metrics and learning rate per epoch of runs");
    c->add_option("runs", cu->runs, "Run directories (several are overlaid)")->required();
    add_common(c, cu->common, "");

    auto conf = std::make_shared<EvalCommand>();
    CLI::App* cf = cmd->add_subcommand("confusion", "Confusion matrix of an eval result");
    cf->add_option("--eval", conf->eval, "mtag eval output saved as JSON")->required();
    cf->add_option("--group", conf->group, "Which confusion: a --group name of mtag eval (default: the first)");
    add_common(cf, conf->common, "viridis");

    auto roc = std::make_shared<EvalCommand>();
    CLI::App* r = cmd->add_subcommand("roc", "ROC and precision-recall curves of the best and worst tags");
    r->add_option("--eval", roc->eval, "mtag eval output saved as JSON")->required();
    r->add_option("--per-end", roc->per_end, "Tags shown from each end of the ROC-AUC ranking")->capture_default_str();
    add_common(r, roc->common, "");

    auto tags = std::make_shared<EvalCommand>();
    CLI::App* tb = cmd->add_subcommand("tags", "Per-tag ROC-AUC bars, sorted");
    tb->add_option("--eval", tags->eval, "mtag eval output saved as JSON")->required();
    add_common(tb, tags->common, "");

    return {cmd, [=, &global]() {
                if (s->parsed()) return run_spectrogram(*spec, global);
                if (t->parsed()) return run_taggram(*tg, global);
                if (c->parsed()) return run_curves(*cu, global);
                if (cf->parsed()) {
                    check_output(conf->common.out);
                    return save(plot::plot_confusion(plot::read_eval(conf->eval), conf->group, eval_options(*conf)),
                                conf->common.out, global.quiet);
                }
                if (r->parsed()) {
                    check_output(roc->common.out);
                    return save(plot::plot_roc(plot::read_eval(roc->eval), eval_options(*roc)), roc->common.out,
                                global.quiet);
                }
                check_output(tags->common.out);
                return save(plot::plot_tag_scores(plot::read_eval(tags->eval), eval_options(*tags)), tags->common.out,
                            global.quiet);
            }};
}

}  // namespace mtag::app
