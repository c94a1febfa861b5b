#pragma once
// nn::Tensor: a float32, always-contiguous, row-major array of rank 0..4 on 64-byte aligned storage.
// Layout conventions: (N, C, L) for 1-D work, (N, C, H, W) for 2-D work, (N, F) for dense layers.
// Copying a Tensor is cheap and SHARES storage (like torch.Tensor); deep copies are explicit (clone()).
// Views (view/reshape, batch slices) share storage too; nothing in this class copies data implicitly.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>

namespace mtag::nn {

// A shape of rank 0..4; dims are signed so that padding arithmetic needs no casts.
class Shape {
  public:
    static constexpr int max_rank = 4;

    Shape() = default;  // rank 0 (a scalar: one element)
    Shape(std::initializer_list<std::int64_t> dims);

    int rank() const { return m_rank; }
    std::int64_t operator[](int axis) const { return m_dims[static_cast<std::size_t>(axis)]; }
    std::int64_t& operator[](int axis) { return m_dims[static_cast<std::size_t>(axis)]; }
    // Number of elements (1 for rank 0). Inline: loops bounded by a tensor's size call it.
    std::int64_t numel() const {
        std::int64_t n = 1;
        for (int i = 0; i < m_rank; ++i) n *= m_dims[static_cast<std::size_t>(i)];
        return n;
    }
    // "[16, 128, 96, 1366]", used in every got/expected message.
    std::string str() const;
    // The same shape with `dim` appended (throws past rank 4).
    Shape appended(std::int64_t dim) const;

    friend bool operator==(const Shape& a, const Shape& b);

  private:
    std::array<std::int64_t, max_rank> m_dims{};
    int m_rank = 0;
};

// Dense float32 tensor; see the file comment for the sharing rules.
class Tensor {
  public:
    Tensor() = default;  // empty: no storage, rank 0, defined() == false
    // Allocates zero-initialised aligned storage (a fresh mapping, already zero, is not written: its pages stay
    // untouched until used).
    explicit Tensor(const Shape& shape);

    static Tensor zeros(const Shape& shape) { return Tensor(shape); }
    static Tensor full(const Shape& shape, float value);
    // Copies `values` (size must equal shape.numel()) into new storage.
    static Tensor from(const Shape& shape, std::span<const float> values);
    // Allocates WITHOUT zeroing (for outputs that are fully overwritten).
    static Tensor uninitialized(const Shape& shape);

    bool defined() const { return m_data != nullptr; }
    const Shape& shape() const { return m_shape; }
    int rank() const { return m_shape.rank(); }
    std::int64_t dim(int axis) const { return m_shape[axis]; }
    std::size_t size() const { return static_cast<std::size_t>(m_shape.numel()) * (m_data ? 1 : 0); }

    // Constness is shallow, as for std::shared_ptr: a const Tensor still points at writable storage.
    float* data() const { return m_data; }
    std::span<float> span() const { return {m_data, size()}; }
    float& operator[](std::size_t i) const { return m_data[i]; }
    // Element access by index for ranks 2..4 (tests and small loops; hot paths use data()).
    float& at(std::int64_t i, std::int64_t j) const;
    float& at(std::int64_t i, std::int64_t j, std::int64_t k) const;
    float& at(std::int64_t i, std::int64_t j, std::int64_t k, std::int64_t l) const;

    // Same storage, new shape with equal numel; one dim may be -1 (inferred). Throws on mismatch.
    Tensor view(const Shape& shape) const;
    Tensor reshape(const Shape& shape) const { return view(shape); }
    // Same storage, dims from axis `start` on merged into one: (N, C, H, W).flatten(1) -> (N, C*H*W).
    Tensor flatten(int start = 1) const;
    // Same storage, rows [begin, end) of the first axis (a batch slice).
    Tensor slice(std::int64_t begin, std::int64_t end) const;
    // Explicit deep copy into new storage.
    Tensor clone() const;

    void fill(float value) const;
    void zero() const { fill(0.0f); }
    // Copies src's elements (same numel) into this tensor's storage.
    void copy_from(const Tensor& src) const;

    // True when both tensors point into the same allocation.
    bool shares_storage(const Tensor& other) const { return m_storage && m_storage == other.m_storage; }
    // True when no other Tensor refers to this storage (it may be overwritten without anyone noticing).
    bool unique_storage() const { return m_storage && m_storage.use_count() == 1; }
    // Elements the underlying allocation holds from data() on.
    std::size_t capacity() const { return m_capacity; }

  private:
    friend Tensor reuse_or_allocate(Tensor& cache, const Shape& shape);
    // uninitialized(), also saying whether the storage is a fresh (kernel-zeroed) mapping (allocate_storage).
    static Tensor allocated(const Shape& shape, bool* zeroed);

    std::shared_ptr<float> m_storage;  // owns the aligned allocation
    float* m_data = nullptr;           // first element of this view
    std::size_t m_capacity = 0;        // elements available from m_data to the end of the allocation
    Shape m_shape;
};

// Returns `cache` reshaped to `shape` when its storage is not shared with anyone else and is large
// enough, otherwise a new uninitialised tensor (stored into `cache`). Lets a layer reuse its output
// buffer from one batch to the next without ever overwriting a tensor the caller still holds.
Tensor reuse_or_allocate(Tensor& cache, const Shape& shape);

}  // namespace mtag::nn
