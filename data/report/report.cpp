#include "data/report/report.hpp"
#include "dsp/temporary_path.hpp"

#include "data/plot/curves_plot.hpp"
#include "data/plot/eval_plots.hpp"
#include "data/report/diagnosis.hpp"
#include "data/report/file_taggram.hpp"
#include "data/run/model_card.hpp"
#include "data/sets/load.hpp"
#include "dsp/error.hpp"
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace mtag::data::report {

namespace fs = std::filesystem;

namespace {

const char* const k_sections[] = {"model-card", "curves", "diagnosis", "per-tag", "confusion", "taggrams", nullptr};

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string fixed(double v, int digits = 4) {
    if (!std::isfinite(v)) return "n/a";
    char text[48];
    std::snprintf(text, sizeof text, "%.*f", digits, v);
    return text;
}

// A figure's SVG for inline use: cairo names its glyphs and clips "glyph0-1", "clip1", ... in every
// document, so each figure's ids get a prefix of their own to keep them apart in one HTML page.
std::string inline_svg(const plot::Figure& figure, const std::string& prefix) {
    std::string svg = figure.svg();
    auto replace_all = [&](const std::string& from, const std::string& to) {
        for (std::size_t at = svg.find(from); at != std::string::npos; at = svg.find(from, at + to.size()))
            svg.replace(at, from.size(), to);
    };
    replace_all("id=\"", "id=\"" + prefix + "-");
    replace_all("href=\"#", "href=\"#" + prefix + "-");
    replace_all("url(#", "url(#" + prefix + "-");
    return "<div class=\"figure\">" + svg + "</div>\n";
}

std::string json_text(const nlohmann::json& j) {
    if (j.is_string()) return j.get<std::string>();
    return j.dump();
}

// Rows of a two-column table from a JSON object (nested objects flattened as a.b).
void flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& rows) {
    if (j.is_object()) {
        for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, rows);
    } else {
        std::string text = json_text(j);
        if (text.size() > 160) text = text.substr(0, 157) + "...";
        rows.push_back({prefix, text});
    }
}

std::string table(const std::vector<std::pair<std::string, std::string>>& rows) {
    std::string html = "<table class=\"kv\">\n";
    for (const auto& [k, v] : rows) html += "<tr><th>" + escape(k) + "</th><td>" + escape(v) + "</td></tr>\n";
    return html + "</table>\n";
}

std::string note(const std::string& text) { return "<p class=\"note\">" + escape(text) + "</p>\n"; }

std::string model_card_section(const fs::path& run) {
    const RunModel loaded = load_run(run);
    const ModelCard& card = loaded.card;
    std::string html = "<div class=\"cards\"><div><h3>Architecture</h3>\n";
    std::vector<std::pair<std::string, std::string>> arch = {
        {"preset", card.preset},
        {"parameters", std::to_string(loaded.model->parameter_count())},
        {"task", to_string(card.task)},
        {"input length", std::to_string(card.input_length) + (card.is_waveform() ? " samples" : " frames")},
        {"tags", std::to_string(card.tags.size())},
        {"mtag version", card.mtag_version}};
    flatten(card.model_options, "model", arch);
    html += table(arch);
    html += "</div><div><h3>Front end</h3>\n";
    std::vector<std::pair<std::string, std::string>> front;
    // The fields that shape this kind's output (the config hash covers the same), not every default.
    flatten(card.is_waveform() ? card.features.to_json() : card.feature_config().canonical_json(), "", front);
    html += table(front);
    html += "</div><div><h3>Data</h3>\n";
    std::vector<std::pair<std::string, std::string>> data = {{"tags (output order)", nlohmann::json(card.tags).dump()}};
    if (card.training.is_object())
        for (const auto& [k, v] : card.training.items())
            if (k != "config") flatten(v, k, data);  // the config is the recipe below
    html += table(data);
    html += "</div><div><h3>Recipe</h3>\n";
    std::ifstream config_file(run / "config.json");
    const nlohmann::json config = config_file ? nlohmann::json::parse(config_file, nullptr, false) : nlohmann::json();
    if (config.is_object()) {
        std::vector<std::pair<std::string, std::string>> recipe;
        for (const auto& [k, v] : config.items())
            if (k != "model" && k != "features" && k != "threads") flatten(v, k, recipe);
        html += table(recipe);
    } else {
        html += note("No readable config.json in the run folder.");
    }
    return html + "</div></div>\n";
}

