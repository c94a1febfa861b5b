#include "nn/storage_allocator.hpp"

#include "dsp/error.hpp"
#include "nn/memory_stats.hpp"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
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

// A free, page-aligned range of mapped memory. Ranges are cut from and merged back into larger ones: every
// range lies inside mappings made by map_block, and munmap and reuse work on any page-aligned sub-range,
// including one spanning two adjacent mappings.
struct FreeRange {
    std::size_t bytes;
    std::uint64_t freed_at;  // logical clock: eviction takes the least recently freed range first
};

struct Cache {
    std::mutex mutex;
    std::map<std::uintptr_t, FreeRange> ranges;  // by start address, so neighbours can be merged
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

// Requests from this size on are rounded up to whole huge pages, so what is cut from a cached range leaves
// the rest 2 MiB-aligned (at most 1/16 more memory).
constexpr std::size_t huge_rounding_min = std::size_t{32} << 20;

// Caller holds c.mutex. Takes `bytes` from the front of the smallest free range that holds them; the rest of
// the range stays cached. Why cut: a training step's large tensors come in a few sizes in an order that
// changes between forward and backward (crnn: 512, 256 and 128 MiB at a 2.3 GB high-water mark); whole-block
// reuse kept missing and mapped ~900 MB afresh every step, and the kernel's zeroing of those pages was 28%
// of crnn's training CPU time.
void* cut_from_cache(Cache& c, std::size_t bytes) {
    auto best = c.ranges.end();
    for (auto it = c.ranges.begin(); it != c.ranges.end(); ++it)
        if (it->second.bytes >= bytes && (best == c.ranges.end() || it->second.bytes < best->second.bytes)) best = it;
    if (best == c.ranges.end()) return nullptr;
    const std::uintptr_t start = best->first;
    const FreeRange range = best->second;
    c.ranges.erase(best);
    if (range.bytes > bytes) c.ranges.emplace(start + bytes, FreeRange{range.bytes - bytes, range.freed_at});
    c.cached_bytes -= bytes;
    return reinterpret_cast<void*>(start);
}

// Caller holds c.mutex. Removes cached memory, least recently freed first, until at most `keep` bytes stay
// cached; a range that is larger than what must go is shortened from its end. The removed ranges are
// appended to `evicted` for unmapping outside the lock.
void evict_down_to(Cache& c, std::size_t keep, std::vector<std::pair<std::uintptr_t, std::size_t>>& evicted) {
    while (c.cached_bytes > keep) {
        auto oldest = c.ranges.begin();
        for (auto it = c.ranges.begin(); it != c.ranges.end(); ++it)
            if (it->second.freed_at < oldest->second.freed_at) oldest = it;
        const std::size_t excess = c.cached_bytes - keep;
        FreeRange& range = oldest->second;
        if (range.bytes > excess) {
            const std::size_t cut = round_up(excess, 4096);
            if (cut < range.bytes) {
                range.bytes -= cut;
                c.cached_bytes -= cut;
                evicted.emplace_back(oldest->first + range.bytes, cut);
                continue;
            }
        }
        c.cached_bytes -= range.bytes;
        evicted.emplace_back(oldest->first, range.bytes);
        c.ranges.erase(oldest);
    }
}

void* take_large(std::size_t bytes, bool& fresh) {
    fresh = false;
    Cache& c = cache();
    std::vector<std::pair<std::uintptr_t, std::size_t>> evicted;
    {
        std::lock_guard lock(c.mutex);
        if (c.enabled) {
            if (void* hit = cut_from_cache(c, bytes)) {
                count_live(bytes);
                return hit;
            }
        }
        const std::size_t live = g_live.load(std::memory_order_relaxed);
        c.high_water = std::max(c.high_water, live + bytes);
        // Miss: release cached memory until live + cached + this block fits under the high-water mark.
        evict_down_to(c, c.high_water - live - bytes, evicted);
        count_live(bytes);
    }
    for (const auto& [start, size] : evicted) unmap_block(reinterpret_cast<void*>(start), size);
    fresh = true;
    return map_block(bytes);
}

// Caches the block, merged with free neighbours into one range.
void give_back_large(void* data, std::size_t bytes) {
    g_live.fetch_sub(bytes, std::memory_order_relaxed);
    Cache& c = cache();
    {
        std::lock_guard lock(c.mutex);
        if (c.enabled) {
            auto start = reinterpret_cast<std::uintptr_t>(data);
            std::size_t size = bytes;
            c.cached_bytes += bytes;
            auto next = c.ranges.lower_bound(start);
            if (next != c.ranges.end() && next->first == start + size) {
                size += next->second.bytes;
                next = c.ranges.erase(next);
            }
            if (next != c.ranges.begin()) {
                const auto prev = std::prev(next);
                if (prev->first + prev->second.bytes == start) {
                    start = prev->first;
                    size += prev->second.bytes;
                    c.ranges.erase(prev);
                }
            }
            c.ranges.emplace(start, FreeRange{size, ++c.clock});
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
        const std::size_t mapped = round_up(bytes, bytes >= huge_rounding_min ? huge_page : 4096);
        bool fresh = false;
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
    std::map<std::uintptr_t, FreeRange> evicted;
    {
        std::lock_guard lock(c.mutex);
        evicted.swap(c.ranges);
        c.cached_bytes = 0;
        c.high_water = g_live.load(std::memory_order_relaxed);
    }
    for (const auto& [start, range] : evicted) unmap_block(reinterpret_cast<void*>(start), range.bytes);
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
