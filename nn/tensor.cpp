#include "nn/tensor.hpp"

#include "dsp/error.hpp"
#include "nn/storage_allocator.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace mtag::nn {

Shape::Shape(std::initializer_list<std::int64_t> dims) {
    if (dims.size() > static_cast<std::size_t>(max_rank))
        throw Error("nn::Shape", "rank " + std::to_string(dims.size()) + " exceeds the maximum of 4");
    for (std::int64_t d : dims) m_dims[static_cast<std::size_t>(m_rank++)] = d;
}

std::string Shape::str() const {
    std::string s = "[";
    for (int i = 0; i < m_rank; ++i)
        s += (i ? ", " : "") + std::to_string(m_dims[static_cast<std::size_t>(i)]);
    return s + "]";
}

Shape Shape::appended(std::int64_t dim) const {
    if (m_rank == max_rank) throw Error("nn::Shape " + str(), "cannot append a fifth dimension");
    Shape s = *this;
    s.m_dims[static_cast<std::size_t>(s.m_rank++)] = dim;
    return s;
}

bool operator==(const Shape& a, const Shape& b) {
    if (a.m_rank != b.m_rank) return false;
    for (int i = 0; i < a.m_rank; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

namespace {

// Called before every allocation: numel() must neither see a negative dimension nor overflow.
void check_shape(const Shape& shape) {
    std::int64_t n = 1;
    bool overflow = false, empty = false;
    for (int i = 0; i < shape.rank(); ++i) {
        if (shape[i] < 0) throw Error("nn::Tensor", "negative dimension in shape " + shape.str());
        overflow |= __builtin_mul_overflow(n, shape[i], &n);
        empty |= shape[i] == 0;
    }
    if (overflow && !empty) throw Error("nn::Tensor", "shape " + shape.str() + " has more elements than 64 bits count");
}

}  // namespace

Tensor Tensor::uninitialized(const Shape& shape) {
    return allocated(shape, nullptr);
}

Tensor Tensor::allocated(const Shape& shape, bool* zeroed) {
    check_shape(shape);
    Tensor t;
    const auto n = static_cast<std::size_t>(shape.numel());
    t.m_storage = allocate_storage(n, zeroed);
    t.m_data = t.m_storage.get();
    t.m_capacity = n;
    t.m_shape = shape;
    return t;
}

Tensor::Tensor(const Shape& shape) {
    // A fresh mapping is already zero: its pages stay untouched, and cost no resident memory, until written.
    bool zeroed = false;
    *this = allocated(shape, &zeroed);
    if (!zeroed) zero();
}

Tensor Tensor::full(const Shape& shape, float value) {
    Tensor t = uninitialized(shape);
    t.fill(value);
    return t;
}

Tensor Tensor::from(const Shape& shape, std::span<const float> values) {
    if (static_cast<std::int64_t>(values.size()) != shape.numel())
        throw Error("nn::Tensor::from", "got " + std::to_string(values.size()) + " values, expected " +
                                            std::to_string(shape.numel()) + " for shape " + shape.str());
    Tensor t = uninitialized(shape);
    std::copy(values.begin(), values.end(), t.m_data);
    return t;
}

float& Tensor::at(std::int64_t i, std::int64_t j) const {
    return m_data[i * m_shape[1] + j];
}
float& Tensor::at(std::int64_t i, std::int64_t j, std::int64_t k) const {
    return m_data[(i * m_shape[1] + j) * m_shape[2] + k];
}
float& Tensor::at(std::int64_t i, std::int64_t j, std::int64_t k, std::int64_t l) const {
    return m_data[((i * m_shape[1] + j) * m_shape[2] + k) * m_shape[3] + l];
}

Tensor Tensor::view(const Shape& shape) const {
    Shape s = shape;
    int infer = -1;
    std::int64_t known = 1;
    for (int i = 0; i < s.rank(); ++i) {
        if (s[i] == -1) {
            if (infer >= 0) throw Error("nn::Tensor::view " + shape.str(), "more than one -1 dimension");
            infer = i;
        } else {
            known *= s[i];
        }
    }
    const std::int64_t n = m_shape.numel();
    if (infer >= 0 && known > 0 && n % known == 0) s[infer] = n / known;
    if (s.numel() != n)
        throw Error("nn::Tensor::view", "cannot view a tensor of shape " + m_shape.str() + " (" +
                                            std::to_string(n) + " elements) as " + shape.str());
    Tensor t = *this;
    t.m_shape = s;
    return t;
}

Tensor Tensor::flatten(int start) const {
    if (start < 0 || start >= std::max(1, rank()))
        throw Error("nn::Tensor::flatten",
                    "start axis " + std::to_string(start) + " out of range for shape " + m_shape.str());
    Shape s;
    std::int64_t merged = 1;
    for (int i = 0; i < rank(); ++i) {
        if (i < start)
            s = s.appended(m_shape[i]);
        else
            merged *= m_shape[i];
    }
    return view(s.appended(merged));
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
    if (rank() < 1 || begin < 0 || end < begin || end > m_shape[0])
        throw Error("nn::Tensor::slice", "rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                                             ") out of range for shape " + m_shape.str());
    const std::int64_t row = m_shape[0] ? m_shape.numel() / m_shape[0] : 0;
    Tensor t = *this;
    t.m_shape[0] = end - begin;
    t.m_data = m_data + begin * row;
    t.m_capacity = m_capacity - static_cast<std::size_t>(begin * row);
    return t;
}

Tensor Tensor::clone() const {
    if (!defined()) return {};
    Tensor t = uninitialized(m_shape);
    std::memcpy(t.m_data, m_data, size() * sizeof(float));
    return t;
}

void Tensor::fill(float value) const {
    std::fill(m_data, m_data + size(), value);
}

void Tensor::copy_from(const Tensor& src) const {
    if (src.size() != size())
        throw Error("nn::Tensor::copy_from",
                    "got " + std::to_string(src.size()) + " elements, expected " + std::to_string(size()));
    if (src.m_data != m_data) std::memmove(m_data, src.m_data, size() * sizeof(float));
}

Tensor reuse_or_allocate(Tensor& cache, const Shape& shape) {
    check_shape(shape);
    if (cache.unique_storage() && cache.m_storage.get() &&
        static_cast<std::size_t>(cache.m_data - cache.m_storage.get()) + cache.m_capacity >=
            static_cast<std::size_t>(shape.numel())) {
        // Same allocation, viewed from its start with the requested shape.
        const auto offset = static_cast<std::size_t>(cache.m_data - cache.m_storage.get());
        cache.m_capacity += offset;
        cache.m_data = cache.m_storage.get();
        cache.m_shape = shape;
        return cache;
    }
    cache = Tensor::uninitialized(shape);
    return cache;
}

}  // namespace mtag::nn
