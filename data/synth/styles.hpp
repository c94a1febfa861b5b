#pragma once
// The genres of the synthetic corpus: for each, its tempo range, meters, harmony (progressions in
// major and minor), drum patterns and kits, and the instrument pools and rhythm patterns of each role.
//
// Patterns are strings with one character per sixteenth note (16 per 4/4 bar, 12 per 3/4 bar);
// '.' is a rest. Drum and comp hits: 'X' accent, 'x' normal, 'o' ghost. Bass hits choose the note
// from the harmony: 'r' root, 'f' fifth, 't' third, 'o' root an octave up, 'n' next chord's root,
// 'a' scale step leading into the next chord's root, 'w' walking (a nearby chord or scale tone);
// upper case is accented.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mtag::data::synth {

// One drum sound of a pattern.
struct DrumLane {
    int key = 0;  // GM percussion key (gm.hpp drum::)
    std::string_view hits;
};

// A one-bar drum groove.
struct DrumPattern {
    std::vector<DrumLane> lanes;
};

// A one-bar rhythm for the chord instrument.
struct CompPattern {
    std::string_view hits;
    double gate = 0.9;      // sounding fraction of the time to the next hit
    bool arpeggio = false;  // one chord tone per hit instead of the whole chord
};

// A one-bar bass line.
struct BassPattern {
    std::string_view hits;
    double gate = 0.9;
};

// The instruments a role may use and how often the role plays at all.
struct RolePool {
    double probability = 0;     // chance the role is present in a clip
    std::vector<int> programs;  // GM programs, each with a family (gm.hpp)
};

// One genre.
struct Style {
    std::string name;
    int tempo_min = 90, tempo_max = 130;  // quarter-note BPM, inclusive
    std::vector<int> meters{4};           // beats per bar to draw from (repeat for weight)
    double minor_probability = 0.5;
    bool harmonic_minor = false;              // raise the leading tone in V chords of minor keys
    double swing_min = 0.5, swing_max = 0.5;  // off-beat eighth position within the beat
    double seventh_probability = 0;           // chance a clip uses seventh chords throughout
    double add9_probability = 0;              // chance a clip adds ninths to its chords
    // Progressions as scale degrees 0-6 separated by spaces; each starts on the tonic.
    std::vector<std::string_view> major_progressions, minor_progressions;
    std::vector<double> bars_per_chord{1};  // harmonic rhythm choices
    double drums_probability = 0;
    std::vector<int> kits;  // drum kits on bank 128 (gm.hpp kit::)
    std::vector<DrumPattern> drum_patterns;
    RolePool bass, comp, lead, pad;
    std::vector<BassPattern> bass_patterns;
    std::vector<CompPattern> comp_patterns;
    double lead_density_min = 0.2, lead_density_max = 0.4;  // onsets per sixteenth, before weights
    int reverb_min = 20, reverb_max = 60;                   // CC91 send range
};

// The built-in genres, in tag order (rock, jazz, classical, electronic, folk, reggae, hiphop, latin).
std::span<const Style> styles();

// Every GM program any style may use (sorted, unique): what a soundfont must provide.
std::vector<int> style_programs();

}  // namespace mtag::data::synth
