// The genre table of the synthetic corpus. Programs are GM numbers minus one (gm.hpp).
#include "data/synth/styles.hpp"

#include "data/synth/gm.hpp"

#include <algorithm>

namespace mtag::data::synth {
namespace {

using namespace drum;

Style rock() {
    Style s;
    s.name = "rock";
    s.tempo_min = 78, s.tempo_max = 168;
    s.minor_probability = 0.45;
    s.seventh_probability = 0.05;
    s.major_progressions = {"0 4 5 3", "0 3 4 3", "0 5 3 4", "0 3 0 4", "0 2 3 4"};
    s.minor_progressions = {"0 5 2 6", "0 3 4 0", "0 6 5 6", "0 3 6 2"};
    s.bars_per_chord = {1, 1, 2, 0.5};
    s.drums_probability = 0.95;
    s.kits = {kit::standard, kit::room, kit::power};
    s.drum_patterns = {
        {{{kick, "X.......X.x....."}, {snare, "....X.......X..."}, {closed_hat, "x.x.x.x.x.x.x.x."}}},
        {{{kick, "X.x.....X.x..x.."}, {snare, "....X..o....X..."}, {closed_hat, "XxxxXxxxXxxxXxxx"}}},
        {{{kick, "X...X...X...X..."}, {snare, "....X.......X..."}, {ride, "x.x.x.x.x.x.x.x."}}},
        {{{kick, "X.........X....."}, {snare, "........X......."}, {closed_hat, "x.x.x.x.x.x.x.x."}}},
    };
    s.bass = {0.95, {33, 34, 35}};
    s.bass_patterns = {{"r.r.r.r.r.r.r.r.", 0.8},
                       {"R.......r.r.f...", 0.9},
                       {"r...r...r...r...", 0.9},
                       {"R.....r.r.....f.", 0.85}};
    s.comp = {0.9, {29, 30, 27, 25, 0, 17, 18}};
    s.comp_patterns = {{"X.......x.......", 0.95},
                       {"X.x.x.x.X.x.x.x.", 0.85},
                       {"X..x..x.X..x..x.", 0.8},
                       {"X...............", 1.0}};
    s.lead = {0.8, {29, 30, 27, 66, 18, 53, 81}};
    s.lead_density_min = 0.2, s.lead_density_max = 0.45;
    s.pad = {0.3, {48, 49, 89, 16}};
    s.reverb_min = 20, s.reverb_max = 60;
    return s;
}

Style jazz() {
    Style s;
    s.name = "jazz";
    s.tempo_min = 64, s.tempo_max = 210;
    s.meters = {4, 4, 4, 3};
    s.minor_probability = 0.4;
    s.harmonic_minor = true;
    s.swing_min = 0.6, s.swing_max = 0.68;
    s.seventh_probability = 1.0;
    s.add9_probability = 0.3;
    s.major_progressions = {"0 0 1 4", "0 5 1 4", "0 3 1 4", "0 3 2 5 1 4 0 0"};
    s.minor_progressions = {"0 3 1 4", "0 0 1 4", "0 5 1 4", "0 3 6 2"};
    s.bars_per_chord = {1, 1, 0.5, 2};
    s.drums_probability = 0.85;
    s.kits = {kit::jazz, kit::brush};
    s.drum_patterns = {
        {{{ride, "x...X.x.x...X.x."},
          {pedal_hat, "....x.......x..."},
          {kick, "o...o...o...o..."},
          {snare, "......o.......o."}}},
        {{{snare, "x.o.x.o.x.o.x.o."}, {pedal_hat, "....x.......x..."}, {kick, "o.......o......."}}},
        {{{ride, "x...X.x.x...X.x."}, {pedal_hat, "....x.......x..."}, {snare, "..........o....o"}}},
        {{{ride, "X...x.x.x..."}, {pedal_hat, "....x...x..."}, {kick, "o..........."}}},
        {{{snare, "x.o.x.o.x.o."}, {pedal_hat, "....x...x..."}}},
    };
    s.bass = {0.95, {32, 33, 35}};
    s.bass_patterns = {{"r...w...w...a...", 0.95},
                       {"r.......f.......", 0.95},
                       {"r...t...f...a...", 0.9},
                       {"r...w...a...", 0.95},
                       {"r...f...f...", 0.9}};
    s.comp = {0.9, {0, 1, 4, 26, 16, 5}};
    s.comp_patterns = {{"X.....x.........", 0.6},  {"....x.......x...", 0.5}, {"X.......x.....x.", 0.6},
                       {"..x.....x...x...", 0.55}, {"X.....x.....", 0.6},     {"....x...x...", 0.5}};
    s.lead = {0.85, {65, 66, 56, 57, 73, 71, 26, 0, 64}};
    s.lead_density_min = 0.25, s.lead_density_max = 0.55;
    s.pad = {0.2, {48, 61, 52, 49}};
    s.reverb_min = 30, s.reverb_max = 70;
    return s;
}

Style classical() {
    Style s;
    s.name = "classical";
    s.tempo_min = 54, s.tempo_max = 160;
    s.meters = {4, 4, 3};
    s.minor_probability = 0.45;
    s.harmonic_minor = true;
    s.seventh_probability = 0.15;
    s.major_progressions = {"0 3 4 0", "0 5 3 4", "0 1 4 0", "0 3 1 4", "0 4 5 2 3 0 3 4"};
    s.minor_progressions = {"0 3 4 0", "0 5 3 4", "0 3 6 2 5 1 4 0", "0 1 4 0"};
    s.bars_per_chord = {1, 2, 0.5};
    s.drums_probability = 0;
    s.bass = {0.8, {42, 43, 70, 0, 58}};
    s.bass_patterns = {{"R.......r.......", 0.95},
                       {"r...r...r...r...", 0.9},
                       {"R...............", 0.98},
                       {"R...........", 0.98},
                       {"r...r...r...", 0.9}};
    s.comp = {0.9, {0, 48, 49, 6, 19, 45, 44}};
    s.comp_patterns = {{"x.x.x.x.x.x.x.x.", 0.95, true},
                       {"xxxxxxxxxxxxxxxx", 0.95, true},
                       {"X...x...x...x...", 0.9},
                       {"X...............", 1.0},
                       {"X...x...x...", 0.9},
                       {"x.x.x.x.x.x.", 0.95, true}};
    s.lead = {0.85, {40, 41, 73, 68, 71, 60, 56, 0, 52, 74, 42}};
    s.lead_density_min = 0.2, s.lead_density_max = 0.5;
    s.pad = {0.35, {48, 49, 60, 52, 19}};
    s.reverb_min = 50, s.reverb_max = 95;
    return s;
}

Style electronic() {
    Style s;
    s.name = "electronic";
    s.tempo_min = 88, s.tempo_max = 150;
    s.minor_probability = 0.6;
    s.swing_min = 0.5, s.swing_max = 0.54;
    s.seventh_probability = 0.3;
    s.add9_probability = 0.35;
    s.major_progressions = {"0 4 5 3", "0 3 0 4", "0 5 3 4", "0 0 3 3"};
    s.minor_progressions = {"0 5 2 6", "0 0 5 6", "0 3 5 4", "0 6 5 6", "0 0 0 0"};
    s.bars_per_chord = {1, 2};
    s.drums_probability = 0.95;
    s.kits = {kit::electronic, kit::tr808, kit::standard};
    s.drum_patterns = {
        {{{kick, "X...X...X...X..."}, {clap, "....X.......X..."}, {open_hat, "..x...x...x...x."}}},
        {{{kick, "X...X...X...X..."}, {snare, "....X.......X..."}, {closed_hat, "xxxxxxxxxxxxxxxx"}}},
        {{{kick, "X.....x...x....."}, {snare, "....X.......X..o"}, {closed_hat, "x.x.x.x.x.x.x.x."}}},
        {{{kick, "X..x..x...X....."},
          {clap, "....X.......X..."},
          {open_hat, "..x...x...x...x."},
          {maracas, "xoxoxoxoxoxoxoxo"}}},
    };
    s.bass = {0.95, {38, 39, 33}};
    s.bass_patterns = {{"..r...r...r...r.", 0.5},
                       {"r.r.r.r.r.r.r.r.", 0.4},
                       {"R..r..r.R..r..r.", 0.6},
                       {"R...............", 1.0}};
    s.comp = {0.85, {90, 88, 4, 5, 62, 50, 81, 80}};
    s.comp_patterns = {{"..x...x...x...x.", 0.35},
                       {"x.x.x.x.x.x.x.x.", 0.8, true},
                       {"xxxxxxxxxxxxxxxx", 0.7, true},
                       {"X...............", 1.0},
                       {"X..X..X...X..X..", 0.5}};
    s.lead = {0.75, {80, 81, 84, 85, 87, 4, 54, 53}};
    s.lead_density_min = 0.2, s.lead_density_max = 0.5;
    s.pad = {0.6, {88, 89, 91, 94, 95, 50, 54, 52}};
    s.reverb_min = 20, s.reverb_max = 70;
    return s;
}

Style folk() {
    Style s;
    s.name = "folk";
    s.tempo_min = 66, s.tempo_max = 160;
    s.meters = {4, 4, 3};
    s.minor_probability = 0.4;
    s.swing_min = 0.5, s.swing_max = 0.58;
    s.seventh_probability = 0.05;
    s.major_progressions = {"0 3 0 4", "0 4 3 0", "0 3 4 0", "0 5 3 4", "0 0 3 4"};
    s.minor_progressions = {"0 6 5 6", "0 3 0 4", "0 6 3 0", "0 5 6 0"};
    s.bars_per_chord = {1, 2};
    s.drums_probability = 0.4;
    s.kits = {kit::standard, kit::brush, kit::room};
    s.drum_patterns = {
        {{{kick, "X.......X......."}, {tambourine, "....x.......x..."}}},
        {{{kick, "X.......X......."}, {maracas, "x.x.x.x.x.x.x.x."}, {snare, "....x.......x..."}}},
        {{{kick, "X..........."}, {tambourine, "....x...x..."}}},
    };
    s.bass = {0.7, {32, 33}};
    s.bass_patterns = {
        {"r.......f.......", 0.9}, {"r...f...r...f...", 0.85}, {"r...........", 0.95}, {"r.......f...", 0.9}};
    s.comp = {0.95, {25, 24, 0, 27, 1}};
    s.comp_patterns = {{"X.x.x.xxX.x.x.xx", 0.8},
                       {"x.x.x.x.x.x.x.x.", 0.95, true},
                       {"X...x...X...x...", 0.9},
                       {"X...x...x...", 0.9},
                       {"x.x.x.x.x.x.", 0.95, true}};
    s.lead = {0.85, {73, 40, 71, 75, 79, 52, 53, 24, 25, 68, 74}};
    s.lead_density_min = 0.2, s.lead_density_max = 0.45;
    s.pad = {0.25, {48, 52, 49}};
    s.reverb_min = 25, s.reverb_max = 65;
    return s;
}

Style reggae() {
    Style s;
    s.name = "reggae";
    s.tempo_min = 62, s.tempo_max = 130;
    s.minor_probability = 0.5;
    s.swing_min = 0.5, s.swing_max = 0.6;
    s.seventh_probability = 0.15;
    s.major_progressions = {"0 3", "0 3 4 3", "0 5 3 4", "0 1 4 0"};
    s.minor_progressions = {"0 3", "0 6", "0 3 6 0", "0 5 6 0"};
    s.bars_per_chord = {1, 2};
    s.drums_probability = 0.9;
    s.kits = {kit::standard, kit::room};
    s.drum_patterns = {
        {{{kick, "........X......."}, {side_stick, "........x......."}, {closed_hat, "x.x.x.x.x.x.x.x."}}},
        {{{kick, "X...X...X...X..."}, {snare, "........X......."}, {closed_hat, "..x...x...x...x."}}},
        {{{kick, "X.......X......."}, {side_stick, "........X......."}, {closed_hat, "xoxoxoxoxoxoxoxo"}}},
    };
    s.bass = {0.95, {33, 34, 38, 32}};
    s.bass_patterns = {{"R.....r.r...f...", 0.7}, {"....r.r.r..f.r..", 0.7}, {"R..r....f..r.f..", 0.7}};
    s.comp = {0.95, {27, 16, 17, 0, 4, 28}};
    s.comp_patterns = {{"....X.......X...", 0.25}, {"..x...x...x...x.", 0.25}, {"....X.x.....X.x.", 0.25}};
    s.lead = {0.7, {56, 57, 65, 66, 16, 53, 80, 52}};
    s.lead_density_min = 0.15, s.lead_density_max = 0.35;
    s.pad = {0.3, {16, 48, 52}};
    s.reverb_min = 30, s.reverb_max = 70;
    return s;
}

Style hiphop() {
    Style s;
    s.name = "hiphop";
    s.tempo_min = 72, s.tempo_max = 102;
    s.minor_probability = 0.7;
    s.swing_min = 0.5, s.swing_max = 0.6;
    s.seventh_probability = 0.5;
    s.add9_probability = 0.3;
    s.major_progressions = {"0 5", "0 3", "0 5 3 4", "0 2 3 3"};
    s.minor_progressions = {"0 5", "0 3", "0 5 2 6", "0 0 5 5", "0 6 5 4"};
    s.bars_per_chord = {1, 2};
    s.drums_probability = 1.0;
    s.kits = {kit::tr808, kit::standard, kit::room};
    s.drum_patterns = {
        {{{kick, "X......x..X....."}, {snare, "....X.......X..."}, {closed_hat, "x.x.x.x.x.x.x.x."}}},
        {{{kick, "X.x.......X..x.."}, {snare, "....X.......X..."}, {closed_hat, "xxxxxxxxxxxxxxxx"}}},
        {{{kick, "X.........X.x..."},
          {clap, "....X.......X..."},
          {closed_hat, "x.x.x.x.x.x.x.xx"},
          {open_hat, "..............x."}}},
    };
    s.bass = {0.9, {38, 39, 33, 32}};
    s.bass_patterns = {{"R.........r.r...", 0.9}, {"R.......r.....r.", 0.9}, {"R...............", 1.0}};
    s.comp = {0.85, {4, 0, 48, 89, 26, 61, 5}};
    s.comp_patterns = {{"X...............", 1.0}, {"X.....x...x.....", 0.5}, {"x...x...x...x...", 0.9, true}};
    s.lead = {0.7, {73, 80, 81, 4, 53, 54, 56, 65}};
    s.lead_density_min = 0.15, s.lead_density_max = 0.35;
    s.pad = {0.4, {48, 89, 52, 50, 91}};
    s.reverb_min = 15, s.reverb_max = 50;
    return s;
}

Style latin() {
    Style s;
    s.name = "latin";
    s.tempo_min = 86, s.tempo_max = 190;
    s.minor_probability = 0.5;
    s.harmonic_minor = true;
    s.seventh_probability = 0.5;
    s.major_progressions = {"0 5 1 4", "0 1 4 0", "0 3 4 0", "0 4 4 0"};
    s.minor_progressions = {"0 3 4 0", "0 1 4 0", "0 5 1 4", "0 3 6 2"};
    s.bars_per_chord = {1, 2, 0.5};
    s.drums_probability = 0.9;
    s.kits = {kit::standard, kit::room};
    s.drum_patterns = {
        {{{kick, "x..ox..ox..ox..o"}, {side_stick, "x..x..x...x..x.."}, {closed_hat, "x.x.x.x.x.x.x.x."}}},
        {{{claves, "x..x..x...x.x..."},
          {cowbell, "X.x.X.x.X.x.X.x."},
          {open_conga, "......xx......xx"},
          {mute_conga, "..x...x...x...x."}}},
        {{{kick, "X.......X......."},
          {cabasa, "x.xxx.xxx.xxx.xx"},
          {side_stick, "....x.......x..."},
          {low_conga, "..x...x...x...x."}}},
    };
    s.bass = {0.9, {32, 33, 35}};
    s.bass_patterns = {{"......n.....n...", 0.9}, {"r..r....f..r....", 0.8}, {"r.....f.r.....f.", 0.8}};
    s.comp = {0.9, {0, 24, 26, 1, 16}};
    s.comp_patterns = {{"x.xx.x.xx.x.x.xx", 0.8, true}, {"x..x..x...x..x..", 0.5}, {"X.....x...x.....", 0.6}};
    s.lead = {0.85, {56, 61, 65, 73, 57, 24, 40, 53, 71}};
    s.lead_density_min = 0.2, s.lead_density_max = 0.5;
    s.pad = {0.3, {48, 61, 52}};
    s.reverb_min = 25, s.reverb_max = 60;
    return s;
}

}  // namespace

std::span<const Style> styles() {
    static const std::vector<Style> table = {rock(), jazz(),   classical(), electronic(),
                                             folk(), reggae(), hiphop(),    latin()};
    return table;
}

std::vector<int> style_programs() {
    std::vector<int> programs;
    for (const Style& style : styles()) {
        for (const RolePool* pool : {&style.bass, &style.comp, &style.lead, &style.pad})
            programs.insert(programs.end(), pool->programs.begin(), pool->programs.end());
    }
    std::sort(programs.begin(), programs.end());
    programs.erase(std::unique(programs.begin(), programs.end()), programs.end());
    return programs;
}

}  // namespace mtag::data::synth
