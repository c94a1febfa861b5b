#pragma once
// NumPy .npy files for features: float32, little-endian ('<f4'), C order. Written as format 1.0 with the
// header padded so the data starts on a 64-byte boundary (what numpy.save does), read back with every
// header field checked, either into memory or memory-mapped.
// ref: numpy/lib/format.py (the NPY format specification, versions 1.0, 2.0 and 3.0)
#include "dsp/matrix.hpp"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// What a .npy header declares, and where the data starts.
struct NpyHeader {
    int major_version = 1;
    int minor_version = 0;
    std::string descr;  // dtype string, e.g. "<f4"
    bool fortran_order = false;
    std::vector<std::size_t> shape;  // () for a scalar
    std::size_t data_offset = 0;     // bytes from the start of the file to the first value

    std::size_t element_count() const;
};

// The header bytes numpy.save would write for a '<f4' C-order array of this shape (magic included);
// its length is a multiple of 64.
std::string npy_header_bytes(std::span<const std::size_t> shape);

// Writes `values` (row-major, product(shape) of them) as a float32 .npy through a temporary name in the
// same folder, then renames it, so readers never see a partial file. Throws mtag::Error on I/O failure.
void save_npy(const std::filesystem::path& path, std::span<const float> values,
              std::span<const std::size_t> shape);

// Writes a [rows, cols] matrix (a spectrogram [bins, frames]) as a 2-D float32 .npy.
void save_npy(const std::filesystem::path& path, const FloatMatrix& matrix);

// Reads and validates the header: magic, version (1.0, 2.0, 3.0), dtype '<f4', fortran_order False,
// a well-formed shape, and a file size that matches the shape. Throws mtag::Error with got/expected.
NpyHeader read_npy_header(const std::filesystem::path& path);

// Reads a 2-D float32 .npy into a matrix [shape[0], shape[1]]; a 1-D array becomes one row.
FloatMatrix load_npy(const std::filesystem::path& path);

// A read-only memory map of a float32 .npy: no copy, pages load on demand (feature caches).
class MappedNpy {
  public:
    explicit MappedNpy(const std::filesystem::path& path);
    ~MappedNpy();
    MappedNpy(MappedNpy&& other) noexcept;
    MappedNpy& operator=(MappedNpy&& other) noexcept;
    MappedNpy(const MappedNpy&) = delete;
    MappedNpy& operator=(const MappedNpy&) = delete;

    const NpyHeader& header() const { return m_header; }
    const std::vector<std::size_t>& shape() const { return m_header.shape; }
    // All values in C order.
    std::span<const float> values() const { return {m_data, m_header.element_count()}; }
    // Row r of a 2-D array ([bins, frames]: one bin over all frames).
    std::span<const float> row(std::size_t r) const;

  private:
    void release() noexcept;

    NpyHeader m_header;
    void* m_map = nullptr;
    std::size_t m_map_size = 0;
    const float* m_data = nullptr;
};

}  // namespace mtag::dsp
