#pragma once
// Diatonic harmony for the composer: keys, scale steps, chords on scale degrees and their voicings.
// Everything stays inside the key's scale (the raised leading tone of harmonic minor in V chords is
// the one exception), so that a clip's `major`/`minor` tag is the mode of all its pitch material.
#include <string_view>
#include <vector>

namespace mtag::data::synth {

// A key: tonic pitch class (0 = C) and mode (major = Ionian, minor = natural minor).
struct Key {
    int tonic = 0;
    bool major = true;
    bool harmonic_minor = false;  // minor keys raise degree 7 inside chords on degree 5 (V, V7)
};

// A chord built by stacking scale thirds on a degree.
struct Chord {
    int degree = 0;          // 0-6 (0 = tonic)
    std::vector<int> tones;  // pitch-class offsets from C, root first: root, third, fifth[, 7th][, 9th]
};

// The pitch class (0-11) of any semitone count, negative ones included.
inline int pitch_class_of(int semitones) {
    return ((semitones % 12) + 12) % 12;
}

// Semitones from the tonic to scale step `step` (any integer; 7 is the octave) in the key's mode,
// without the harmonic-minor alteration.
int scale_offset(const Key& key, int step);

// The triad (with seventh and/or ninth when asked) on scale degree 0-6.
Chord make_chord(const Key& key, int degree, bool seventh, bool add9);

// Parses "0 4 5 3" into degrees; throws mtag::Error on anything else.
std::vector<int> parse_progression(std::string_view text);

// The MIDI key of pitch class `pitch_class` nearest to `target` (ties go down).
int nearest_key(int pitch_class, int target);

// A chord's keys, ascending: the tones of `inversion` (0 = root position) stacked closely upward from
// the first key at or above `lowest`; `open` drops the second-highest key an octave (drop-2).
std::vector<int> voice_chord(const Chord& chord, int lowest, int inversion, bool open);

// True when pitch class `pitch_class` belongs to the key's scale.
bool in_scale(const Key& key, int pitch_class);

}  // namespace mtag::data::synth