std::string diagnosis_section(const plot::TrainingLog& log) {
    std::string html = "<ul class=\"findings\">\n";
    for (const Finding& f : diagnose(log))
        html += "<li class=\"" + to_string(f.severity) + "\"><b>" + escape(f.title) + "</b>: " + escape(f.detail) + "</li>\n";
    return html + "</ul>\n";
}

std::string per_tag_section(const plot::EvalResult& eval) {
    std::string html = "<p>" + escape(std::to_string(eval.clips)) + " clips of the <b>" + escape(eval.split) +
                       "</b> split of <code>" + escape(eval.data) + "</code>: macro ROC-AUC <b>" +
                       fixed(eval.roc_auc_macro) + "</b>, macro PR-AUC <b>" + fixed(eval.pr_auc_macro) + "</b>" +
                       (eval.accuracy ? ", accuracy <b>" + fixed(*eval.accuracy) + "</b>" : std::string()) +
                       ". Click a column header to sort.</p>\n";
    html += "<table class=\"sortable\" id=\"per-tag-table\">\n<thead><tr><th data-type=\"text\">tag</th>"
            "<th data-type=\"number\">ROC-AUC</th><th data-type=\"number\">PR-AUC</th>"
            "<th data-type=\"number\">positives</th></tr></thead>\n<tbody>\n";
    for (const plot::TagScore& t : eval.per_tag)
        html += "<tr><td>" + escape(t.tag) + "</td><td>" + fixed(t.roc_auc) + "</td><td>" + fixed(t.pr_auc) + "</td><td>" +
                std::to_string(t.positives) + "</td></tr>\n";
    html += "</tbody></table>\n";
    try {
        html += inline_svg(plot::plot_tag_scores(eval), "tags");
    } catch (const Error& e) {
        html += note(e.what());
    }
    if (!eval.curves.empty()) html += inline_svg(plot::plot_roc(eval), "roc");
    return html;
}

std::string taggram_section(const fs::path& run, const plot::EvalResult& eval, std::size_t count) {
    if (count == 0) return note("Taggrams were not asked for.");
    fs::path data_path = eval.data;
    if (data_path.empty() || !fs::exists(data_path))
        return note("The evaluated dataset '" + eval.data + "' is not reachable from here; run mtag report from the "
                    "folder mtag eval ran in.");
    const std::optional<Split> split = parse_split(eval.split.empty() ? "test" : eval.split);
    const Dataset dataset = load_dataset(data_path);
    const Tagger tagger(run);
    std::string html;
    std::size_t shown = 0;
    for (std::size_t i : dataset.indices(split.value_or(Split::test))) {
        if (shown == count) break;
        const Clip& clip = dataset.clips[i];
        try {
            plot::TaggramOptions options;
            options.top_n = 10;
            options.width = 860;
            html += "<p class=\"caption\"><code>" + escape(clip.audio_path.string()) + "</code></p>\n" +
                    inline_svg(plot_file_taggram(tagger, clip.audio_path, options).figure, "taggram" + std::to_string(shown));
            ++shown;
        } catch (const Error& e) {
            html += note(clip.audio_path.string() + ": " + e.what());
        }
    }
    if (shown == 0) html += note("No clip of the " + eval.split + " split could be tagged.");
    return html;
}

