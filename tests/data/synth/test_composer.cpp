// Tests of data/synth/{gm,harmony,styles,composer,score}: the procedural music and its tag rules.
// No soundfont needed: these check scores, not audio.
#include "data/synth/composer.hpp"
#include "data/synth/gm.hpp"
#include "data/synth/harmony.hpp"
#include "data/synth/score.hpp"
#include "data/synth/styles.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace mtag::data::synth;

namespace {

// Every (style, seed) pair these tests compose: 8 styles x 40 seeds.
template <class F>
void for_scores(double seconds, F&& check) {
    for (const Style& style : styles()) {
        for (std::uint64_t seed = 0; seed < 40; ++seed)
            check(style, compose(style, seconds, seed * 7919 + 13));
    }
}

}  // namespace

TEST_CASE("synth family_of_program follows the General MIDI categories") {
    CHECK(family_of_program(0) == Family::piano);
    CHECK(family_of_program(7) == Family::piano);
    CHECK_FALSE(family_of_program(8).has_value());  // celesta: chromatic percussion, unused
    CHECK(family_of_program(16) == Family::organ);
    CHECK_FALSE(family_of_program(21).has_value());  // accordion
    CHECK(family_of_program(24) == Family::guitar);
    CHECK(family_of_program(38) == Family::bass);  // synth bass is bass
    CHECK(family_of_program(45) == Family::strings);
    CHECK_FALSE(family_of_program(46).has_value());   // harp
    CHECK_FALSE(family_of_program(47).has_value());   // timpani
    CHECK(family_of_program(50) == Family::strings);  // synth strings
    CHECK(family_of_program(52) == Family::voice);
    CHECK_FALSE(family_of_program(55).has_value());  // orchestra hit
    CHECK(family_of_program(61) == Family::brass);
    CHECK(family_of_program(73) == Family::woodwind);
    CHECK(family_of_program(95) == Family::synth);
    CHECK_FALSE(family_of_program(96).has_value());
    CHECK_FALSE(family_of_program(127).has_value());
}

TEST_CASE(
    "synth styles are well formed: six or more genres and programs with families and patterns on the bar "
    "grid") {
    REQUIRE(styles().size() >= 6);
    std::set<std::string> names;
    for (const Style& style : styles()) {
        INFO(style.name);
        names.insert(style.name);
        CHECK(style.tempo_min <= style.tempo_max);
        for (const RolePool* pool : {&style.bass, &style.comp, &style.lead, &style.pad}) {
            CHECK_FALSE(pool->programs.empty());
            for (int program : pool->programs) CHECK(family_of_program(program).has_value());
        }
        for (const auto* progressions : {&style.major_progressions, &style.minor_progressions}) {
            REQUIRE_FALSE(progressions->empty());
            for (std::string_view p : *progressions)
                CHECK(parse_progression(p).front() == 0);  // starts on the tonic
        }
        for (const DrumPattern& pattern : style.drum_patterns) {
            for (const DrumLane& lane : pattern.lanes) {
                CHECK(lane.hits.size() == pattern.lanes.front().hits.size());
                CHECK((lane.hits.size() == 12 || lane.hits.size() == 16));
            }
        }
        for (const BassPattern& p : style.bass_patterns) CHECK((p.hits.size() == 12 || p.hits.size() == 16));
        for (const CompPattern& p : style.comp_patterns) CHECK((p.hits.size() == 12 || p.hits.size() == 16));
        if (style.drums_probability > 0) CHECK_FALSE(style.drum_patterns.empty());
    }
    CHECK(names.size() == styles().size());
}

TEST_CASE("synth chords stack scale thirds and harmonic minor raises the leading tone in V only") {
    const Key c_major{0, true, false};
    CHECK(make_chord(c_major, 0, false, false).tones == std::vector<int>{0, 4, 7});
    CHECK(make_chord(c_major, 1, true, false).tones == std::vector<int>{2, 5, 9, 0});  // Dm7
    const Key a_minor{9, false, true};
    CHECK(make_chord(a_minor, 0, false, false).tones == std::vector<int>{9, 0, 4});
    CHECK(make_chord(a_minor, 4, true, false).tones == std::vector<int>{4, 8, 11, 2});  // E7 with G#
    CHECK(make_chord(a_minor, 6, false, false).tones == std::vector<int>{7, 11, 2});    // G: natural
    const auto keys = voice_chord(make_chord(c_major, 0, false, false), 60, 1, false);
    CHECK(keys == std::vector<int>{64, 67, 72});
    CHECK(nearest_key(0, 65) == 60);
    CHECK(nearest_key(0, 67) == 72);
    CHECK_THROWS_AS(parse_progression("0 8"), mtag::Error);
}

TEST_CASE("synth compose is deterministic per seed and varies across seeds") {
    const Style& style = styles()[0];
    const Score a = compose(style, 8.0, 42), b = compose(style, 8.0, 42), c = compose(style, 8.0, 43);
    REQUIRE(a.notes.size() == b.notes.size());
    for (std::size_t i = 0; i < a.notes.size(); ++i) {
        CHECK(a.notes[i].start == b.notes[i].start);
        CHECK(a.notes[i].key == b.notes[i].key);
        CHECK(a.notes[i].velocity == b.notes[i].velocity);
    }
    const bool same = a.notes.size() == c.notes.size() && a.tempo_bpm == c.tempo_bpm && a.tonic == c.tonic;
    CHECK_FALSE(same);
    CHECK_THROWS_AS(compose(style, 0.0, 1), mtag::Error);
}

