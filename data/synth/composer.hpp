#pragma once
// Procedural composition: turns a genre and a seed into a Score of note events. Every choice (tempo,
// meter, key and mode, progression, harmonic rhythm, swing, which roles play, their instruments,
// registers, voicings, patterns, densities, velocities, mix levels, fills) is drawn from the seed,
// so the same (style, seconds, seed) always gives the same score.
#include "data/synth/score.hpp"
#include "data/synth/styles.hpp"

#include <cstdint>

namespace mtag::data::synth {

// Composes `seconds` of music in `style`. Notes start at least a short margin (min(0.3 s, 10 % of
// the clip)) before the end, so that every note of the score is heard; parts left without notes are
// dropped, so sounding_families() is exactly the families that play. Throws mtag::Error when
// seconds <= 0.
Score compose(const Style& style, double seconds, std::uint64_t seed);

}  // namespace mtag::data::synth
