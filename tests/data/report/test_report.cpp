// Tests data/report/report: every section is in the HTML with its content, the page is self-contained,
// and a missing run, a log without epochs or a corrupt eval result fail without leaving a file.
#include "data/report/report.hpp"
#include "dsp/error.hpp"
#include "support/temp_dir.hpp"
#include "tiny_run.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace mtag;
using namespace mtag::data;

TEST_CASE("report: every section with inline figures and no external resource", "[report]") {
    test::TempDir dir("report_sections");
    const auto run = test::train_tiny_tone_run(dir.path(), 4);
    // An eval result of the run on the corpus (the shape mtag eval prints), with a confusion of a group.
    test::write_text(dir / "eval.json",
                     R"({"models":[")" + run.string() + R"("],"data":")" + (dir / "manifest.csv").string() +
                         R"(","split":"test","task":"multilabel","roc_auc_macro":0.9,"pr_auc_macro":0.8,
"per_tag":[{"tag":"high","roc_auc":0.95,"pr_auc":0.9,"positives":3},{"tag":"low","roc_auc":0.85,"pr_auc":0.7,"positives":3}],
"skipped_tags":[],"groups":{"pitch":{"tags":["high","low"],"clips":6,"left_out":0,"accuracy":0.8,"confusion":[[3,0],[1,2]]}},
"curves":[{"tag":"high","fpr":[0,0,1],"tpr":[0,1,1],"recall":[0,1,1],"precision":[1,1,0.5]}],"clips":6})");
    report::ReportOptions options{.run = run, .eval = dir / "eval.json", .taggram_clips = 2, .mtag_version = "test"};
    report::write_report(options, dir / "report.html");
    std::ifstream in(dir / "report.html");
    const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* const* id = report::report_section_ids(); *id; ++id) CHECK_THAT(html, Catch::Contains("<section id=\"" + std::string(*id) + "\">"));
    CHECK_THAT(html, Catch::Contains("<td>cnn1d</td>"));          // architecture
    CHECK_THAT(html, Catch::Contains("Overfitting") || Catch::Contains("Generalisation gap"));
    CHECK_THAT(html, Catch::Contains("id=\"per-tag-table\""));
    CHECK_THAT(html, Catch::Contains("Confusion (pitch)") || Catch::Contains("confusion0-"));
    CHECK_THAT(html, Catch::Contains("clip34.wav"));              // the first test clip's taggram
    std::size_t svgs = 0;
    for (std::size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
    CHECK(svgs == 6);  // curves, tags, roc, confusion and two taggrams
    CHECK(html.find("src=\"http") == std::string::npos);
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("<script src") == std::string::npos);
}

TEST_CASE("report: bad inputs are errors that leave no file", "[report]") {
    test::TempDir dir("report_errors");
    report::ReportOptions options;
    options.run = dir / "missing";
    CHECK_THROWS_WITH(report::write_report(options, dir / "a.html"), Catch::Contains("missing") && Catch::Contains("not a folder"));
    std::filesystem::create_directories(dir / "empty_run");
    test::write_text(dir / "empty_run" / "log.jsonl", "");
    options.run = dir / "empty_run";
    CHECK_THROWS_WITH(report::write_report(options, dir / "a.html"), Catch::Contains("has no epoch"));
    CHECK_FALSE(std::filesystem::exists(dir / "a.html"));
}
