// Procedural composition of one clip: harmony timeline, then each role's notes on a sixteenth grid.
#include "data/synth/composer.hpp"

#include "data/synth/harmony.hpp"
#include "data/synth/rng.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <span>
#include <string>

namespace mtag::data::synth {
namespace {

constexpr int steps_per_beat = 4;  // the grid is sixteenth notes

int clamp_velocity(int velocity) {
    return std::clamp(velocity, 1, 127);
}

// A one-bar pattern string looked up at any step of the bar (shorter patterns repeat).
char hit_at(std::string_view hits, int step) {
    return hits[static_cast<std::size_t>(step) % hits.size()];
}

// The patterns whose length fits the bar; all of them when none does (they then repeat or truncate).
template <class Pattern>
const Pattern& pick_pattern(Rng& rng, const std::vector<Pattern>& patterns, int steps_per_bar,
                            std::string_view (*hits)(const Pattern&)) {
    std::vector<const Pattern*> fitting;
    for (const Pattern& p : patterns) {
        if (static_cast<int>(hits(p).size()) == steps_per_bar) fitting.push_back(&p);
    }
    if (fitting.empty()) {
        for (const Pattern& p : patterns) fitting.push_back(&p);
    }
    return *fitting[static_cast<std::size_t>(rng.integer(0, static_cast<int>(fitting.size()) - 1))];
}

std::string_view comp_hits(const CompPattern& p) {
    return p.hits;
}
std::string_view bass_hits(const BassPattern& p) {
    return p.hits;
}
std::string_view drum_hits(const DrumPattern& p) {
    return p.lanes.front().hits;
}

int pick_program(Rng& rng, const RolePool& pool) {
    return rng.pick(std::span<const int>(pool.programs));
}

class Composer {
  public:
    Composer(const Style& style, double seconds, std::uint64_t seed) : m_style(style), m_rng(seed) {
        m_score.style = style.name;
        m_score.seconds = seconds;
        m_score.tempo_bpm = m_rng.integer(style.tempo_min, style.tempo_max);
        m_score.beats_per_bar = m_rng.pick(std::span<const int>(style.meters));
        m_score.major = !m_rng.chance(style.minor_probability);
        m_score.tonic = m_rng.integer(0, 11);
        m_score.peak_dbfs = m_rng.uniform(-12.0, -1.0);
        m_key = {m_score.tonic, m_score.major, style.harmonic_minor};
        m_swing = m_rng.uniform(style.swing_min, style.swing_max);
        m_beat_seconds = 60.0 / m_score.tempo_bpm;
        m_steps_per_bar = m_score.beats_per_bar * steps_per_beat;
        m_bars = static_cast<int>(std::ceil(seconds / (m_beat_seconds * m_score.beats_per_bar))) + 1;

        const auto& progressions = m_score.major ? style.major_progressions : style.minor_progressions;
        const std::vector<int> degrees =
            parse_progression(m_rng.pick(std::span<const std::string_view>(progressions)));
        double bars_per_chord = m_rng.pick(std::span<const double>(style.bars_per_chord));
        if (m_score.beats_per_bar % 2 != 0 && bars_per_chord < 1) bars_per_chord = 1;
        m_chord_steps = static_cast<int>(std::lround(bars_per_chord * m_steps_per_bar));
        const bool seventh = m_rng.chance(style.seventh_probability);
        const bool add9 = m_rng.chance(style.add9_probability);
        for (int degree : degrees) m_progression.push_back(make_chord(m_key, degree, seventh, add9));
    }

    Score run() {
        // Which roles play: each by its style probability, and at least two pitched roles.
        bool bass = m_rng.chance(m_style.bass.probability);
        bool comp = m_rng.chance(m_style.comp.probability);
        bool lead = m_rng.chance(m_style.lead.probability);
        const bool pad = m_rng.chance(m_style.pad.probability);
        if (int(bass) + int(comp) + int(lead) + int(pad) < 2) {
            if (!comp)
                comp = true;
            else
                lead = true;
        }
        if (m_rng.chance(m_style.drums_probability)) drums();
        if (bass) this->bass();
        if (comp) this->comp();
        if (lead) this->lead();
        if (pad) this->pad();
        finish();
        return std::move(m_score);
    }

