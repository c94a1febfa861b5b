#pragma once
// Ensembles of trained runs: `mtag tag` and `mtag eval` with several --model, and ensemble directories
// (`mtag model ensemble`). Each member featurises the audio with its own card (front end, sample rate,
// chunking, normalisation: architectures and front ends mix freely) and the members' clip-level probabilities
// are averaged with equal weights (the "mean of probabilities" of torch/sklearn soft voting). The members
// must output the same tags in the same order and the same task; anything else is an error naming them.
//
// An ensemble directory holds copies of its members, so it can be moved or shipped as one model:
//   DIR/ensemble.json          {"ensemble_version": 1, "members": [{"dir": "members/1-NAME", "source": ...,
//                              "preset": ...}, ...], "tags": [...], "task": ..., "combine": "mean_probability"}
//   DIR/members/K-NAME/        model.json, model.safetensors and config.json (and log.jsonl) of member K
// Giving an ensemble directory where a model is expected stands for its members: an ensemble listed beside
// other models contributes each of its members with the same weight as the others (members are flattened).
#include "data/tag/tagger.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mtag::data {

// True when `dir` holds ensemble.json.
bool is_ensemble_dir(const std::filesystem::path& dir);

// The member run directories of an ensemble directory (nested ensembles flattened). Throws naming the file.
std::vector<std::filesystem::path> ensemble_members(const std::filesystem::path& dir);

// Writes an ensemble directory of copies of `models` (run directories or ensemble directories) at `out`,
// atomically (built under a temporary name, then renamed). Throws when `out` exists, a member cannot be
// loaded, or the members' tags or tasks differ.
void save_ensemble(const std::filesystem::path& out, const std::vector<std::filesystem::path>& models,
                   const std::string& mtag_version);

class EnsembleSession;

// The loaded members of an ensemble (one member: plain tagging, bit for bit).
class Ensemble {
  public:
    // Loads every model (run or ensemble directory; `names` are what the user typed, for messages).
    Ensemble(const std::vector<std::filesystem::path>& models, const std::vector<std::string>& names);
    ~Ensemble();

    std::size_t size() const { return m_members.size(); }
    const Tagger& member(std::size_t i) const { return *m_members[i]; }
    // The first member's card: tags and task are the ensemble's.
    const RunCard& card() const { return m_members.front()->card(); }
    const std::filesystem::path& run_dir() const { return m_members.front()->run_dir(); }
    std::size_t n_tags() const { return card().tags.size(); }
    // The members' embeddings concatenated, in member order.
    std::int64_t embedding_size() const;
    // True when some member is a feature extractor without a trained head.
    bool embedding_only() const;

    // Per-member options: `base` with the chunk layout chosen per member when `automatic` (the card's
    // layout for fixed-input models, else all chunks: mtag tag --chunks auto).
    std::vector<TagOptions> member_options(const TagOptions& base, bool automatic) const;

    // One worker's sessions: `per_file` per member, which share each file's windows on threads of their own
    // (data/tag/parallel_tag; bit-identical to one session). Thread-safe.
    std::unique_ptr<EnsembleSession> session(int per_file = 1) const;

  private:
    std::vector<std::unique_ptr<Tagger>> m_members;
    std::vector<std::string> m_names;
    friend class EnsembleSession;
};

// One worker's view of an ensemble. Not thread-safe.
class EnsembleSession {
  public:
    // Tags a file with every member and combines: scores averaged; embeddings concatenated; taggrams
    // averaged chunk by chunk (an error when the members cut the file into different chunk counts);
    // duration and chunks are the first member's; timings summed.
    TagResult tag_file(const std::filesystem::path& path, const std::vector<TagOptions>& options);

  private:
    friend class Ensemble;
    const Ensemble* m_ensemble = nullptr;
    std::vector<std::vector<std::unique_ptr<Session>>> m_sessions;  // [member][session]
};

// Member results combined as EnsembleSession::tag_file does (exposed for tests).
TagResult combine_results(std::vector<TagResult> results, const std::vector<std::string>& names);

}  // namespace mtag::data
