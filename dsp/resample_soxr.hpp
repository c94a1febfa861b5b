#pragma once
// The libsoxr backend of dsp/resample (the soxr_* qualities).
#include "dsp/resample.hpp"

#include <memory>

namespace mtag::dsp {

// A libsoxr stream converter from from_rate to to_rate, float32 interleaved, one thread. Throws
// mtag::Error when libsoxr refuses the settings.
std::unique_ptr<ResampleKernel> make_soxr_kernel(int channels, double from_rate, double to_rate,
                                                 ResampleQuality quality);

}  // namespace mtag::dsp