  private:
    const Style& m_style;
    Rng m_rng;
    Score m_score;
    Key m_key;
    double m_swing = 0.5;
    double m_beat_seconds = 0.5;
    int m_steps_per_bar = 16;
    int m_bars = 1;
    int m_chord_steps = 16;
    std::vector<Chord> m_progression;

    int total_steps() const { return m_bars * m_steps_per_bar; }
    const Chord& chord_at(int step) const {
        return m_progression[static_cast<std::size_t>(step / m_chord_steps) % m_progression.size()];
    }
    const Chord& next_chord(int step) const { return chord_at((step / m_chord_steps + 1) * m_chord_steps); }

    // Seconds from the clip start of a grid position, with the off-beat eighths swung.
    double seconds_at(double step) const {
        const double beats = step / steps_per_beat;
        const double whole = std::floor(beats);
        const double frac = beats - whole;
        const double warped =
            frac < 0.5 ? frac * (m_swing / 0.5) : m_swing + (frac - 0.5) * ((1.0 - m_swing) / 0.5);
        return (whole + warped) * m_beat_seconds;
    }

    int add_part(std::string role, int program, bool percussion, int channel) {
        Part part;
        part.role = std::move(role);
        part.channel = channel;
        part.program = program;
        part.percussion = percussion;
        part.volume = percussion ? m_rng.integer(85, 120) : m_rng.integer(72, 120);
        part.pan = percussion ? 64 : (part.role == "bass" ? m_rng.integer(54, 74) : m_rng.integer(28, 100));
        const int reverb = m_rng.integer(m_style.reverb_min, m_style.reverb_max);
        part.reverb_send = (percussion || part.role == "bass") ? reverb / 2 : reverb;
        part.chorus_send = m_rng.chance(0.3) ? m_rng.integer(10, 60) : 0;
        m_score.parts.push_back(part);
        return static_cast<int>(m_score.parts.size()) - 1;
    }

    int next_channel() const {
        int channel = 0;
        for (const Part& p : m_score.parts) {
            if (!p.percussion) ++channel;
        }
        return channel;  // 0-3: the pitched roles never reach the percussion channel (9)
    }

    // A note on the grid: start and length in sixteenths, plus an offset in seconds (strums) and a
    // small timing jitter so that onsets are not machine-exact.
    void add_note(int part, double step, double length_steps, int key, int velocity, double offset = 0) {
        if (key < 0 || key > 127) return;
        const double start = std::max(0.0, seconds_at(step) + offset + m_rng.uniform(-0.006, 0.006));
        const double end = seconds_at(step + std::max(length_steps, 0.25));
        Note note;
        note.start = start;
        note.duration = std::max(0.03, end - start);
        note.part = part;
        note.key = key;
        note.velocity = clamp_velocity(velocity);
        m_score.notes.push_back(note);
    }

    // (step within the bar, character) of every hit of a pattern over one bar.
    std::vector<std::pair<int, char>> hits_of(std::string_view hits) const {
        std::vector<std::pair<int, char>> out;
        for (int s = 0; s < m_steps_per_bar; ++s) {
            const char c = hit_at(hits, s);
            if (c != '.') out.emplace_back(s, c);
        }
        return out;
    }

