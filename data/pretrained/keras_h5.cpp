#include "data/pretrained/keras_h5.hpp"

#include "data/pretrained/child_process.hpp"
#include "dsp/error.hpp"

#include <hdf5.h>

#include <cstring>
#include <regex>
#include <utility>

namespace mtag::data {

namespace {

// An HDF5 identifier closed by `close` when it goes out of scope.
class Handle {
  public:
    Handle(hid_t id, herr_t (*close)(hid_t)) : m_id(id), m_close(close) {}
    ~Handle() {
        if (m_id >= 0) m_close(m_id);
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    hid_t get() const { return m_id; }
    bool valid() const { return m_id >= 0; }

  private:
    hid_t m_id;
    herr_t (*m_close)(hid_t);
};

// HDF5 prints an error stack for every failed call unless told not to; mtag reports its own errors.
void silence_hdf5() {
    static const bool done = [] {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        return true;
    }();
    (void)done;
}

// The strings of attribute `name` of object `object` (fixed-length or variable-length strings; an empty
// non-string array, as Keras writes for a layer without weights, gives no strings). Throws with `where`.
std::vector<std::string> read_string_attribute(hid_t object, const char* name, const std::string& where) {
    if (H5Aexists(object, name) <= 0) throw Error(where, std::string("has no attribute '") + name + "' (not a Keras weights file?)");
    Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(attr.get()), H5Tclose);
    Handle space(H5Aget_space(attr.get()), H5Sclose);
    if (!attr.valid() || !type.valid() || !space.valid())
        throw Error(where, std::string("attribute '") + name + "' cannot be read");
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0 || n > 100000) throw Error(where, std::string("attribute '") + name + "' has an invalid size");
    std::vector<std::string> out;
    if (n == 0) return out;
    if (H5Tget_class(type.get()) != H5T_STRING)
        throw Error(where, std::string("attribute '") + name + "' does not hold strings");
    Handle memtype(H5Tcopy(H5T_C_S1), H5Tclose);
    if (H5Tis_variable_str(type.get()) > 0) {
        H5Tset_size(memtype.get(), H5T_VARIABLE);
        std::vector<char*> buffer(static_cast<std::size_t>(n), nullptr);
        if (H5Aread(attr.get(), memtype.get(), buffer.data()) < 0)
            throw Error(where, std::string("attribute '") + name + "' cannot be read");
        for (char* s : buffer) {
            out.emplace_back(s ? s : "");
            H5free_memory(s);
        }
        return out;
    }
    const std::size_t size = H5Tget_size(type.get());
    if (size == 0 || size > 4096) throw Error(where, std::string("attribute '") + name + "' has strings of invalid size");
    // numpy's 'S' strings fill their whole width with no terminator (NULLPAD): read them one byte wider
    // as NUL-terminated strings, so the last character is not traded for the terminator.
    const std::size_t width = size + 1;
    H5Tset_size(memtype.get(), width);
    std::vector<char> buffer(static_cast<std::size_t>(n) * width);
    if (H5Aread(attr.get(), memtype.get(), buffer.data()) < 0)
        throw Error(where, std::string("attribute '") + name + "' cannot be read");
    for (hssize_t i = 0; i < n; ++i) {
        const char* s = buffer.data() + static_cast<std::size_t>(i) * width;
        out.emplace_back(s, strnlen(s, width));
    }
    return out;
}

H5Array read_h5_dataset(hid_t file, const std::filesystem::path& file_path, const KerasLayer& layer,
                        const std::string& weight_name) {
    const std::string where = "weights file '" + file_path.string() + "' layer '" + layer.name + "' dataset '" + weight_name + "'";
    const std::string path = layer.name + "/" + weight_name;
    Handle dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) throw Error(where, "cannot be opened (missing or truncated)");
    Handle type(H5Dget_type(dataset.get()), H5Tclose);
    Handle space(H5Dget_space(dataset.get()), H5Sclose);
    if (!type.valid() || !space.valid() || H5Tget_class(type.get()) != H5T_FLOAT)
        throw Error(where, "is not a floating-point array");
    // What libhdf5 itself allocates is bounded too (found by tests/fuzz/fuzz_keras_h5: a corrupt file made
    // H5Dread allocate 4 GB): IEEE half, single or double only, stored contiguously or compactly (as h5py
    // and Keras write weights: no chunks, no filters to inflate), in no more bytes than the file has.
    const std::size_t value_bytes = H5Tget_size(type.get());
    if (value_bytes != 2 && value_bytes != 4 && value_bytes != 8)
        throw Error(where, "has " + std::to_string(value_bytes) + "-byte floats (expected 2, 4 or 8)");
    Handle dcpl(H5Dget_create_plist(dataset.get()), H5Pclose);
    const H5D_layout_t layout = dcpl.valid() ? H5Pget_layout(dcpl.get()) : H5D_LAYOUT_ERROR;
    if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT)
        throw Error(where, "is chunked or has an unreadable layout (Keras weights are stored contiguously)");
    if (H5Dget_storage_size(dataset.get()) > std::filesystem::file_size(file_path))
        throw Error(where, "claims more bytes than the file holds (truncated or corrupt)");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > 8) throw Error(where, "has an invalid rank");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    H5Array out;
    std::uint64_t count = 1;
    for (hsize_t d : dims) {
        out.shape.push_back(static_cast<std::int64_t>(d));
        count *= d;
        // Bounded before allocating: no dataset of a weights file is larger than the file itself.
        if (count > std::filesystem::file_size(file_path) / value_bytes + 1024)
            throw Error(where, "claims more values than the file holds");
    }
    out.values.resize(static_cast<std::size_t>(count));
    if (count > 0 && H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) < 0)
        throw Error(where, "cannot be read (truncated or corrupt file)");
    return out;
}


