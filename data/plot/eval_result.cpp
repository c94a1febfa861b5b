#include "data/plot/eval_result.hpp"

#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

namespace mtag::data::plot {

namespace {

using nlohmann::json;

double number(const json& j, const std::string& key, const std::string& where) {
    if (!j.contains(key)) throw Error(where, "lacks \"" + key + "\" (is this the output of mtag eval?)");
    if (j[key].is_null()) return NAN;
    if (!j[key].is_number()) throw Error(where, "\"" + key + "\" is not a number");
    return j[key].get<double>();
}

std::vector<double> numbers(const json& j, const std::string& key, const std::string& where) {
    if (!j.contains(key) || !j[key].is_array()) throw Error(where, "curve lacks the array \"" + key + "\"");
    std::vector<double> out;
    for (const json& v : j[key]) out.push_back(v.is_number() ? v.get<double>() : NAN);
    return out;
}

Confusion read_confusion(const std::string& name, const json& labels, const json& matrix, const std::string& where) {
    Confusion c;
    c.name = name;
    if (!labels.is_array() || !matrix.is_array() || matrix.size() != labels.size())
        throw Error(where, "confusion '" + name + "': labels and matrix rows differ in number");
    for (const json& l : labels) c.labels.push_back(l.get<std::string>());
    for (const json& row : matrix) {
        if (!row.is_array() || row.size() != labels.size())
            throw Error(where, "confusion '" + name + "': a row has " + std::to_string(row.size()) + " counts, expected " +
                                   std::to_string(labels.size()));
        std::vector<long long> counts;
        for (const json& v : row) counts.push_back(v.get<long long>());
        c.matrix.push_back(std::move(counts));
    }
    return c;
}

}  // namespace

EvalResult parse_eval(const std::string& text, const std::string& where) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(where, "is not a JSON object (save the output of `mtag eval ... > eval.json`)");
    EvalResult r;
    try {
        if (!j.contains("per_tag") || !j["per_tag"].is_array())
            throw Error(where, "lacks \"per_tag\" (is this the output of mtag eval?)");
        if (j.contains("models")) r.models = j["models"].get<std::vector<std::string>>();
        if (j.contains("data")) r.data = j["data"].get<std::string>();
        if (j.contains("split")) r.split = j["split"].get<std::string>();
        if (j.contains("task")) r.task = j["task"].get<std::string>();
        if (j.contains("clips")) r.clips = j["clips"].get<long long>();
        r.roc_auc_macro = number(j, "roc_auc_macro", where);
        r.pr_auc_macro = number(j, "pr_auc_macro", where);
        if (j.contains("accuracy") && j["accuracy"].is_number()) r.accuracy = j["accuracy"].get<double>();
        for (const json& t : j["per_tag"]) {
            if (!t.is_object() || !t.contains("tag")) throw Error(where, "a per_tag entry lacks \"tag\"");
            r.per_tag.push_back({t["tag"].get<std::string>(), number(t, "roc_auc", where), number(t, "pr_auc", where),
                                 t.value("positives", 0LL)});
        }
        if (j.contains("confusion") && j["confusion"].is_object())
            r.confusions.push_back(
                read_confusion("confusion", j["confusion"].at("labels"), j["confusion"].at("matrix"), where));
        if (j.contains("groups") && j["groups"].is_object())
            for (const auto& [name, g] : j["groups"].items())
                if (g.contains("confusion")) r.confusions.push_back(read_confusion(name, g.at("tags"), g.at("confusion"), where));
        if (j.contains("curves") && j["curves"].is_array())
            for (const json& c : j["curves"])
                r.curves.push_back({c.at("tag").get<std::string>(), numbers(c, "fpr", where), numbers(c, "tpr", where),
                                    numbers(c, "recall", where), numbers(c, "precision", where)});
    } catch (const json::exception& e) {
        throw Error(where, std::string("is not a valid mtag eval result: ") + e.what());
    }
    return r;
}

EvalResult read_eval(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw Error("eval result '" + path.string() + "'", "cannot be read (does it exist?)");
    std::stringstream text;
    text << in.rdbuf();
    return parse_eval(text.str(), "eval result '" + path.string() + "'");
}

}  // namespace mtag::data::plot
