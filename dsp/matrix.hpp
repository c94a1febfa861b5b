#pragma once
// A plain row-major 2-D array: the layout of every spectrogram in mtag is [bins, frames] (rows are
// frequency bins, columns are frames), as librosa returns it and as features are written to .npy.
#include <complex>
#include <cstddef>
#include <span>
#include <vector>

namespace mtag::dsp {

template <class T>
struct Matrix {
    std::vector<T> data;  // rows * cols values, row after row
    std::size_t rows = 0;
    std::size_t cols = 0;

    Matrix() = default;
    Matrix(std::size_t r, std::size_t c, T fill = T{}) : data(r * c, fill), rows(r), cols(c) {}

    // Reshapes, reusing the allocation when it is large enough (values are not preserved).
    void resize(std::size_t r, std::size_t c) {
        rows = r;
        cols = c;
        data.resize(r * c);
    }
    T& operator()(std::size_t r, std::size_t c) { return data[r * cols + c]; }
    const T& operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
    std::span<T> row(std::size_t r) { return {data.data() + r * cols, cols}; }
    std::span<const T> row(std::size_t r) const { return {data.data() + r * cols, cols}; }
    std::size_t size() const { return data.size(); }
    bool empty() const { return data.empty(); }
};

using FloatMatrix = Matrix<float>;
using ComplexMatrix = Matrix<std::complex<float>>;

}  // namespace mtag::dsp
