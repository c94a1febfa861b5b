#pragma once
// A composed clip as note events (the composer's output, the renderer's input) and the tag rules
// that read a clip's tags off its score, so that tags describe exactly what is rendered.
#include "data/synth/gm.hpp"

#include <string>
#include <vector>

namespace mtag::data::synth {

// Tempo tags, in quarter-note beats per minute of the score: `slow` below slow_below_bpm, `fast` at
// or above fast_from_bpm, and no tempo tag in between (a gap, so that no label sits on a boundary
// a listener could not hear).
inline constexpr double slow_below_bpm = 95.0;
inline constexpr double fast_from_bpm = 125.0;

// One instrument of the clip on its own MIDI channel with its own mix settings.
struct Part {
    std::string role;  // "drums", "bass", "comp", "lead", "pad"
    int channel = 0;   // MIDI channel, 0-based; percussion_channel for drums
    int program = 0;   // GM program 0-127; for drums the kit number on bank 128
    bool percussion = false;
    int volume = 100;      // CC7, 0-127
    int pan = 64;          // CC10, 0 left, 64 centre, 127 right
    int reverb_send = 40;  // CC91
    int chorus_send = 0;   // CC93
};

// One note: start and length in seconds from the start of the clip, the part it belongs to.
struct Note {
    double start = 0;
    double duration = 0;
    int part = 0;       // index into Score::parts
    int key = 60;       // MIDI key (drum sound on the percussion channel)
    int velocity = 90;  // 1-127
};

// A clip's music. Every part has at least one note; notes start before `seconds`.
struct Score {
    std::string style;       // the genre tag
    double seconds = 0;      // clip length
    double tempo_bpm = 120;  // quarter notes per minute
    int beats_per_bar = 4;
    int tonic = 0;          // pitch class of the key, 0 = C
    bool major = true;      // mode of the scale all harmony and melody are drawn from
    double peak_dbfs = -3;  // the rendered clip's peak level (part of the mix, varied per clip)
    std::vector<Part> parts;
    std::vector<Note> notes;
};

// The instrument families that sound in the clip: those of the parts with at least one note
// (family_of_program for melodic parts, drums for the percussion part), in all_families order.
std::vector<Family> sounding_families(const Score& score);

// The clip's tags in a fixed order: genre, families (sounding_families), "fast" or "slow" when the
// tempo is outside the gap, then "major" or "minor".
std::vector<std::string> score_tags(const Score& score);

// Every tag a corpus may use, for a given list of genres: genres, families, fast, slow, major, minor.
std::vector<std::string> tag_vocabulary(const std::vector<std::string>& genres);

}  // namespace mtag::data::synth