// The layer table and every dataset, read in this process (the child's side of the constructor).
KerasWeightsFile::Contents read_contents(const std::filesystem::path& path) {
    silence_hdf5();
    const std::string where = "weights file '" + path.string() + "'";
    if (H5Fis_hdf5(path.c_str()) <= 0)
        throw Error(where, "is not an HDF5 file (or is truncated); expected Keras weights (.h5/.hdf5)");
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) throw Error(where, "cannot be opened by libhdf5 (truncated or corrupt?)");
    KerasWeightsFile::Contents contents;
    for (const std::string& name : read_string_attribute(file.get(), "layer_names", where)) {
        Handle group(H5Gopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
        if (!group.valid()) throw Error(where, "lists layer '" + name + "' but has no group for it (truncated?)");
        contents.layers.push_back({name, read_string_attribute(group.get(), "weight_names", where + " layer '" + name + "'")});
    }
    for (const KerasLayer& layer : contents.layers)
        for (const std::string& weight : layer.weight_names) {
            auto& slot = contents.datasets[layer.name + "/" + weight];
            try {
                slot = read_h5_dataset(file.get(), path, layer, weight);
            } catch (const Error& e) {
                slot = std::string(e.what());
            }
        }
    return contents;
}

// The contents as bytes for the pipe: lengths as 8-byte integers, then the bytes they count.
class Writer {
  public:
    void size(std::uint64_t n) { m_out.append(reinterpret_cast<const char*>(&n), sizeof n); }
    void text(const std::string& s) {
        size(s.size());
        m_out += s;
    }
    void floats(const std::vector<float>& v) {
        size(v.size());
        m_out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    }
    std::string take() { return std::move(m_out); }

  private:
    std::string m_out;
};

// Reads what Writer wrote; every length is checked against what is left, so a short or garbled stream is
// an error rather than an overread.
class Reader {
  public:
    explicit Reader(const std::string& in) : m_in(in) {}
    std::uint64_t size() {
        std::uint64_t n;
        take(&n, sizeof n);
        return n;
    }
    std::string text() {
        const std::uint64_t n = size();
        need(n);
        std::string s = m_in.substr(m_at, n);
        m_at += n;
        return s;
    }
    std::vector<float> floats() {
        const std::uint64_t n = size();
        if (n > (m_in.size() - m_at) / sizeof(float)) bad();
        std::vector<float> v(n);
        take(v.data(), n * sizeof(float));
        return v;
    }
    bool done() const { return m_at == m_in.size(); }

  private:
    void need(std::uint64_t n) const {
        if (n > m_in.size() - m_at) bad();
    }
    void take(void* out, std::size_t n) {
        need(n);
        if (n == 0) return;  // an empty dataset's vector has no buffer, and memcpy's pointers must not be null
        std::memcpy(out, m_in.data() + m_at, n);
        m_at += n;
    }
    [[noreturn]] static void bad() { throw ChildProcessFailed("sent a malformed result"); }
    const std::string& m_in;
    std::size_t m_at = 0;
};

