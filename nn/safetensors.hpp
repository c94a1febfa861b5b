#pragma once
// Reading and writing the safetensors format: 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}),
// then the raw little-endian data; offsets are relative to the start of the data section.
// The reader validates everything before use and throws mtag::Error with got/expected details for a
// truncated file, an oversized or malformed header, unknown dtypes, negative or inconsistent shapes,
// out-of-range, overlapping or hole-leaving offsets. ref: github.com/huggingface/safetensors (format).
#include "nn/tensor.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn {

// One tensor to write: F32 values, or I64 (values are rounded to integers, e.g. num_batches_tracked).
struct SafetensorsEntry {
    std::string name;
    Tensor value;
    bool as_int64 = false;
};

// One tensor read from a file, converted to float32 (I64 is accepted and converted).
struct SafetensorsTensor {
    std::string dtype;                // "F32" or "I64"
    std::vector<std::int64_t> shape;  // as stored
    Tensor value;                     // float32 copy of the data, shaped like `shape` (rank <= 4)
};

struct SafetensorsFile {
    std::map<std::string, SafetensorsTensor> tensors;
    std::map<std::string, std::string> metadata;  // the optional "__metadata__" string map
};

// Largest header accepted (100 MB, as the reference implementation).
constexpr std::uint64_t safetensors_max_header = 100'000'000;

// A safetensors file opened to read one tensor at a time: opening reads the header and checks every entry as
// read_safetensors does; read() reads one tensor's bytes, straight into a new tensor. Why: load_weights read the
// whole file image, then copied every tensor out of it, then into the model: a model's weights three times
// over at the peak (297 MB for sample_cnn_se's 99 MB); reading one tensor at a time adds at most one tensor.
class SafetensorsReader {
  public:
    explicit SafetensorsReader(const std::filesystem::path& path);
    ~SafetensorsReader();
    SafetensorsReader(const SafetensorsReader&) = delete;
    SafetensorsReader& operator=(const SafetensorsReader&) = delete;
    // The tensors' names, sorted.
    std::vector<std::string> names() const;
    bool contains(const std::string& name) const;
    // A tensor's dtype ("F32" or "I64") and shape as stored; throws mtag::Error for an unknown name.
    const std::string& dtype(const std::string& name) const;
    Shape shape(const std::string& name) const;
    // Reads one tensor (float32; I64 converted); throws mtag::Error naming the file when it cannot be read.
    SafetensorsTensor read(const std::string& name);
    const std::map<std::string, std::string>& metadata() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

void write_safetensors(const std::filesystem::path& path, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata = {});
SafetensorsFile read_safetensors(const std::filesystem::path& path);
// Parses an in-memory file image; `what` names it in error messages.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& what);

}  // namespace mtag::nn
