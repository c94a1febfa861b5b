#include "nn/storage_allocator.hpp"

#include "nn/memory_stats.hpp"
#include "nn/tensor.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

using namespace mtag::nn;

TEST_CASE("storage allocator: a freed large block is reused for the same size, small blocks bypass the cache") {
    release_cached_storage();
    const std::size_t n = (cached_min_bytes / sizeof(float)) * 3;  // 3 MiB
    float* first = nullptr;
    {
        Tensor t = Tensor::uninitialized({static_cast<std::int64_t>(n)});
        first = t.data();
        CHECK(reinterpret_cast<std::uintptr_t>(first) % 64 == 0);
        t.fill(1.0f);
    }
    CHECK(cached_storage_bytes() >= n * sizeof(float));
    Tensor again = Tensor::uninitialized({static_cast<std::int64_t>(n)});
    CHECK(again.data() == first);
    CHECK(cached_storage_bytes() == 0);
    // Zero-initialised tensors stay zero even on a reused block.
    again.fill(7.0f);
    again = Tensor();
    const Tensor zeros({static_cast<std::int64_t>(n)});
    for (std::size_t i = 0; i < n; i += 4099) REQUIRE(zeros[i] == 0.0f);
    const std::size_t before = cached_storage_bytes();
    { const Tensor small({1000}); }
    CHECK(cached_storage_bytes() == before);
    release_cached_storage();
    CHECK(cached_storage_bytes() == 0);
}

TEST_CASE("storage allocator: a zero tensor on a fresh mapping is not written: its pages stay non-resident") {
    release_cached_storage();
    const auto n = static_cast<std::int64_t>(cached_min_bytes / sizeof(float)) * 4;  // 4 MiB
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    // Pages of t's storage in memory (mincore(2); large blocks are page-aligned mappings).
    auto resident = [&](const Tensor& t) {
        const std::size_t bytes = t.size() * sizeof(float);
        std::vector<unsigned char> in((bytes + page - 1) / page);
        REQUIRE(mincore(t.data(), bytes, in.data()) == 0);
        std::size_t count = 0;
        for (unsigned char c : in) count += c & 1;
        return count;
    };
    {
        const Tensor grad(Shape{n});  // what every parameter's gradient is until a backward writes it
        CHECK(resident(grad) == 0);
        grad.fill(2.0f);
        CHECK(resident(grad) > 0);
    }
    // The block is cached now, with the 2s in it: a zero tensor on it must be filled.
    const Tensor again(Shape{n});
    for (std::int64_t i = 0; i < n; i += 1021) REQUIRE(again[static_cast<std::size_t>(i)] == 0.0f);
    release_cached_storage();
}

TEST_CASE("storage allocator: a miss releases cached blocks so live + cached stays under the high-water mark") {
    release_cached_storage();
    const auto mib = static_cast<std::int64_t>(cached_min_bytes / sizeof(float));
    const std::size_t live0 = tensor_bytes_live();
    { const Tensor a = Tensor::uninitialized({4 * mib}); }  // high water: live0 + 4 MiB
    CHECK(cached_storage_bytes() == 4 * cached_min_bytes);
    // 8 MiB does not fit next to the cached 4 MiB under the new high water (live0 + 8 MiB): 4 MiB released.
    const Tensor b = Tensor::uninitialized({8 * mib});
    CHECK(cached_storage_bytes() == 0);
    CHECK(tensor_bytes_live() == live0 + 8 * cached_min_bytes);
    release_cached_storage();
}