std::string serialize(const KerasWeightsFile::Contents& contents) {
    Writer w;
    w.size(contents.layers.size());
    for (const KerasLayer& layer : contents.layers) {
        w.text(layer.name);
        w.size(layer.weight_names.size());
        for (const std::string& weight : layer.weight_names) {
            w.text(weight);
            const auto& slot = contents.datasets.at(layer.name + "/" + weight);
            if (const auto* array = std::get_if<H5Array>(&slot)) {
                w.size(1);
                w.size(array->shape.size());
                for (std::int64_t d : array->shape) w.size(static_cast<std::uint64_t>(d));
                w.floats(array->values);
            } else {
                w.size(0);
                w.text(std::get<std::string>(slot));
            }
        }
    }
    return w.take();
}

KerasWeightsFile::Contents deserialize(const std::string& bytes) {
    Reader r(bytes);
    KerasWeightsFile::Contents contents;
    const std::uint64_t layers = r.size();
    for (std::uint64_t l = 0; l < layers; ++l) {
        KerasLayer layer{r.text(), {}};
        const std::uint64_t weights = r.size();
        for (std::uint64_t w = 0; w < weights; ++w) {
            layer.weight_names.push_back(r.text());
            auto& slot = contents.datasets[layer.name + "/" + layer.weight_names.back()];
            if (r.size() == 1) {
                H5Array array;
                const std::uint64_t rank = r.size();
                if (rank > 8) throw ChildProcessFailed("sent a malformed result");
                for (std::uint64_t d = 0; d < rank; ++d) array.shape.push_back(static_cast<std::int64_t>(r.size()));
                array.values = r.floats();
                slot = std::move(array);
            } else {
                slot = r.text();
            }
        }
        contents.layers.push_back(std::move(layer));
    }
    if (!r.done()) throw ChildProcessFailed("sent a malformed result");
    return contents;
}

}  // namespace

std::string shape_string(const std::vector<std::int64_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

KerasWeightsFile::KerasWeightsFile(const std::filesystem::path& path) : m_path(path) {
    const std::string where = "weights file '" + path.string() + "'";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw Error(where, "does not exist or is not a file");
    try {
        m_contents = deserialize(run_in_child_process([&] { return serialize(read_contents(path)); }));
    } catch (const ChildProcessFailed& e) {
        throw Error(where, std::string("crashed libhdf5 while being read (the reader process ") + e.what() +
                               "): the file is corrupt or hostile, and nothing was imported. Fetch it again "
                               "(`mtag model fetch` verifies its checksum)");
    }
}

const KerasLayer& KerasWeightsFile::layer(const std::string& name) const {
    for (const KerasLayer& l : m_contents.layers)
        if (l.name == name) return l;
    std::string have;
    for (const KerasLayer& l : m_contents.layers)
        if (!l.weight_names.empty()) have += (have.empty() ? "" : ", ") + l.name;
    throw Error("weights file '" + m_path.string() + "'",
                "has no layer '" + name + "' (its layers with weights: " + have + "); is it another architecture?");
}

H5Array KerasWeightsFile::read(const KerasLayer& layer, const std::string& owner, const std::string& kind) const {
    const std::regex pattern(std::regex_replace(owner + "_" + kind, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                             "(_[0-9]+)?:0");
    for (const std::string& w : layer.weight_names) {
        const std::string local = w.substr(w.rfind('/') + 1);
        if (std::regex_match(local, pattern)) return read_dataset(layer, w);
    }
    std::string have;
    for (const std::string& w : layer.weight_names) have += (have.empty() ? "" : ", ") + w;
    throw Error("weights file '" + m_path.string() + "' layer '" + layer.name + "'",
                "has no dataset " + owner + "_" + kind + " (found: " + (have.empty() ? "none" : have) + ")");
}

H5Array KerasWeightsFile::read_dataset(const KerasLayer& layer, const std::string& weight_name) const {
    const auto it = m_contents.datasets.find(layer.name + "/" + weight_name);
    if (it == m_contents.datasets.end())
        throw Error("weights file '" + m_path.string() + "' layer '" + layer.name + "' dataset '" + weight_name + "'",
                    "cannot be opened (missing or truncated)");
    if (const auto* why = std::get_if<std::string>(&it->second)) throw Error(*why);
    return std::get<H5Array>(it->second);
}

}  // namespace mtag::data
