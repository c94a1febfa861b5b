#pragma once
// What the CPU running mtag supports, asked once per process: the AVX-512 kernels (conv micro-kernel,
// direct convolution, ReLU masks, max pooling) are compiled for it with target attributes and chosen at
// run time, so one binary also runs on CPUs without AVX-512 (through the portable loops).
namespace mtag::nn {

// AVX-512 Foundation.
bool cpu_has_avx512f();
// AVX-512 F + BW + VL (byte/word masks and 128/256-bit forms).
bool cpu_has_avx512bw_vl();
// AVX2.
bool cpu_has_avx2();

}  // namespace mtag::nn
