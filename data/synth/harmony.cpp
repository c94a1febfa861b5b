// Diatonic harmony: scales, chords, voicings.
#include "data/synth/harmony.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace mtag::data::synth {
namespace {

constexpr std::array<int, 7> major_steps = {0, 2, 4, 5, 7, 9, 11};
constexpr std::array<int, 7> minor_steps = {0, 2, 3, 5, 7, 8, 10};

int floor_div(int a, int b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
}  // namespace

int scale_offset(const Key& key, int step) {
    const int octave = floor_div(step, 7);
    const int index = step - 7 * octave;
    return 12 * octave + (key.major ? major_steps : minor_steps)[static_cast<std::size_t>(index)];
}

Chord make_chord(const Key& key, int degree, bool seventh, bool add9) {
    Chord chord;
    chord.degree = degree;
    std::vector<int> steps = {degree, degree + 2, degree + 4};
    if (seventh) steps.push_back(degree + 6);
    if (add9) steps.push_back(degree + 8);
    for (int step : steps) {
        int offset = scale_offset(key, step);
        // Harmonic minor: the leading tone (step 6 of the scale) is raised inside the dominant.
        if (!key.major && key.harmonic_minor && degree == 4 && step % 7 == 6) offset += 1;
        chord.tones.push_back(pitch_class_of(key.tonic + offset));
    }
    return chord;
}

std::vector<int> parse_progression(std::string_view text) {
    std::vector<int> degrees;
    for (char c : text) {
        if (c == ' ') continue;
        if (c < '0' || c > '6')
            throw Error("chord progression '" + std::string(text) + "'", "degrees must be 0-6");
        degrees.push_back(c - '0');
    }
    if (degrees.empty()) throw Error("chord progression", "is empty");
    return degrees;
}

int nearest_key(int pitch_class, int target) {
    const int below = target - pitch_class_of(target - pitch_class);
    return (target - below) <= (below + 12 - target) ? below : below + 12;
}

std::vector<int> voice_chord(const Chord& chord, int lowest, int inversion, bool open) {
    const auto n = static_cast<int>(chord.tones.size());
    std::vector<int> keys;
    int key = lowest + pitch_class_of(chord.tones[static_cast<std::size_t>(inversion % n)] - lowest);
    keys.push_back(key);
    for (int i = 1; i < n; ++i) {
        const int pc = chord.tones[static_cast<std::size_t>((inversion + i) % n)];
        key = key + 1 + pitch_class_of(pc - key - 1);  // next key above with that pitch class
        keys.push_back(key);
    }
    if (open && n >= 3) {
        keys[static_cast<std::size_t>(n - 2)] -= 12;
        std::sort(keys.begin(), keys.end());
    }
    return keys;
}

bool in_scale(const Key& key, int pitch_class) {
    for (int step = 0; step < 7; ++step) {
        if (pitch_class_of(key.tonic + scale_offset(key, step)) == pitch_class_of(pitch_class)) return true;
    }
    return false;
}

}  // namespace mtag::data::synth