TEST_CASE("synth scores: every part sounds and every note starts inside the clip") {
    for_scores(6.0, [](const Style& style, const Score& score) {
        INFO(style.name << " tempo " << score.tempo_bpm);
        REQUIRE(score.parts.size() >= 2);
        for (std::size_t p = 0; p < score.parts.size(); ++p) {
            const bool has_note = std::any_of(score.notes.begin(), score.notes.end(),
                                              [&](const Note& n) { return n.part == static_cast<int>(p); });
            CHECK(has_note);
        }
        for (const Note& note : score.notes) {
            CHECK(note.start >= 0);
            CHECK(note.start < score.seconds - 0.29);
            CHECK(note.duration > 0);
            CHECK((note.velocity >= 1 && note.velocity <= 127));
            CHECK((note.key >= 0 && note.key <= 127));
        }
    });
}

TEST_CASE("synth instrument tags are exactly the families of the parts that play") {
    for_scores(5.0, [](const Style& style, const Score& score) {
        INFO(style.name);
        std::set<std::string> expected;
        bool drum_notes = false;
        for (const Note& note : score.notes) {
            const Part& part = score.parts[static_cast<std::size_t>(note.part)];
            if (part.percussion) {
                drum_notes = true;
                CHECK(part.channel == percussion_channel);
                expected.insert("drums");
            } else {
                CHECK(part.channel != percussion_channel);
                REQUIRE(family_of_program(part.program).has_value());
                expected.insert(std::string(family_name(*family_of_program(part.program))));
            }
        }
        const std::vector<std::string> tags = score_tags(score);
        std::set<std::string> family_tags;
        for (const std::string& tag : tags) {
            for (Family f : all_families) {
                if (tag == family_name(f)) family_tags.insert(tag);
            }
        }
        CHECK(family_tags == expected);
        CHECK((std::find(tags.begin(), tags.end(), "drums") != tags.end()) == drum_notes);
        CHECK(tags.front() == style.name);
        if (style.drums_probability == 0) CHECK_FALSE(drum_notes);
    });
}

TEST_CASE("synth tempo and mode tags follow the stated rules") {
    int slow = 0, fast = 0, neither = 0, major = 0, minor = 0;
    for_scores(4.0, [&](const Style& style, const Score& score) {
        const auto tags = score_tags(score);
        auto has = [&](const char* t) { return std::find(tags.begin(), tags.end(), t) != tags.end(); };
        CHECK((score.tempo_bpm >= style.tempo_min && score.tempo_bpm <= style.tempo_max));
        CHECK(has("slow") == (score.tempo_bpm < slow_below_bpm));
        CHECK(has("fast") == (score.tempo_bpm >= fast_from_bpm));
        CHECK(has("major") == score.major);
        CHECK(has("minor") == !score.major);
        slow += has("slow"), fast += has("fast"), neither += !has("slow") && !has("fast");
        major += score.major, minor += !score.major;
    });
    // Both values of each tag occur often enough to learn.
    CHECK(slow > 30);
    CHECK(fast > 30);
    CHECK(neither > 30);
    CHECK(major > 60);
    CHECK(minor > 60);
}

TEST_CASE("synth pitched notes stay in the key's scale (plus the raised leading tone of harmonic minor)") {
    for_scores(5.0, [](const Style& style, const Score& score) {
        INFO(style.name << " tonic " << score.tonic << (score.major ? " major" : " minor"));
        const Key key{score.tonic, score.major, style.harmonic_minor};
        const int leading_tone = (score.tonic + 11) % 12;
        int outside = 0;
        for (const Note& note : score.notes) {
            if (score.parts[static_cast<std::size_t>(note.part)].percussion) continue;
            if (in_scale(key, note.key % 12)) continue;
            if (!score.major && style.harmonic_minor && note.key % 12 == leading_tone) continue;
            ++outside;
        }
        CHECK(outside == 0);
    });
}

TEST_CASE("synth clips vary: instruments and keys and tempi and levels are not fixed by the genre") {
    for (const Style& style : styles()) {
        INFO(style.name);
        std::set<int> programs, tonics, tempi;
        std::set<std::size_t> part_counts;
        std::set<int> peak_db;
        for (std::uint64_t seed = 0; seed < 40; ++seed) {
            const Score s = compose(style, 5.0, seed);
            for (const Part& p : s.parts) programs.insert(p.program);
            tonics.insert(s.tonic);
            tempi.insert(static_cast<int>(s.tempo_bpm));
            part_counts.insert(s.parts.size());
            peak_db.insert(static_cast<int>(s.peak_dbfs));
        }
        CHECK(programs.size() >= 6);
        CHECK(tonics.size() >= 8);
        CHECK(tempi.size() >= 10);
        CHECK(part_counts.size() >= 2);
        CHECK(peak_db.size() >= 5);
    }
}

TEST_CASE("synth tag vocabulary lists each genre and family and tempo and mode tag once") {
    const auto vocab = tag_vocabulary({"rock", "jazz"});
    CHECK(vocab.size() == 2 + all_families.size() + 4);
    CHECK(std::set<std::string>(vocab.begin(), vocab.end()).size() == vocab.size());
    CHECK(vocab.front() == "rock");
    CHECK(vocab.back() == "minor");
}
