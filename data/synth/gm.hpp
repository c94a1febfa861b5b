#pragma once
// General MIDI tables the synthetic corpus relies on: instrument families by program range, drum keys.
// ref: MIDI Manufacturers Association, General MIDI Level 1 sound set (programs numbered 0-127 here,
// i.e. GM's 1-128 minus one).
#include <array>
#include <optional>
#include <string_view>

namespace mtag::data::synth {

// The instrument-family tags of the demo corpus, in the order tags are listed.
enum class Family { piano, organ, guitar, bass, strings, brass, woodwind, synth, voice, drums };
inline constexpr std::array<Family, 10> all_families = {
    Family::piano, Family::organ,    Family::guitar, Family::bass,  Family::strings,
    Family::brass, Family::woodwind, Family::synth,  Family::voice, Family::drums};

// The tag name of a family ("piano", "organ", ...).
std::string_view family_name(Family family);

// The family of a melodic GM program (0-127), by GM category: 0-7 piano, 16-20 organ (drawbar,
// percussive, rock, church, reed organ), 24-31 guitar, 32-39 bass (incl. synth bass), 40-45 and
// 48-51 strings (incl. synth strings), 52-54 voice (choir aahs, voice oohs, synth voice), 56-63 brass
// (incl. synth brass), 64-79 woodwind (reed and pipe), 80-95 synth (leads and pads). Every other
// program (chromatic percussion, accordion/harmonica, harp, timpani, orchestra hit, effects, ethnic,
// percussive, sound effects) has no family and the corpus never uses it. Drums are channel 10, not a
// program.
std::optional<Family> family_of_program(int program);

// GM percussion keys (channel 10) used by the drum patterns.
namespace drum {
inline constexpr int kick = 36, side_stick = 37, snare = 38, clap = 39, low_tom = 45, closed_hat = 42,
                     pedal_hat = 44, open_hat = 46, mid_tom = 47, high_tom = 50, crash = 49, ride = 51,
                     ride_bell = 53, tambourine = 54, cowbell = 56, high_bongo = 60, low_bongo = 61,
                     mute_conga = 62, open_conga = 63, low_conga = 64, cabasa = 69, maracas = 70, claves = 75;
}  // namespace drum

// GM drum kits by program on bank 128 (the common GS layout; TimGM6mb has all of them).
namespace kit {
inline constexpr int standard = 0, room = 8, power = 16, electronic = 24, tr808 = 25, jazz = 32, brush = 40;
}  // namespace kit

// The MIDI channel (0-based) GM reserves for percussion.
inline constexpr int percussion_channel = 9;

}  // namespace mtag::data::synth