    void drums() {
        const DrumPattern& pattern = pick_pattern(m_rng, m_style.drum_patterns, m_steps_per_bar, drum_hits);
        const int part =
            add_part("drums", m_rng.pick(std::span<const int>(m_style.kits)), true, percussion_channel);
        std::vector<DrumLane> lanes = pattern.lanes;
        std::vector<double> lane_gain;
        for (DrumLane& lane : lanes) {
            if (lane.key == drum::closed_hat && m_rng.chance(0.25)) lane.key = drum::ride;
            lane_gain.push_back(m_rng.uniform(0.75, 1.1));
        }
        const double ghost_dropout = m_rng.uniform(0.0, 0.5);
        const double fill_probability = m_rng.uniform(0.0, 0.7);
        bool crash = m_rng.chance(0.5);
        for (int bar = 0; bar < m_bars; ++bar) {
            const int bar_start = bar * m_steps_per_bar;
            const bool fill = bar % 4 == 3 && m_rng.chance(fill_probability);
            const int fill_from = m_steps_per_bar - 4;
            if (crash) add_note(part, bar_start, 4, drum::crash, m_rng.integer(90, 118));
            crash = fill && m_rng.chance(0.7);
            for (std::size_t l = 0; l < lanes.size(); ++l) {
                for (int s = 0; s < m_steps_per_bar; ++s) {
                    const char c = hit_at(lanes[l].hits, s);
                    if (c == '.' || (fill && s >= fill_from && lanes[l].key != drum::kick)) continue;
                    if (c == 'o' && m_rng.chance(ghost_dropout)) continue;
                    const int base = c == 'X' ? 112 : c == 'x' ? 88 : 45;
                    const int velocity = static_cast<int>(base * lane_gain[l]) + m_rng.integer(-8, 8);
                    add_note(part, bar_start + s, 1, lanes[l].key, velocity);
                }
            }
            if (fill) {
                const int toms[] = {drum::high_tom, drum::high_tom, drum::mid_tom, drum::low_tom};
                for (int i = 0; i < 4; ++i)
                    add_note(part, bar_start + fill_from + i, 1, toms[i], m_rng.integer(85, 115));
            }
        }
    }

    void bass() {
        const int program = pick_program(m_rng, m_style.bass);
        const int part = add_part("bass", program, false, next_channel());
        const BassPattern& pattern = pick_pattern(m_rng, m_style.bass_patterns, m_steps_per_bar, bass_hits);
        const bool bass_family = family_of_program(program) == Family::bass;
        const int low = (bass_family ? 28 : 36) + m_rng.integer(0, 4);
        const int base_velocity = m_rng.integer(70, 108);
        const auto hits = hits_of(pattern.hits);
        int previous = low + 7;
        for (int bar = 0; bar < m_bars; ++bar) {
            for (std::size_t i = 0; i < hits.size(); ++i) {
                const int step = bar * m_steps_per_bar + hits[i].first;
                const int next = i + 1 < hits.size() ? bar * m_steps_per_bar + hits[i + 1].first
                                                     : (bar + 1) * m_steps_per_bar + hits[0].first;
                const char c = hits[i].second;
                const Chord& chord = chord_at(step);
                const int next_root = next_chord(step).tones[0];
                auto in_register = [&](int pc) { return low + pitch_class_of(pc - low); };
                int key = 0;
                switch (std::tolower(static_cast<unsigned char>(c))) {
                    case 'f':
                        key = in_register(chord.tones[2]);
                        break;
                    case 't':
                        key = in_register(chord.tones[1]);
                        break;
                    case 'o':
                        key = in_register(chord.tones[0]) + 12;
                        break;
                    case 'n':
                        key = in_register(next_root);
                        break;
                    case 'a': {  // the scale neighbour above or below the next root
                        const int target = in_register(next_root);
                        const int dir = m_rng.chance(0.5) ? 1 : -1;
                        key = target + dir;
                        while (!in_scale(m_key, key)) key += dir;
                        break;
                    }
                    case 'w': {  // a chord tone near the previous note
                        const auto& tones = chord.tones;
                        key = nearest_key(
                            tones[static_cast<std::size_t>(m_rng.integer(0, int(tones.size()) - 1))],
                            previous);
                        while (key < low) key += 12;
                        while (key > low + 19) key -= 12;
                        break;
                    }
                    default:
                        key = in_register(chord.tones[0]);
                }
                const int velocity = base_velocity + (std::isupper(static_cast<unsigned char>(c)) ? 12 : 0) +
                                     m_rng.integer(-6, 6);
                add_note(part, step, (next - step) * pattern.gate, key, velocity);
                previous = key;
            }
        }
    }

