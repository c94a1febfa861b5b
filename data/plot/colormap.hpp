#pragma once
// Perceptual colour maps for images (spectrograms, taggrams, confusion matrices): magma, librosa's default
// for specshow, and viridis, matplotlib's default. Both are the 256-entry tables published with matplotlib
// (ref: van der Walt & Smith, "A better default colormap for Matplotlib", SciPy 2015), interpolated linearly.
#include <string>

namespace mtag::data::plot {

enum class ColorMap { magma, viridis };

// "magma" | "viridis"; throws mtag::UsageError naming the option otherwise.
ColorMap parse_color_map(const std::string& name);
std::string to_string(ColorMap map);

struct Rgb {
    double r = 0, g = 0, b = 0;  // 0..1
};

// The colour at t in [0, 1] (clamped; NaN gives the lowest colour).
Rgb color_at(ColorMap map, double t);

}  // namespace mtag::data::plot
