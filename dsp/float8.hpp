#pragma once
// Eight floats as one GCC/clang vector: the compiler lowers it to AVX (or two SSE registers, or scalars) as
// the target allows. Used by the FFT's real-input fix-up pass, the mel's blocked transpose and the phase
// vocoder's region rotations. Lane shuffles go through __builtin_shufflevector, which both GCC (12 and later)
// and clang have (GCC's __builtin_shuffle is not in clang, which builds the sanitizer and fuzz parts of
// scripts/test.sh).
#include <cstring>

namespace mtag::dsp {

typedef float Float8 __attribute__((vector_size(32)));

inline Float8 load8(const float* p) {
    Float8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store8(float* p, Float8 v) { std::memcpy(p, &v, sizeof v); }

}  // namespace mtag::dsp