    void comp() {
        const int program = pick_program(m_rng, m_style.comp);
        const int part = add_part("comp", program, false, next_channel());
        const CompPattern& pattern = pick_pattern(m_rng, m_style.comp_patterns, m_steps_per_bar, comp_hits);
        const bool strummed = family_of_program(program) == Family::guitar && !pattern.arpeggio;
        const int lowest = m_rng.integer(48, 60);
        const bool open = m_rng.chance(0.3);
        const bool arp_up_down = m_rng.chance(0.4);
        const double thinning = m_rng.uniform(0.0, 0.25);
        const int base_velocity = m_rng.integer(58, 104);
        const auto hits = hits_of(pattern.hits);
        int chord_slot = -1;
        std::vector<int> voicing;
        int arp_index = 0;
        bool down_strum = true;
        for (int bar = 0; bar < m_bars; ++bar) {
            for (std::size_t i = 0; i < hits.size(); ++i) {
                const int step = bar * m_steps_per_bar + hits[i].first;
                const int next = i + 1 < hits.size() ? bar * m_steps_per_bar + hits[i + 1].first
                                                     : (bar + 1) * m_steps_per_bar + hits[0].first;
                if (step / m_chord_steps != chord_slot) {
                    chord_slot = step / m_chord_steps;
                    const Chord& chord = chord_at(step);
                    voicing = voice_chord(chord, lowest, m_rng.integer(0, int(chord.tones.size()) - 1), open);
                }
                if (i > 0 && m_rng.chance(thinning)) continue;
                const char c = hits[i].second;
                const int accent = c == 'X' ? 14 : c == 'o' ? -30 : 0;
                const double length = std::max(1.0, (next - step) * pattern.gate);
                if (pattern.arpeggio) {
                    const int n = static_cast<int>(voicing.size());
                    int index = arp_index % (arp_up_down && n > 2 ? 2 * n - 2 : n);
                    if (index >= n) index = 2 * n - 2 - index;
                    ++arp_index;
                    add_note(part, step, length, voicing[static_cast<std::size_t>(index)],
                             base_velocity + accent + m_rng.integer(-6, 6));
                } else {
                    for (std::size_t k = 0; k < voicing.size(); ++k) {
                        const std::size_t order = down_strum ? k : voicing.size() - 1 - k;
                        const double offset = strummed ? 0.012 * static_cast<double>(order) : 0.0;
                        add_note(part, step, length, voicing[k],
                                 base_velocity + accent + m_rng.integer(-6, 6), offset);
                    }
                    down_strum = !down_strum;
                }
            }
        }
    }

    void pad() {
        const int part = add_part("pad", pick_program(m_rng, m_style.pad), false, next_channel());
        const int lowest = m_rng.integer(48, 58);
        const int base_velocity = m_rng.integer(45, 85);
        for (int step = 0; step < total_steps(); step += m_chord_steps) {
            const Chord& chord = chord_at(step);
            const auto voicing =
                voice_chord(chord, lowest, m_rng.integer(0, int(chord.tones.size()) - 1), false);
            for (int key : voicing)
                add_note(part, step, m_chord_steps * 0.97, key, base_velocity + m_rng.integer(-5, 5));
        }
    }

    // Register centre of a melody instrument: pipes higher, low brass/reeds/strings/guitars lower.
    static int lead_centre_shift(int program) {
        if (program >= 72 && program <= 79) return 6;  // piccolo, flutes, ocarina
        if (program == 57 || program == 58 || program == 42 || program == 70 || program == 67) return -10;
        if (program == 66 || program == 41) return -5;  // tenor sax, viola
        if (program >= 24 && program <= 31) return -4;  // guitars
        return 0;
    }

    std::vector<int> lead_rhythm(double density) {
        std::vector<int> onsets;
        const int phrase = 2 * m_steps_per_bar;
        for (int s = 0; s < phrase; ++s) {
            const double weight = s % m_steps_per_bar == 0 ? 1.7
                                  : s % 4 == 0             ? 1.25
                                  : s % 2 == 0             ? 0.85
                                                           : 0.4;
            if (m_rng.chance(std::min(0.95, density * weight))) onsets.push_back(s);
        }
        if (m_rng.chance(0.3)) {  // breathe: leave the end of the phrase empty
            std::erase_if(onsets, [&](int s) { return s >= phrase - m_steps_per_bar / 2; });
        }
        if (onsets.size() < 2) onsets = {0, m_steps_per_bar};
        return onsets;
    }

