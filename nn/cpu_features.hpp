#pragma once
// What the CPU running mtag supports and its cache size, asked once per process: the AVX-512 kernels (conv
// micro-kernel, direct convolution, ReLU masks, ELU/SELU and expm1, max pooling) are compiled for it with
// target attributes and chosen at run time, so one binary also runs on CPUs without AVX-512 (through AVX2
// forms where they exist, else the portable loops).
//
// MTAG_CPU=avx2 makes the process behave as on a CPU without AVX-512 (AVX2 kernels), MTAG_CPU=portable as
// on one without AVX2 either (portable loops); the suite runs test_nn's kernel tests under MTAG_CPU=avx2 so
// that an AVX-512 machine also checks the AVX2 forms.
namespace mtag::nn {

// AVX-512 Foundation.
bool cpu_has_avx512f();
// AVX-512 F + BW + VL (byte/word masks and 128/256-bit forms).
bool cpu_has_avx512bw_vl();
// AVX2.
bool cpu_has_avx2();
// FMA3 (fused multiply-add on 256-bit vectors; with AVX2, the conv micro-kernel's fallback).
bool cpu_has_fma();

// Size of the largest cache cpu 0 sees, in bytes (from sysfs, else the C library's figure capped at
// 32 MiB, else 32 MiB): kernels whose output exceeds it write with non-temporal stores.
double last_level_cache_bytes();

}  // namespace mtag::nn
