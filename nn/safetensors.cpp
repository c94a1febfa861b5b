#include "nn/safetensors.hpp"

#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>

namespace mtag::nn {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

void write_safetensors(const std::filesystem::path& path, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (const SafetensorsEntry& e : entries) {
        if (e.name.empty() || e.name == "__metadata__")
            throw Error("safetensors '" + path.string() + "'", "invalid tensor name '" + e.name + "'");
        if (header.contains(e.name))
            throw Error("safetensors '" + path.string() + "'", "duplicate tensor name '" + e.name + "'");
        std::vector<std::int64_t> shape;
        for (int i = 0; i < e.value.rank(); ++i) shape.push_back(e.value.dim(i));
        const std::uint64_t bytes = e.value.size() * (e.as_int64 ? 8 : 4);
        header[e.name] = {{"dtype", e.as_int64 ? "I64" : "F32"},
                          {"shape", shape},
                          {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    while (text.size() % 8 != 0) text.push_back(' ');  // align the data section to 8 bytes
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw Error("safetensors '" + path.string() + "'", "cannot open for writing");
        const std::uint64_t n = text.size();
        out.write(reinterpret_cast<const char*>(&n), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const SafetensorsEntry& e : entries) {
            if (e.as_int64) {
                for (float v : e.value.span()) {
                    const auto i = static_cast<std::int64_t>(std::llround(v));
                    out.write(reinterpret_cast<const char*>(&i), 8);
                }
            } else {
                out.write(reinterpret_cast<const char*>(e.value.data()),
                          static_cast<std::streamsize>(e.value.size() * 4));
            }
        }
        if (!out) throw Error("safetensors '" + path.string() + "'", "write failed (disk full?)");
    }
    std::filesystem::rename(tmp, path);  // never leave a half-written file under the final name
}

namespace {

// A JSON value for an error message: short, and never a deep recursion. A hostile header may nest arrays
// millions deep inside "shape" or "data_offsets"; nlohmann's dump() recurses once per level.
std::string brief(const nlohmann::json& j) {
    if (j.is_structured())
        for (const auto& e : j)
            if (e.is_structured()) return j.is_array() ? "a nested array" : "a nested object";
    std::string s = j.dump();
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

// The JSON header after the 8-byte length; throws when the length is implausible or the JSON is malformed.
nlohmann::json parse_header(const std::string& bytes, const std::string& where, std::uint64_t& n) {
    if (bytes.size() < 8)
        throw Error(where, "truncated: " + std::to_string(bytes.size()) +
                               " bytes, expected at least 8 (header length)");
    std::memcpy(&n, bytes.data(), 8);
    if (n > safetensors_max_header)
        throw Error(where, "header length " + std::to_string(n) + " exceeds the limit of " +
                               std::to_string(safetensors_max_header) + " bytes");
    if (n > bytes.size() - 8)
        throw Error(where, "truncated: header length " + std::to_string(n) + " but only " +
                               std::to_string(bytes.size() - 8) + " bytes follow");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed JSON header: ") + e.what());
    }
    if (!header.is_object()) throw Error(where, "header is not a JSON object");
    return header;
}

// Copies the __metadata__ entry (an object of strings) into metadata.
void parse_metadata(const nlohmann::json& entry, const std::string& where,
                    std::map<std::string, std::string>& metadata) {
    if (!entry.is_object()) throw Error(where, "__metadata__ is not an object of strings");
    for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw Error(where, "__metadata__ value of '" + k + "' is not a string");
        metadata[k] = v.get<std::string>();
    }
}

// A tensor entry of the header, checked but not yet read.
struct EntryInfo {
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t numel = 0, begin = 0, end = 0;
};

// One tensor entry, checked: dtype, shape, data_offsets within the data section and matching the shape.
EntryInfo describe_tensor(const nlohmann::json& entry, const std::string& tensor, std::uint64_t data_size) {
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
        throw Error(tensor, "entry must be an object with dtype, shape and data_offsets");
    if (!entry["dtype"].is_string()) throw Error(tensor, "dtype is not a string");
    const std::string dtype = entry["dtype"].get<std::string>();
    if (dtype != "F32" && dtype != "I64")
        throw Error(tensor, "dtype " + dtype + ", expected F32 (or I64 for counters)");
    const auto& shape_json = entry["shape"];
    if (!shape_json.is_array() || shape_json.size() > 4)
        throw Error(tensor, "shape must be an array of at most 4 dimensions, got " + brief(shape_json));
    const std::uint64_t width = dtype == "F32" ? 4 : 8;
    std::vector<std::int64_t> shape;
    for (const auto& d : shape_json) {
        if (!d.is_number_unsigned())
            throw Error(tensor, "shape " + brief(shape_json) + " has a non-integer or negative dimension");
        const auto v = d.get<std::uint64_t>();
        if (v > (std::uint64_t{1} << 40))
            throw Error(tensor, "dimension " + std::to_string(v) + " is implausibly large");
        shape.push_back(static_cast<std::int64_t>(v));
    }
    const auto& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() ||
        !offs[1].is_number_unsigned())
        throw Error(tensor,
                    "data_offsets must be [begin, end] with non-negative integers, got " + brief(offs));
    const auto begin = offs[0].get<std::uint64_t>(), end = offs[1].get<std::uint64_t>();
    if (begin > end)
        throw Error(tensor, "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                "] end before begin");
    if (end > data_size)
        throw Error(tensor, "data_offsets end " + std::to_string(end) + " beyond the data section of " +
                                std::to_string(data_size) + " bytes (truncated file?)");
    // The byte count is computed without wrapping around: a forged shape such as [2^32, 2^32] must not come
    // to 0 bytes and pass the size check below with data_offsets [0, 0], then allocate 2^64 elements.
    std::uint64_t numel = 1, bytes = 0;
    bool overflow = false;
    for (std::int64_t d : shape) overflow |= __builtin_mul_overflow(numel, static_cast<std::uint64_t>(d), &numel);
    overflow |= __builtin_mul_overflow(numel, width, &bytes);
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) numel = bytes = 0;
    else if (overflow)
        throw Error(tensor, "shape " + brief(shape_json) + " has more elements than 64 bits can count (forged file?)");
    if (end - begin != bytes)
        throw Error(tensor, "data_offsets cover " + std::to_string(end - begin) + " bytes, expected " +
                                std::to_string(bytes) + " for " + dtype + " shape " + brief(shape_json));
    return {dtype, shape, numel, begin, end};
}

// The entry's bytes as a float32 tensor (I64 converted).
SafetensorsTensor read_tensor(const EntryInfo& e, const char* data) {
    SafetensorsTensor t;
    t.dtype = e.dtype;
    t.shape = e.shape;
    Shape s;
    for (std::int64_t d : e.shape) s = s.appended(d);
    t.value = Tensor::uninitialized(s);
    if (e.dtype == "F32") {
        std::memcpy(t.value.data(), data + e.begin, e.numel * 4);
    } else {
        for (std::uint64_t i = 0; i < e.numel; ++i) {
            std::int64_t v;
            std::memcpy(&v, data + e.begin + 8 * i, 8);
            t.value[i] = static_cast<float>(v);
        }
    }
    return t;
}

// Throws unless the tensors' ranges tile the data section exactly: no overlap, no hole, nothing left over.
void check_coverage(std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges, std::uint64_t data_size,
                    const std::string& where) {
    std::sort(ranges.begin(), ranges.end());
    std::uint64_t covered = 0;
    for (auto [b, e] : ranges) {
        if (b < covered)
            throw Error(where, "overlapping data_offsets: a tensor starts at " + std::to_string(b) +
                                   " before the previous one ends at " + std::to_string(covered));
        if (b > covered)
            throw Error(where, "hole in the data section: bytes " + std::to_string(covered) + ".." +
                                   std::to_string(b) + " belong to no tensor");
        covered = e;
    }
    if (covered != data_size)
        throw Error(where, "data section has " + std::to_string(data_size) + " bytes, tensors cover " +
                               std::to_string(covered));
}

// Every tensor entry of a parsed header checked against a data section of data_size bytes, and the ranges
// shown to tile it, before any tensor is allocated: a thousand entries all pointing at the same gigabyte must
// fail here, not after a thousand gigabytes of copies. After the check the tensors together hold at most the
// data section's bytes. The "__metadata__" entry goes into metadata.
std::map<std::string, EntryInfo> check_entries(const nlohmann::json& header, std::uint64_t data_size,
                                               const std::string& where,
                                               std::map<std::string, std::string>& metadata) {
    std::map<std::string, EntryInfo> entries;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            parse_metadata(entry, where, metadata);
            continue;
        }
        EntryInfo info = describe_tensor(entry, where + " tensor '" + name + "'", data_size);
        ranges.emplace_back(info.begin, info.end);
        entries.emplace(name, std::move(info));
    }
    check_coverage(ranges, data_size, where);
    return entries;
}

}  // namespace

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& what) {
    const std::string where = "safetensors '" + what + "'";
    std::uint64_t n = 0;
    const nlohmann::json header = parse_header(bytes, where, n);
    const char* data = bytes.data() + 8 + n;
    SafetensorsFile file;
    for (const auto& [name, info] : check_entries(header, bytes.size() - 8 - n, where, file.metadata))
        file.tensors.emplace(name, read_tensor(info, data));
    return file;
}

