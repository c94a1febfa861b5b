#pragma once
// A number as error messages and option checks print it: printf's "%g" (six significant digits, no
// trailing zeros), so "fmax 8000 Hz" rather than "8000.000000".
#include <cstdio>
#include <string>

namespace mtag::dsp {

inline std::string number_text(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

}  // namespace mtag::dsp