    void lead() {
        const int program = pick_program(m_rng, m_style.lead);
        const int part = add_part("lead", program, false, next_channel());
        const int centre = m_rng.integer(64, 74) + lead_centre_shift(program);
        const int tonic_key = nearest_key(m_key.tonic, centre);
        const double density = m_rng.uniform(m_style.lead_density_min, m_style.lead_density_max);
        const double gate = m_rng.uniform(0.6, 0.98);
        const int base_velocity = m_rng.integer(68, 112);
        const int phrase = 2 * m_steps_per_bar;
        const int enter = m_rng.chance(0.3) ? m_steps_per_bar : 0;
        int scale_step = 0;
        std::vector<int> rhythm;
        for (int start = enter; start < total_steps(); start += phrase) {
            if (rhythm.empty() || m_rng.chance(0.55)) rhythm = lead_rhythm(density);
            for (std::size_t i = 0; i < rhythm.size(); ++i) {
                const int step = start + rhythm[i];
                const int next = i + 1 < rhythm.size() ? start + rhythm[i + 1] : start + phrase;
                const Chord& chord = chord_at(step);
                // Mostly steps, some repeats and leaps, pulled back towards the centre.
                const double r = m_rng.uniform();
                int move = r < 0.35 ? 1 : r < 0.6 ? 2 : r < 0.72 ? 0 : r < 0.9 ? 3 : 4;
                const int key_now = tonic_key + scale_offset(m_key, scale_step);
                const bool down = key_now > centre + 4   ? m_rng.chance(0.8)
                                  : key_now < centre - 4 ? m_rng.chance(0.2)
                                                         : m_rng.chance(0.5);
                scale_step += down ? -move : move;
                if (step % steps_per_beat == 0) {  // on the beat: the nearest chord tone
                    for (int d : {0, 1, -1, 2, -2, 3, -3}) {
                        const int pc = pitch_class_of(m_key.tonic + scale_offset(m_key, scale_step + d));
                        if (std::find(chord.tones.begin(), chord.tones.end(), pc) != chord.tones.end()) {
                            scale_step += d;
                            break;
                        }
                    }
                }
                int key = tonic_key + scale_offset(m_key, scale_step);
                if (!m_key.major && m_key.harmonic_minor && chord.degree == 4 &&
                    ((scale_step % 7) + 7) % 7 == 6)
                    ++key;  // the raised leading tone over the dominant
                if (key > centre + 10) scale_step -= 7, key -= 12;
                if (key < centre - 10) scale_step += 7, key += 12;
                const int velocity =
                    base_velocity + (step % steps_per_beat == 0 ? 8 : 0) + m_rng.integer(-8, 8);
                add_note(part, step, std::min(8.0, (next - step) * gate), key, velocity);
            }
        }
    }

    // Drops notes too close to the end to be heard and parts that end up silent; sorts by time.
    void finish() {
        const double last_start = m_score.seconds - std::min(0.3, 0.1 * m_score.seconds);
        std::erase_if(m_score.notes, [&](const Note& n) { return n.start >= last_start; });
        std::vector<int> remap(m_score.parts.size(), -1);
        std::vector<Part> kept;
        for (std::size_t p = 0; p < m_score.parts.size(); ++p) {
            const bool used = std::any_of(m_score.notes.begin(), m_score.notes.end(),
                                          [&](const Note& n) { return n.part == static_cast<int>(p); });
            if (!used) continue;
            remap[p] = static_cast<int>(kept.size());
            kept.push_back(m_score.parts[p]);
        }
        for (Note& n : m_score.notes) n.part = remap[static_cast<std::size_t>(n.part)];
        m_score.parts = std::move(kept);
        std::stable_sort(m_score.notes.begin(), m_score.notes.end(),
                         [](const Note& a, const Note& b) { return a.start < b.start; });
    }
};

}  // namespace

Score compose(const Style& style, double seconds, std::uint64_t seed) {
    if (!(seconds > 0)) throw Error("synth clip length", "must be positive, got " + std::to_string(seconds));
    return Composer(style, seconds, seed).run();
}

}  // namespace mtag::data::synth
