#pragma once
// The libsamplerate backend of dsp/resample (the sinc_* qualities).
#include "dsp/resample.hpp"

#include <memory>

namespace mtag::dsp {

// A libsamplerate sinc converter at `ratio` (output rate / input rate). Throws mtag::Error when
// libsamplerate refuses it.
std::unique_ptr<ResampleKernel> make_samplerate_kernel(int channels, double ratio, ResampleQuality quality);

}  // namespace mtag::dsp