TEST_CASE("storage allocator: a smaller request is cut from a cached block, and freed pieces merge back into it") {
    release_cached_storage();
    const auto mib = static_cast<std::int64_t>(cached_min_bytes / sizeof(float));
    const std::size_t live0 = tensor_bytes_live();
    float* whole = nullptr;
    {
        const Tensor big = Tensor::uninitialized({8 * mib});  // high water: live0 + 8 MiB
        whole = big.data();
    }
    REQUIRE(cached_storage_bytes() == 8 * cached_min_bytes);
    {
        // Two pieces cut from the front of the one free range: live counts only what was asked.
        const Tensor a = Tensor::uninitialized({2 * mib});
        const Tensor b = Tensor::uninitialized({3 * mib});
        CHECK(a.data() == whole);
        CHECK(b.data() == whole + 2 * mib);
        CHECK(tensor_bytes_live() == live0 + 5 * cached_min_bytes);
        CHECK(cached_storage_bytes() == 3 * cached_min_bytes);
    }
    release_cached_storage();
    {
        // Fragments: 10 MiB (high water live0 + 10 MiB) cut into a 2, 3 and 2 MiB piece; freeing the 3 leaves
        // two free ranges of 3 MiB, [2, 5) and [7, 10), and 4 MiB live.
        { const Tensor big = Tensor::uninitialized({10 * mib}); whole = big.data(); }
        const Tensor a = Tensor::uninitialized({2 * mib});
        Tensor b = Tensor::uninitialized({3 * mib});
        const Tensor e = Tensor::uninitialized({2 * mib});
        REQUIRE(e.data() == whole + 5 * mib);
        b = Tensor();
        REQUIRE(cached_storage_bytes() == 6 * cached_min_bytes);
        // No free range holds 4 MiB: a miss. 4 live + 4 new leave 2 MiB under the high water, so 4 MiB go:
        // the least recently freed range [7, 10) whole, then [2, 5) is shortened to [2, 4), not dropped.
        const Tensor c = Tensor::uninitialized({4 * mib});
        CHECK(tensor_bytes_live() == live0 + 8 * cached_min_bytes);
        CHECK(cached_storage_bytes() == 2 * cached_min_bytes);
        const Tensor d = Tensor::uninitialized({2 * mib});
        CHECK(d.data() == whole + 2 * mib);
        CHECK(cached_storage_bytes() == 0);
    }
    release_cached_storage();
    {
        const Tensor big = Tensor::uninitialized({8 * mib});
        whole = big.data();
    }
    {
        Tensor a = Tensor::uninitialized({2 * mib});
        Tensor b = Tensor::uninitialized({6 * mib});
        a.fill(1.0f);
        b.fill(2.0f);
        b = Tensor();  // freed out of order: the pieces merge whichever goes first
        a = Tensor();
    }
    CHECK(tensor_bytes_live() == live0);
    CHECK(cached_storage_bytes() == 8 * cached_min_bytes);
    // Merged: the whole 8 MiB serve one request again, at the same address, without a fresh mapping.
    const Tensor again = Tensor::uninitialized({8 * mib});
    CHECK(again.data() == whole);
    CHECK(cached_storage_bytes() == 0);
    CHECK(again[0] == 1.0f);
    CHECK(again[static_cast<std::size_t>(7 * mib)] == 2.0f);
    release_cached_storage();
}

TEST_CASE("storage allocator: an AllocationBudget bounds this thread's tensors while it lives") {
    {
        AllocationBudget budget(1 << 20, "forged model");
        Tensor small(Shape{150, 1024});  // 600 KiB: within the budget
        CHECK_THROWS_WITH(Tensor(Shape{128, 1024}).size(), Catch::Matchers::Contains("forged model: would allocate more than 1 MiB"));
        CHECK_THROWS_WITH(AllocationBudget(1, "nested"), Catch::Matchers::Contains("do not nest"));
        // Another thread is not bound by this thread's budget.
        std::size_t other = 0;
        std::thread([&] { other = Tensor(Shape{1024, 1024}).size(); }).join();
        CHECK(other == 1024 * 1024);
    }
    CHECK(Tensor(Shape{1024, 1024}).size() == 1024 * 1024);  // the budget ended with its scope
    // A shape whose element count overflows is an error before any allocation.
    CHECK_THROWS_WITH(Tensor(Shape{std::int64_t{1} << 40, std::int64_t{1} << 40}), Catch::Matchers::Contains("more elements"));
}
