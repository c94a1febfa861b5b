// General MIDI program families.
#include "data/synth/gm.hpp"

namespace mtag::data::synth {

std::string_view family_name(Family family) {
    switch (family) {
        case Family::piano:
            return "piano";
        case Family::organ:
            return "organ";
        case Family::guitar:
            return "guitar";
        case Family::bass:
            return "bass";
        case Family::strings:
            return "strings";
        case Family::brass:
            return "brass";
        case Family::woodwind:
            return "woodwind";
        case Family::synth:
            return "synth";
        case Family::voice:
            return "voice";
        case Family::drums:
            return "drums";
    }
    return "?";
}

std::optional<Family> family_of_program(int program) {
    if (program >= 0 && program <= 7) return Family::piano;
    if (program >= 16 && program <= 20) return Family::organ;
    if (program >= 24 && program <= 31) return Family::guitar;
    if (program >= 32 && program <= 39) return Family::bass;
    if ((program >= 40 && program <= 45) || (program >= 48 && program <= 51)) return Family::strings;
    if (program >= 52 && program <= 54) return Family::voice;
    if (program >= 56 && program <= 63) return Family::brass;
    if (program >= 64 && program <= 79) return Family::woodwind;
    if (program >= 80 && program <= 95) return Family::synth;
    return std::nullopt;
}

}  // namespace mtag::data::synth
