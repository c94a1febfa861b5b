// Tests data/plot/eval_result and eval_plots: mtag eval's JSON is read into typed fields, the three plots
// draw, and corrupt or incomplete results are errors that name the file.
#include "data/plot/eval_plots.hpp"
#include "support/png_image.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

using namespace mtag;
using namespace mtag::data::plot;

namespace {

const char* k_eval = R"({"models":["run"],"data":"corpus","split":"test","task":"singlelabel","roc_auc_macro":0.8,
"pr_auc_macro":0.7,"per_tag":[{"tag":"rock","roc_auc":0.9,"pr_auc":0.8,"positives":3},
{"tag":"jazz","roc_auc":0.7,"pr_auc":0.6,"positives":2},{"tag":"pop","roc_auc":null,"pr_auc":null,"positives":0}],
"skipped_tags":["pop"],"accuracy":0.6,"confusion":{"labels":["rock","jazz","pop"],"matrix":[[3,0,0],[1,1,0],[0,0,0]]},
"curves":[{"tag":"rock","fpr":[0,0,1],"tpr":[0,1,1],"recall":[0,1,1],"precision":[1,1,0.6]},
{"tag":"jazz","fpr":[0,0.33,1],"tpr":[0,0.5,1],"recall":[0,0.5,1],"precision":[1,0.5,0.4]}],"clips":5})";

}  // namespace

TEST_CASE("eval result: fields, nulls, confusion and curves", "[plot]") {
    const EvalResult r = parse_eval(k_eval, "eval.json");
    CHECK(r.split == "test");
    REQUIRE(r.per_tag.size() == 3);
    CHECK(std::isnan(r.per_tag[2].roc_auc));
    REQUIRE(r.confusions.size() == 1);
    CHECK(r.confusions[0].matrix[1][0] == 1);
    REQUIRE(r.curves.size() == 2);
    CHECK(r.accuracy.value() == Approx(0.6));
}

TEST_CASE("eval plots: confusion, roc and tags draw, the confusion's diagonal is bright", "[plot]") {
    test::TempDir dir("plot_eval");
    const EvalResult r = parse_eval(k_eval, "eval.json");
    plot_roc(r).save(dir / "roc.png");
    plot_tag_scores(r).save(dir / "tags.svg");
    EvalPlotOptions options;
    options.cmap = ColorMap::viridis;
    plot_confusion(r, "", options).save(dir / "confusion.png");
    CHECK(std::filesystem::file_size(dir / "roc.png") > 1000);
    CHECK(std::filesystem::file_size(dir / "tags.svg") > 1000);
    const test::PngImage image(dir / "confusion.png");
    CHECK(image.width() > 100);
    CHECK_THROWS_WITH(plot_confusion(r, "genre"), Catch::Contains("no such confusion"));
}

TEST_CASE("eval result: corrupt or incomplete files are errors naming the file", "[plot]") {
    test::TempDir dir("plot_eval_errors");
    CHECK_THROWS_WITH(read_eval(dir / "missing.json"), Catch::Contains("missing.json") && Catch::Contains("cannot be read"));
    std::ofstream(dir / "corrupt.json") << "{\"per_tag\": [";
    CHECK_THROWS_WITH(read_eval(dir / "corrupt.json"), Catch::Contains("corrupt.json") && Catch::Contains("not a JSON object"));
    CHECK_THROWS_WITH(parse_eval("{\"roc_auc_macro\": 1}", "x.json"), Catch::Contains("lacks \"per_tag\""));
    CHECK_THROWS_WITH(parse_eval(R"({"per_tag":[{"tag":"a","roc_auc":"high","pr_auc":1}],"roc_auc_macro":1,"pr_auc_macro":1})", "x.json"),
                      Catch::Contains("\"roc_auc\" is not a number"));
    const EvalResult multilabel = parse_eval(R"({"per_tag":[],"roc_auc_macro":null,"pr_auc_macro":null})", "x.json");
    CHECK_THROWS_WITH(plot_confusion(multilabel), Catch::Contains("--group"));
    CHECK_THROWS_WITH(plot_roc(multilabel), Catch::Contains("no curves"));
    CHECK_THROWS_WITH(plot_tag_scores(multilabel), Catch::Contains("no tag has a ROC-AUC"));
}
