#pragma once
// Aligned float storage for nn::Tensor, with a cache of freed large blocks.
//
// Why a cache: a training step allocates the same large activations and gradients every batch. Handed
// straight to malloc, each block above glibc's mmap threshold is a fresh mapping whose pages the kernel
// faults in and zeroes on first touch, then unmaps on free: in sample_cnn at batch 16 that page-fault
// work took more CPU time than the layers themselves. Freed blocks of at least `cached_min_bytes` are
// therefore kept as free ranges: a request takes the front of the smallest free range that holds it, and a
// freed block merges with free neighbours, so memory a step freed serves the next step's tensors whatever
// their sizes (PyTorch's CUDA caching allocator splits and merges blocks the same way).
//
// Bound: the footprint (bytes live + bytes cached) never exceeds the largest footprint a request has
// needed so far. On a miss, cached blocks are released (least recently freed first) until the new block
// fits under that high-water mark, so caching adds no resident memory beyond what the live tensors of
// some earlier moment already needed. MTAG_TENSOR_CACHE=0 in the environment disables the cache.
#include <cstddef>
#include <memory>
#include <string>

namespace mtag::nn {

// Blocks smaller than this go straight to malloc (its own free lists serve them well).
inline constexpr std::size_t cached_min_bytes = std::size_t{1} << 20;

// Storage for n floats, 64-byte aligned, contents unspecified; freed (or cached) with the last owner. When
// `zeroed` is given, it is set to true if the block is a fresh mapping, which the kernel zero-fills: a zeroed
// tensor then skips its fill and its pages stay untouched (no resident memory) until written. Why: every
// parameter's gradient is such a tensor, and `mtag tag` never writes one (99 MB resident for sample_cnn_se
// per model copy when they were filled).
std::shared_ptr<float> allocate_storage(std::size_t n, bool* zeroed = nullptr);

// While alive, tensor storage allocated on this thread may total at most `bytes`; the allocation that would
// pass it throws mtag::Error naming `what`. Why: a model directory from elsewhere describes its architecture
// in model.json, and building it allocates every parameter before the weights file is compared with it; a
// forged {"channels": [1000000000]} must fail as an error, not take the machine's memory. load_model
// builds the architecture under a budget derived from the weights file's size. Budgets do not nest.
class AllocationBudget {
  public:
    AllocationBudget(std::size_t bytes, std::string what);
    ~AllocationBudget();
    AllocationBudget(const AllocationBudget&) = delete;
    AllocationBudget& operator=(const AllocationBudget&) = delete;
};

// Returns every cached block to the system (e.g. before a memory measurement).
void release_cached_storage();

// Bytes held in the cache now (not counted as live tensor bytes).
std::size_t cached_storage_bytes();

}  // namespace mtag::nn
