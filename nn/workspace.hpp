#pragma once
// Per-thread scratch memory for the engine's temporary buffers (im2col tiles, partial sums), grown on
// demand and reused, so hot loops allocate nothing after the first batch.
#include <cstddef>

namespace mtag::nn {

// Returns `count` floats of 64-byte aligned scratch owned by the calling thread; `slot` selects one of
// 8 independent buffers (a routine that needs two at once uses slots 0 and 1; Winograd uses 0-6). The contents are
// unspecified and stay valid until the next call with the same slot on the same thread.
float* scratch(std::size_t count, int slot = 0);

// Releases the calling thread's scratch buffers (e.g. after a benchmark of very large maps).
void release_scratch();

}  // namespace mtag::nn
