// Tag rules of the synthetic corpus.
#include "data/synth/score.hpp"

#include <algorithm>

namespace mtag::data::synth {

std::vector<Family> sounding_families(const Score& score) {
    std::vector<bool> has_notes(score.parts.size(), false);
    for (const Note& note : score.notes) {
        if (note.part >= 0 && static_cast<std::size_t>(note.part) < has_notes.size() && note.velocity > 0)
            has_notes[static_cast<std::size_t>(note.part)] = true;
    }
    std::vector<Family> found;
    for (std::size_t i = 0; i < score.parts.size(); ++i) {
        if (!has_notes[i]) continue;
        const Part& part = score.parts[i];
        const std::optional<Family> family =
            part.percussion ? std::optional<Family>(Family::drums) : family_of_program(part.program);
        if (family) found.push_back(*family);
    }
    std::vector<Family> ordered;
    for (Family family : all_families) {
        if (std::find(found.begin(), found.end(), family) != found.end()) ordered.push_back(family);
    }
    return ordered;
}

std::vector<std::string> score_tags(const Score& score) {
    std::vector<std::string> tags{score.style};
    for (Family family : sounding_families(score)) tags.emplace_back(family_name(family));
    if (score.tempo_bpm < slow_below_bpm) tags.emplace_back("slow");
    if (score.tempo_bpm >= fast_from_bpm) tags.emplace_back("fast");
    tags.emplace_back(score.major ? "major" : "minor");
    return tags;
}

std::vector<std::string> tag_vocabulary(const std::vector<std::string>& genres) {
    std::vector<std::string> tags = genres;
    for (Family family : all_families) tags.emplace_back(family_name(family));
    for (const char* tag : {"fast", "slow", "major", "minor"}) tags.emplace_back(tag);
    return tags;
}

}  // namespace mtag::data::synth
