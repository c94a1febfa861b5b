// mtag report: a run's self-contained HTML report (data/report).
#include "app/command.hpp"
#include "data/report/report.hpp"
#include "dsp/error.hpp"
#include "nn/threads.hpp"

#include <iostream>

#include "mtag_version.hpp"

namespace mtag::app {

Command add_report_command(CLI::App& root, const GlobalOptions& global) {
    struct Options {
        std::string run, eval, out;
        std::size_t taggrams = 3;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = root.add_subcommand(
        "report", "One self-contained HTML report of a run: model card, curves, diagnosis, per-tag metrics, "
                  "confusion, taggrams");
    cmd->add_option("run", o->run, "Run folder written by mtag train")->required();
    cmd->add_option("--eval", o->eval, "mtag eval output saved as JSON (default: RUN/eval.json when present)");
    cmd->add_option("--out,-o", o->out, "Output .html file (default: RUN/report.html)");
    cmd->add_option("--taggrams", o->taggrams, "Taggrams of this many clips of the evaluated split")
        ->capture_default_str();
    cmd->footer("The file needs no network and no other file: CSS, SVG figures and the table-sorting script are\n"
                "inline. `mtag eval --report` saves RUN/eval.json and rewrites RUN/report.html with it.");
    return {cmd, [o, &global]() {
                nn::set_thread_budget(global.resolved_threads());
                data::report::ReportOptions options;
                options.run = o->run;
                if (!o->eval.empty()) options.eval = o->eval;
                options.taggram_clips = o->taggrams;
                options.mtag_version = mtag::version;
                const std::filesystem::path out = o->out.empty() ? std::filesystem::path(o->run) / "report.html" : std::filesystem::path(o->out);
                data::report::write_report(options, out);
                if (!global.quiet) std::cerr << "mtag report: wrote " << out.string() << "\n";
                return 0;
            }};
}

}  // namespace mtag::app