struct SafetensorsReader::Impl {
    std::filesystem::path path;
    std::string where;
    std::ifstream in;
    std::uint64_t data_start = 0;
    std::map<std::string, EntryInfo> entries;
    std::map<std::string, std::string> metadata;

    const EntryInfo& entry(const std::string& name) const {
        const auto it = entries.find(name);
        if (it == entries.end()) throw Error(where, "has no tensor '" + name + "'");
        return it->second;
    }
};

SafetensorsReader::SafetensorsReader(const std::filesystem::path& path) : m_impl(std::make_unique<Impl>()) {
    Impl& r = *m_impl;
    r.path = path;
    r.where = "safetensors '" + path.string() + "'";
    const std::string& where = r.where;
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw Error(where, "cannot open (missing file?)");
    // A FIFO or a device would be read without end; only a regular file has a size to check against.
    if (!std::filesystem::is_regular_file(status)) throw Error(where, "is not a regular file");
    const std::uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(where, "cannot read its size: " + ec.message());
    r.in.open(path, std::ios::binary);
    if (!r.in) throw Error(where, "cannot open (permissions?)");
    // The header length is checked against the file's size before anything is allocated for it. Only the
    // header is read here; each tensor's bytes are read by read(), straight into its tensor.
    std::uint64_t n = 0;
    if (size >= 8) {
        r.in.read(reinterpret_cast<char*>(&n), 8);
        if (n > safetensors_max_header)
            throw Error(where, "header length " + std::to_string(n) + " exceeds the limit of " +
                                   std::to_string(safetensors_max_header) + " bytes");
        if (n > size - 8)
            throw Error(where, "truncated: header length " + std::to_string(n) + " but the file has only " +
                                   std::to_string(size - 8) + " bytes after it");
        r.in.seekg(0);
    }
    std::string head(size >= 8 ? 8 + n : size, '\0');
    r.in.read(head.data(), static_cast<std::streamsize>(head.size()));
    if (static_cast<std::uint64_t>(r.in.gcount()) != head.size())
        throw Error(where, "read " + std::to_string(r.in.gcount()) + " of " + std::to_string(head.size()) +
                               " header bytes (file changed or read error)");
    const nlohmann::json header = parse_header(head, where, n);
    r.data_start = 8 + n;
    r.entries = check_entries(header, size - 8 - n, where, r.metadata);
}

