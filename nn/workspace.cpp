#include "nn/workspace.hpp"

#include <array>
#include <cstdlib>
#include <memory>
#include <new>

namespace mtag::nn {

namespace {

struct FreeDeleter {
    void operator()(float* p) const { std::free(p); }
};

struct Slot {
    std::unique_ptr<float, FreeDeleter> data;
    std::size_t capacity = 0;
};

constexpr int slot_count = 8;
thread_local std::array<Slot, slot_count> t_slots;

}  // namespace

float* scratch(std::size_t count, int slot) {
    Slot& s = t_slots[static_cast<std::size_t>(slot) % slot_count];
    if (count > s.capacity) {
        const std::size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
        void* p = std::aligned_alloc(64, bytes);
        if (!p) throw std::bad_alloc();
        s.data.reset(static_cast<float*>(p));
        s.capacity = count;
    }
    return s.data.get();
}

void release_scratch() {
    for (Slot& s : t_slots) {
        s.data.reset();
        s.capacity = 0;
    }
}

}  // namespace mtag::nn