constexpr const char* k_style = R"(
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 0 auto; max-width: 1000px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
nav a { margin-right: 1em; } .cards { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1.5em; } code { background: #f3f3f3; padding: 0 0.3em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
table.kv th { background: #f7f7f7; font-weight: normal; color: #555; }
table.sortable th { cursor: pointer; background: #eef3f8; user-select: none; }
table.sortable th.asc::after { content: " \25B2"; } table.sortable th.desc::after { content: " \25BC"; }
.figure svg { max-width: 100%; height: auto; } .note { color: #666; font-style: italic; }
ul.findings li { margin: 0.3em 0; } li.warning { color: #a11; } li.note { color: #a60; } li.ok { color: #161; }
)";

// Sorts a table.sortable by the clicked column (numbers numerically, n/a last); a second click reverses.
constexpr const char* k_script = R"(
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var numeric = th.getAttribute('data-type') === 'number';
      var ascending = !th.classList.contains('asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(ascending ? 'asc' : 'desc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        if (numeric) {
          x = parseFloat(x); y = parseFloat(y);
          if (isNaN(x)) return 1; if (isNaN(y)) return -1;
          return ascending ? x - y : y - x;
        }
        return ascending ? x.localeCompare(y) : y.localeCompare(x);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
console.log('mtag report ready');
)";

}  // namespace

const char* const* report_section_ids() { return k_sections; }

std::string render_report(const ReportOptions& options) {
    const fs::path& run = options.run;
    if (!fs::is_directory(run))
        throw Error("run '" + run.string() + "'", "is not a folder (give a run folder written by mtag train)");
    const plot::TrainingLog log = plot::read_training_log(run);
    std::optional<plot::EvalResult> eval;
    if (options.eval) eval = plot::read_eval(*options.eval);
    else if (fs::exists(run / "eval.json")) eval = plot::read_eval(run / "eval.json");
    const std::string model_card = model_card_section(run);  // loads the run: fails early on a broken one

    const std::string name = fs::absolute(run).lexically_normal().filename().string().empty()
                                 ? fs::absolute(run).lexically_normal().parent_path().filename().string()
                                 : fs::absolute(run).lexically_normal().filename().string();
    std::ostringstream html;
    html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>mtag report: " << escape(name)
         << "</title>\n<style>" << k_style << "</style>\n</head>\n<body>\n";
    html << "<h1>Training report: " << escape(name) << "</h1>\n<p>Run folder <code>" << escape(run.string())
         << "</code>, " << log.epochs.size() << " epoch(s), best epoch " << log.best_epoch << " (monitored value "
         << fixed(log.best_value) << "). Written by mtag " << escape(options.mtag_version) << ".</p>\n";
    html << "<nav><a href=\"#model-card\">Model card</a><a href=\"#curves\">Curves</a><a href=\"#diagnosis\">Diagnosis</a>"
            "<a href=\"#per-tag\">Per-tag metrics</a><a href=\"#confusion\">Confusion</a><a href=\"#taggrams\">Taggrams</a></nav>\n";
    html << "<section id=\"model-card\">\n<h2>Model card</h2>\n" << model_card << "</section>\n";
    html << "<section id=\"curves\">\n<h2>Training curves</h2>\n" << inline_svg(plot::plot_curves({log}).figure, "curves")
         << "</section>\n";
    html << "<section id=\"diagnosis\">\n<h2>Diagnosis of the loss curves</h2>\n" << diagnosis_section(log) << "</section>\n";
    const std::string no_eval = "No evaluation yet: run `mtag eval --model " + run.string() +
                                " --data DATA --report` (or give mtag report --eval EVAL.json).";
    html << "<section id=\"per-tag\">\n<h2>Per-tag metrics</h2>\n" << (eval ? per_tag_section(*eval) : note(no_eval))
         << "</section>\n";
    html << "<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n";
    if (!eval) html << note(no_eval);
    else if (eval->confusions.empty())
        html << note("A multi-label run has no confusion matrix; mtag eval --group NAME=tag1,tag2,... scores mutually "
                     "exclusive tags as one.");
    else
        for (std::size_t i = 0; i < eval->confusions.size(); ++i)
            html << inline_svg(plot::plot_confusion(*eval, eval->confusions[i].name), "confusion" + std::to_string(i));
    html << "</section>\n";
    html << "<section id=\"taggrams\">\n<h2>Taggrams of test clips</h2>\n"
         << (eval ? taggram_section(run, *eval, options.taggram_clips) : note(no_eval)) << "</section>\n";
    html << "<script>" << k_script << "</script>\n</body>\n</html>\n";
    return html.str();
}

void write_report(const ReportOptions& options, const fs::path& out) {
    const std::string html = render_report(options);
    if (out.has_parent_path() && !fs::is_directory(out.parent_path()))
        throw Error("report '" + out.string() + "'", "folder '" + out.parent_path().string() + "' does not exist");
    const fs::path tmp = dsp::temporary_path(out, ".tmp" + std::to_string(::getpid()));
    {
        std::ofstream file(tmp, std::ios::binary);
        file << html;
        if (!file.flush()) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw Error("report '" + out.string() + "'", "cannot be written");
        }
    }
    fs::rename(tmp, out);
}

}  // namespace mtag::data::report
