#include "nn/cpu_features.hpp"

namespace mtag::nn {

namespace {

struct Features {
    bool avx2 = false, avx512f = false, avx512bw_vl = false;
};

const Features& features() {
    static const Features f = [] {
        Features out;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        out.avx2 = __builtin_cpu_supports("avx2");
        out.avx512f = __builtin_cpu_supports("avx512f");
        out.avx512bw_vl = out.avx512f && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
        return out;
    }();
    return f;
}

}  // namespace

bool cpu_has_avx512f() {
    return features().avx512f;
}

bool cpu_has_avx512bw_vl() {
    return features().avx512bw_vl;
}

bool cpu_has_avx2() {
    return features().avx2;
}

}  // namespace mtag::nn
