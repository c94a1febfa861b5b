#include "data/tag/ensemble.hpp"

#include "data/tag/parallel_tag.hpp"

#include "dsp/error.hpp"

#include <unistd.h>

#include <fstream>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

constexpr int ensemble_version = 1;

nlohmann::json read_ensemble_json(const fs::path& dir) {
    const fs::path file = dir / "ensemble.json";
    std::ifstream in(file);
    if (!in) throw Error("ensemble '" + dir.string() + "'", "cannot open ensemble.json");
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Error(std::string("'") + file.string() + "'", "is not a JSON object");
    if (j.value("ensemble_version", 0) != ensemble_version)
        throw Error(std::string("'") + file.string() + "'", "ensemble_version " + j.value("ensemble_version", nlohmann::json()).dump() +
                                                   " is not " + std::to_string(ensemble_version) +
                                                   " (written by another mtag version?)");
    if (!j.contains("members") || !j["members"].is_array() || j["members"].empty())
        throw Error(std::string("'") + file.string() + "'", "has no \"members\" list");
    return j;
}

// Every member run directory behind `models`, with the name each is reported under.
void expand(const fs::path& model, const std::string& name, std::vector<fs::path>& dirs, std::vector<std::string>& names) {
    if (!is_ensemble_dir(model)) {
        dirs.push_back(model);
        names.push_back(name);
        return;
    }
    for (const fs::path& member : ensemble_members(model)) {
        dirs.push_back(member);
        names.push_back(name + "/" + member.filename().string());
    }
}

std::string front_end_name(const RunCard& card) {
    return card.waveform ? "waveform" : dsp::to_string(card.features.kind);
}

// Tags and task of every member against the first's; the error names both models.
void check_compatible(const std::vector<const RunCard*>& cards, const std::vector<std::string>& names,
                      const std::string& where) {
    for (std::size_t m = 1; m < cards.size(); ++m) {
        if (cards[m]->tags != cards[0]->tags) {
            std::string detail;
            if (cards[m]->tags.size() != cards[0]->tags.size())
                detail = std::to_string(cards[0]->tags.size()) + " vs " + std::to_string(cards[m]->tags.size()) + " tags";
            else
                for (std::size_t t = 0; t < cards[0]->tags.size(); ++t)
                    if (cards[0]->tags[t] != cards[m]->tags[t]) {
                        detail = "tag " + std::to_string(t + 1) + " is '" + cards[0]->tags[t] + "' vs '" + cards[m]->tags[t] + "'";
                        break;
                    }
            throw Error(where, "models '" + names[0] + "' and '" + names[m] + "' have different tag lists (" + detail +
                                   "); an ensemble needs the same tags in the same order");
        }
        if (cards[m]->task != cards[0]->task)
            throw Error(where, "models '" + names[0] + "' and '" + names[m] + "' differ in task (" +
                                   to_string(cards[0]->task) + " vs " + to_string(cards[m]->task) + ")");
    }
}

}  // namespace

bool is_ensemble_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "ensemble.json", ec);
}

std::vector<fs::path> ensemble_members(const fs::path& dir) {
    const nlohmann::json j = read_ensemble_json(dir);
    std::vector<fs::path> members;
    for (const nlohmann::json& m : j["members"]) {
        if (!m.is_object() || !m.contains("dir") || !m["dir"].is_string())
            throw Error(std::string("'") + (dir / "ensemble.json").string() + "'", "a member has no \"dir\": " + m.dump());
        const fs::path member = dir / m["dir"].get<std::string>();
        if (is_ensemble_dir(member)) {
            for (const fs::path& inner : ensemble_members(member)) members.push_back(inner);
        } else {
            if (!fs::exists(member / "model.json"))
                throw Error("ensemble '" + dir.string() + "'", "member '" + member.string() + "' has no model.json");
            members.push_back(member);
        }
    }
    return members;
}

