#include "nn/storage_allocator.hpp"

#include "dsp/error.hpp"
#include "nn/memory_stats.hpp"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <new>
#include <string_view>
#include <vector>

namespace mtag::nn {

namespace {

constexpr std::size_t alignment = 64;
// Blocks of at least this size are mapped 2 MiB-aligned and offered to transparent huge pages: one
// fault per 2 MiB instead of per 4 KiB on first touch, and fewer TLB misses in strided layer loops.
constexpr std::size_t huge_page = std::size_t{2} << 20;

std::atomic<std::size_t> g_live{0}, g_peak{0};

// The AllocationBudget of this thread, if one is alive.
struct Budget {
    bool active = false;
    std::size_t limit = 0, used = 0;
    std::string what;
};
thread_local Budget t_budget;

void charge_budget(std::size_t n) {
    Budget& b = t_budget;
    if (!b.active) return;
    if (n > (b.limit - b.used) / sizeof(float))
        throw Error(b.what, "would allocate more than " + std::to_string(b.limit >> 20) +
                                " MiB for its tensors (a tensor of " + std::to_string(n) +
                                " values); its description does not match a plausible model");
    b.used += n * sizeof(float);
}

void count_live(std::size_t bytes) {
    const std::size_t live = g_live.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    std::size_t peak = g_peak.load(std::memory_order_relaxed);
    while (live > peak && !g_peak.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
}

struct CachedBlock {
    std::size_t bytes;
    void* data;
    std::uint64_t freed_at;  // logical clock: eviction takes the least recently freed block first
};

struct Cache {
    std::mutex mutex;
    std::vector<CachedBlock> blocks;
    std::size_t cached_bytes = 0;
    std::size_t high_water = 0;  // largest live + requested bytes seen on a miss
    std::uint64_t clock = 0;
    bool enabled = true;
};

Cache& cache() {
    // Never destroyed: tensors held by other statics may be freed during static destruction.
    static Cache* c = [] {
        auto* made = new Cache;
        if (const char* env = std::getenv("MTAG_TENSOR_CACHE"); env && std::string_view(env) == "0")
            made->enabled = false;
        return made;
    }();
    return *c;
}

std::size_t round_up(std::size_t n, std::size_t to) {
    return (n + to - 1) / to * to;
}

// Large blocks come straight from mmap (page-aligned, zero-filled lazily), 2 MiB-aligned from 2 MiB on.
void* map_block(std::size_t bytes) {
    const std::size_t align = bytes >= huge_page ? huge_page : 4096;
    const std::size_t span = bytes + align - 4096;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto base = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t start = round_up(base, align);
    if (start > base) munmap(raw, start - base);
    if (const std::uintptr_t end = start + bytes, raw_end = base + span; raw_end > end)
        munmap(reinterpret_cast<void*>(end), raw_end - end);
#ifdef MADV_HUGEPAGE
    if (align == huge_page) madvise(reinterpret_cast<void*>(start), bytes, MADV_HUGEPAGE);
#endif
    return reinterpret_cast<void*>(start);
}

void unmap_block(void* data, std::size_t bytes) {
    munmap(data, bytes);
}

// A block of at least `bytes` (a cached one may be up to 1/8 larger: `bytes` is then set to its size, which
// the block is counted and given back with).
void* take_large(std::size_t& bytes, bool& fresh) {
    fresh = false;
    Cache& c = cache();
    std::vector<CachedBlock> evicted;
    {
        std::lock_guard lock(c.mutex);
        if (c.enabled) {
            // Best fit among blocks at most 1/8 larger than asked, so a small request never pins a big block.
            auto best = c.blocks.end();
            for (auto it = c.blocks.begin(); it != c.blocks.end(); ++it)
                if (it->bytes >= bytes && it->bytes - bytes <= bytes / 8 && (best == c.blocks.end() || it->bytes < best->bytes))
                    best = it;
            if (best != c.blocks.end()) {
                const CachedBlock hit = *best;
                c.blocks.erase(best);
                c.cached_bytes -= hit.bytes;
                count_live(hit.bytes);
                bytes = hit.bytes;
                return hit.data;
            }
        }
        const std::size_t live = g_live.load(std::memory_order_relaxed);
        c.high_water = std::max(c.high_water, live + bytes);
        // Miss: release least recently freed blocks until live + cached + this block fits the high-water mark.
        std::sort(c.blocks.begin(), c.blocks.end(),
                  [](const CachedBlock& a, const CachedBlock& b) { return a.freed_at < b.freed_at; });
        std::size_t drop = 0;
        while (drop < c.blocks.size() && live + c.cached_bytes + bytes > c.high_water) {
            c.cached_bytes -= c.blocks[drop].bytes;
            evicted.push_back(c.blocks[drop++]);
        }
        c.blocks.erase(c.blocks.begin(), c.blocks.begin() + static_cast<std::ptrdiff_t>(drop));
        count_live(bytes);
    }
    for (const CachedBlock& b : evicted) unmap_block(b.data, b.bytes);
    fresh = true;
    return map_block(bytes);
}

void give_back_large(void* data, std::size_t bytes) {
    g_live.fetch_sub(bytes, std::memory_order_relaxed);
    Cache& c = cache();
    {
        std::lock_guard lock(c.mutex);
        if (c.enabled) {
            c.blocks.push_back({bytes, data, ++c.clock});
            c.cached_bytes += bytes;
            return;
        }
    }
    unmap_block(data, bytes);
}

// Blocks below cached_min_bytes go to malloc. glibc maps a block above its (dynamic) mmap threshold
// afresh and trims the top of the heap once 2x that threshold is free, so the same few hundred KB
// activations of every step (cnn1d's conv outputs at batch 16: 745 KB) were faulted in and zeroed again
// each step: 250 page faults per step. Below cached_min_bytes malloc now always serves from the heap,
// and keeps up to 64 MiB of free heap instead of returning it to the kernel. Once per process.
void tune_malloc() {
    static const bool done = [] {
        mallopt(M_MMAP_THRESHOLD, static_cast<int>(cached_min_bytes));
        mallopt(M_TRIM_THRESHOLD, 64 << 20);
        return true;
    }();
    (void)done;
}

}  // namespace

AllocationBudget::AllocationBudget(std::size_t bytes, std::string what) {
    if (t_budget.active) throw Error("nn::AllocationBudget", "budgets do not nest");
    t_budget = {true, bytes, 0, std::move(what)};
}

AllocationBudget::~AllocationBudget() { t_budget = {}; }

std::shared_ptr<float> allocate_storage(std::size_t n, bool* zeroed) {
    tune_malloc();
    charge_budget(n);
    // n * sizeof(float) must not wrap around to a small block.
    if (n > (std::numeric_limits<std::size_t>::max() - 2 * huge_page) / sizeof(float)) throw std::bad_alloc();
    const std::size_t bytes = std::max(alignment, round_up(n * sizeof(float), alignment));
    if (bytes >= cached_min_bytes) {
        std::size_t mapped = round_up(bytes, 4096);
        bool fresh = false;
        // mapped becomes the block's own size: a larger cached block is given back (and unmapped) whole.
        float* block = static_cast<float*>(take_large(mapped, fresh));
        if (zeroed) *zeroed = fresh;
        return std::shared_ptr<float>(block, [mapped](float* q) { give_back_large(q, mapped); });
    }
    if (zeroed) *zeroed = false;
    void* p = std::aligned_alloc(alignment, bytes);
    if (!p) throw std::bad_alloc();
    count_live(bytes);
    return std::shared_ptr<float>(static_cast<float*>(p), [bytes](float* q) {
        g_live.fetch_sub(bytes, std::memory_order_relaxed);
        std::free(q);
    });
}

void release_cached_storage() {
    Cache& c = cache();
    std::vector<CachedBlock> evicted;
    {
        std::lock_guard lock(c.mutex);
        evicted.swap(c.blocks);
        c.cached_bytes = 0;
        c.high_water = g_live.load(std::memory_order_relaxed);
    }
    for (const CachedBlock& b : evicted) unmap_block(b.data, b.bytes);
}

std::size_t cached_storage_bytes() {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    return c.cached_bytes;
}

std::size_t tensor_bytes_live() {
    return g_live.load(std::memory_order_relaxed);
}

std::size_t tensor_bytes_peak() {
    return g_peak.load(std::memory_order_relaxed);
}

void reset_tensor_bytes_peak() {
    g_peak.store(g_live.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

}  // namespace mtag::nn