SafetensorsReader::~SafetensorsReader() = default;

const std::map<std::string, std::string>& SafetensorsReader::metadata() const { return m_impl->metadata; }

std::vector<std::string> SafetensorsReader::names() const {
    std::vector<std::string> out;
    for (const auto& [name, info] : m_impl->entries) out.push_back(name);
    return out;
}

bool SafetensorsReader::contains(const std::string& name) const { return m_impl->entries.count(name) > 0; }

const std::string& SafetensorsReader::dtype(const std::string& name) const { return m_impl->entry(name).dtype; }

Shape SafetensorsReader::shape(const std::string& name) const {
    Shape s;
    for (std::int64_t d : m_impl->entry(name).shape) s = s.appended(d);
    return s;
}

SafetensorsTensor SafetensorsReader::read(const std::string& name) {
    Impl& r = *m_impl;
    const EntryInfo& e = r.entry(name);
    SafetensorsTensor t;
    t.dtype = e.dtype;
    t.shape = e.shape;
    t.value = Tensor::uninitialized(shape(name));
    const std::uint64_t bytes = e.end - e.begin;
    std::vector<std::int64_t> wide(e.dtype == "F32" ? 0 : e.numel);
    char* dst = e.dtype == "F32" ? reinterpret_cast<char*>(t.value.data()) : reinterpret_cast<char*>(wide.data());
    r.in.clear();
    r.in.seekg(static_cast<std::streamoff>(r.data_start + e.begin));
    r.in.read(dst, static_cast<std::streamsize>(bytes));
    if (!r.in || static_cast<std::uint64_t>(r.in.gcount()) != bytes)
        throw Error(r.where, "read " + std::to_string(r.in.gcount()) + " of " + std::to_string(bytes) +
                                 " bytes of tensor '" + name + "' (file changed or read error)");
    for (std::uint64_t i = 0; i < wide.size(); ++i) t.value[i] = static_cast<float>(wide[i]);
    return t;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
    SafetensorsReader reader(path);
    SafetensorsFile file;
    file.metadata = reader.metadata();
    for (const std::string& name : reader.names()) file.tensors.emplace(name, reader.read(name));
    return file;
}

}  // namespace mtag::nn