void save_ensemble(const fs::path& out, const std::vector<fs::path>& models, const std::string& mtag_version) {
    if (models.size() < 2) throw Error("mtag model ensemble", "an ensemble needs at least two models");
    if (fs::exists(out)) throw Error("--out " + out.string(), "already exists; choose a new directory");
    std::vector<std::string> names;
    for (const fs::path& m : models) names.push_back(m.string());
    const Ensemble ensemble(models, names);  // loads and checks every member
    const fs::path tmp = out.string() + ".tmp" + std::to_string(::getpid());
    fs::remove_all(tmp);
    try {
        nlohmann::json members = nlohmann::json::array();
        for (std::size_t i = 0; i < ensemble.size(); ++i) {
            const Tagger& member = ensemble.member(i);
            const fs::path source = member.run_dir();
            std::string base = fs::absolute(source).lexically_normal().filename().string();
            if (base.empty()) base = fs::absolute(source).lexically_normal().parent_path().filename().string();
            const std::string relative = "members/" + std::to_string(i + 1) + "-" + base;
            fs::create_directories(tmp / relative);
            for (const char* file : {"model.json", "model.safetensors", "config.json", "log.jsonl"})
                if (fs::exists(source / file)) fs::copy_file(source / file, tmp / relative / file);
            members.push_back({{"dir", relative},
                               {"source", fs::absolute(source).lexically_normal().string()},
                               {"preset", member.card().preset},
                               {"front_end", front_end_name(member.card())}});
        }
        const nlohmann::json card = {{"ensemble_version", ensemble_version},
                                     {"mtag_version", mtag_version},
                                     {"combine", "mean_probability"},
                                     {"task", to_string(ensemble.card().task)},
                                     {"tags", ensemble.card().tags},
                                     {"members", members}};
        std::ofstream file(tmp / "ensemble.json");
        file << card.dump(2) << "\n";
        if (!file.flush()) throw Error("--out " + out.string(), "cannot write ensemble.json");
        file.close();
        fs::rename(tmp, out);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
}

Ensemble::Ensemble(const std::vector<fs::path>& models, const std::vector<std::string>& names) {
    if (models.empty()) throw Error("ensemble", "no model given");
    std::vector<fs::path> dirs;
    for (std::size_t i = 0; i < models.size(); ++i) expand(models[i], i < names.size() ? names[i] : models[i].string(), dirs, m_names);
    std::vector<const RunCard*> cards;
    for (const fs::path& dir : dirs) {
        m_members.push_back(std::make_unique<Tagger>(dir));
        cards.push_back(&m_members.back()->card());
    }
    check_compatible(cards, m_names, "ensemble");
}

Ensemble::~Ensemble() = default;

std::int64_t Ensemble::embedding_size() const {
    std::int64_t size = 0;
    for (const auto& m : m_members) size += m->embedding_size();
    return size;
}

bool Ensemble::embedding_only() const {
    for (const auto& m : m_members)
        if (m->card().embedding_only) return true;
    return false;
}

std::vector<TagOptions> Ensemble::member_options(const TagOptions& base, bool automatic) const {
    std::vector<TagOptions> options(m_members.size(), base);
    if (automatic)
        for (std::size_t i = 0; i < m_members.size(); ++i)
            options[i].layout = m_members[i]->card().fixed_input ? ChunkLayout::card : ChunkLayout::all;
    return options;
}

std::unique_ptr<EnsembleSession> Ensemble::session(int per_file) const {
    auto s = std::make_unique<EnsembleSession>();
    s->m_ensemble = this;
    for (const auto& m : m_members) {
        std::vector<std::unique_ptr<Session>> group;
        for (int i = 0; i < std::max(1, per_file); ++i) group.push_back(m->session());
        s->m_sessions.push_back(std::move(group));
    }
    return s;
}

TagResult EnsembleSession::tag_file(const fs::path& path, const std::vector<TagOptions>& options) {
    std::vector<TagResult> results;
    for (std::size_t m = 0; m < m_sessions.size(); ++m) {
        std::vector<Session*> group;
        for (const auto& s : m_sessions[m]) group.push_back(s.get());
        results.push_back(tag_file_parallel(group, path, options[m]));
    }
    return combine_results(std::move(results), m_ensemble->m_names);
}

TagResult combine_results(std::vector<TagResult> results, const std::vector<std::string>& names) {
    if (results.size() == 1) return std::move(results.front());  // one model: its result, bit for bit
    TagResult out;
    const TagResult& first = results.front();
    const auto n = static_cast<float>(results.size());
    out.duration_seconds = first.duration_seconds;
    out.chunks = first.chunks;
    out.scores.assign(first.scores.size(), 0.0f);
    // Each member's share added in turn (r / n summed in float): two equal members give exactly the member.
    for (const TagResult& r : results)
        for (std::size_t t = 0; t < out.scores.size(); ++t) out.scores[t] += r.scores[t] / n;
    for (const TagResult& r : results) {
        out.embedding.insert(out.embedding.end(), r.embedding.begin(), r.embedding.end());
        out.decode_seconds += r.decode_seconds;
        out.feature_seconds += r.feature_seconds;
        out.inference_seconds += r.inference_seconds;
    }
    if (!first.taggram.empty()) {
        for (std::size_t m = 1; m < results.size(); ++m)
            if (results[m].chunks != first.chunks)
                throw Error("--taggram", "models '" + names[0] + "' and '" + names[m] + "' cut this file into " +
                                             std::to_string(first.chunks) + " and " + std::to_string(results[m].chunks) +
                                             " chunks; an ensemble's taggram needs members with the same chunk length "
                                             "and hop (tag with one model, or leave --taggram out)");
        out.taggram.assign(first.taggram.size(), 0.0f);
        for (const TagResult& r : results)
            for (std::size_t i = 0; i < out.taggram.size(); ++i) out.taggram[i] += r.taggram[i] / n;
    }
    return out;
}

}  // namespace mtag::data
