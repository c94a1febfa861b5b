#include "dsp/npy.hpp"
#include "dsp/temporary_path.hpp"

#include "dsp/error.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mtag::dsp {

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "the .npy code writes '<f4' from native floats");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLength = 6;
constexpr std::size_t kAlign = 64;  // numpy's ARRAY_ALIGN: data starts on a 64-byte boundary

std::string context(const fs::path& path) {
    return ".npy file '" + path.string() + "'";
}

std::string shape_string(std::span<const std::size_t> shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

// A minimal parser for the Python dict literal of an .npy header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
  public:
    HeaderParser(const std::string& text, const fs::path& path) : m_text(text), m_path(path) {}

    void parse(NpyHeader& header) {
        bool have_descr = false, have_order = false, have_shape = false;
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') break;
            const std::string key = parse_string();
            expect(':');
            if (key == "descr") {
                header.descr = parse_string();
                have_descr = true;
            } else if (key == "fortran_order") {
                header.fortran_order = parse_bool();
                have_order = true;
            } else if (key == "shape") {
                header.shape = parse_tuple();
                have_shape = true;
            } else {
                fail("unexpected header key '" + key + "' (expected 'descr', 'fortran_order', 'shape')");
            }
            skip_space();
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            skip_space();
            if (peek() != '}') fail("expected ',' or '}' in the header dict");
        }
        if (!have_descr || !have_order || !have_shape)
            fail("the header dict lacks " + std::string(!have_descr   ? "'descr'"
                                                        : !have_order ? "'fortran_order'"
                                                                      : "'shape'"));
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(context(m_path), "malformed header at character " + std::to_string(m_pos) + ": " + what +
                                         " (header: " + m_text + ")");
    }
    char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
    void skip_space() {
        while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++m_pos;
    }
    std::string parse_string() {
        skip_space();
        const char quote = peek();
        if (quote != '\'' && quote != '"') fail("expected a quoted string");
        const std::size_t end = m_text.find(quote, m_pos + 1);
        if (end == std::string::npos) fail("unterminated string");
        std::string s = m_text.substr(m_pos + 1, end - m_pos - 1);
        m_pos = end + 1;
        return s;
    }
    bool parse_bool() {
        skip_space();
        if (m_text.compare(m_pos, 4, "True") == 0) {
            m_pos += 4;
            return true;
        }
        if (m_text.compare(m_pos, 5, "False") == 0) {
            m_pos += 5;
            return false;
        }
        fail("expected True or False");
    }
    std::vector<std::size_t> parse_tuple() {
        std::vector<std::size_t> dims;
        expect('(');
        while (true) {
            skip_space();
            if (peek() == ')') break;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a non-negative dimension");
            std::size_t value = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                value = value * 10 + static_cast<std::size_t>(m_text[m_pos++] - '0');
                if (value > (std::size_t{1} << 48)) fail("dimension too large");
            }
            // numpy writes Python ints; an 'L' suffix came from Python 2.
            if (peek() == 'L') ++m_pos;
            dims.push_back(value);
            skip_space();
            if (peek() == ',')
                ++m_pos;
            else if (peek() != ')')
                fail("expected ',' or ')' in the shape");
        }
        ++m_pos;
        return dims;
    }

    const std::string& m_text;
    const fs::path& m_path;
    std::size_t m_pos = 0;
};

// Reads the header from an open file descriptor and validates it against the file's size.
NpyHeader parse_header(int fd, std::size_t file_size, const fs::path& path) {
    unsigned char prefix[12];
    if (file_size < 10 || ::pread(fd, prefix, 10, 0) != 10)
        throw Error(context(path),
                    "is too short to be an .npy file (" + std::to_string(file_size) + " bytes)");
    if (std::memcmp(prefix, kMagic, kMagicLength) != 0)
        throw Error(context(path), "is not an .npy file (magic bytes differ from \\x93NUMPY)");
    NpyHeader header;
    header.major_version = prefix[6];
    header.minor_version = prefix[7];
    std::size_t header_length = 0;
    std::size_t prefix_length = 0;
    if (header.major_version == 1 && header.minor_version == 0) {
        header_length = prefix[8] | (std::size_t{prefix[9]} << 8);
        prefix_length = 10;
    } else if ((header.major_version == 2 || header.major_version == 3) && header.minor_version == 0) {
        if (file_size < 12 || ::pread(fd, prefix, 12, 0) != 12)
            throw Error(context(path), "truncated header");
        header_length = prefix[8] | (std::size_t{prefix[9]} << 8) | (std::size_t{prefix[10]} << 16) |
                        (std::size_t{prefix[11]} << 24);
        prefix_length = 12;
    } else {
        throw Error(context(path), "format version " + std::to_string(header.major_version) + "." +
                                       std::to_string(header.minor_version) +
                                       " is not supported (expected 1.0, 2.0 or 3.0)");
    }
    if (prefix_length + header_length > file_size)
        throw Error(context(path), "truncated: the header claims " + std::to_string(header_length) +
                                       " bytes but the file has " + std::to_string(file_size));
    std::string text(header_length, '\0');
    if (::pread(fd, text.data(), header_length, static_cast<off_t>(prefix_length)) !=
        static_cast<ssize_t>(header_length))
        throw Error(context(path), "cannot read the header (" + std::string(std::strerror(errno)) + ")");
    HeaderParser(text, path).parse(header);
    header.data_offset = prefix_length + header_length;

    if (header.descr != "<f4")
        throw Error(context(path), "dtype '" + header.descr +
                                       "' is not supported (expected '<f4', float32 "
                                       "little-endian; convert with arr.astype('<f4'))");
    if (header.fortran_order)
        throw Error(context(path),
                    "fortran_order is True (expected False, C order; use np.ascontiguousarray)");
    const std::size_t expected = header.data_offset + header.element_count() * sizeof(float);
    if (file_size != expected)
        throw Error(context(path), "size " + std::to_string(file_size) + " bytes does not match shape " +
                                       shape_string(header.shape) + " (expected " + std::to_string(expected) +
                                       " bytes); the file is truncated or corrupt");
    return header;
}

// Owns a POSIX file descriptor.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::size_t open_for_reading(const fs::path& path, Fd& file) {
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0)
        throw Error(context(path), std::string("cannot be opened (") + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(context(path), "is not a regular file");
    return static_cast<std::size_t>(st.st_size);
}

}  // namespace

std::size_t NpyHeader::element_count() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
}

std::string npy_header_bytes(std::span<const std::size_t> shape) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_string(shape) + ", }";
    // magic (6) + version (2) + length (2) + dict + padding spaces + '\n' is a multiple of 64.
    const std::size_t unpadded = kMagicLength + 4 + dict.size() + 1;
    const std::size_t total = (unpadded + kAlign - 1) / kAlign * kAlign;
    dict.append(total - unpadded, ' ');
    dict.push_back('\n');
    const std::size_t header_length = dict.size();
    if (header_length > 65535) throw Error("npy header", "shape too long for format 1.0");
    std::string bytes(kMagic, kMagicLength);
    bytes.push_back('\x01');
    bytes.push_back('\x00');
    bytes.push_back(static_cast<char>(header_length & 0xff));
    bytes.push_back(static_cast<char>(header_length >> 8));
    bytes.append(dict);
    return bytes;
}

void save_npy(const fs::path& path, std::span<const float> values, std::span<const std::size_t> shape) {
    std::size_t count = 1;
    for (std::size_t d : shape) count *= d;
    if (count != values.size())
        throw Error(context(path), "shape " + shape_string(shape) + " holds " + std::to_string(count) +
                                       " values but " + std::to_string(values.size()) + " were given");
    static std::atomic<unsigned> counter{0};
    const fs::path temporary =
        temporary_path(path, ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    const std::string header = npy_header_bytes(shape);
    std::FILE* file = std::fopen(temporary.c_str(), "wb");
    if (file == nullptr)
        throw Error(context(path), std::string("cannot be created (") + std::strerror(errno) + ")");
    const bool ok = std::fwrite(header.data(), 1, header.size(), file) == header.size() &&
                    // An empty array has no data pointer to give fwrite (its argument must not be null).
                    (values.empty() || std::fwrite(values.data(), sizeof(float), values.size(), file) == values.size());
    int saved_errno = errno;
    const bool closed = std::fclose(file) == 0;
    // A small file stays in stdio's buffer until fclose, which is then the write that fails (disk full).
    if (ok && !closed) saved_errno = errno;
    if (!ok || !closed) {
        std::error_code ec;
        fs::remove(temporary, ec);
        throw Error(context(path),
                    std::string("write failed (") + std::strerror(saved_errno) + "); disk full?");
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) {
        fs::remove(temporary, ec);
        throw Error(context(path), "cannot rename the temporary file into place (" + ec.message() + ")");
    }
}

void save_npy(const fs::path& path, const FloatMatrix& matrix) {
    const std::size_t shape[2] = {matrix.rows, matrix.cols};
    save_npy(path, std::span<const float>(matrix.data.data(), matrix.rows * matrix.cols), shape);
}

NpyHeader read_npy_header(const fs::path& path) {
    Fd file;
    const std::size_t size = open_for_reading(path, file);
    return parse_header(file.fd, size, path);
}

FloatMatrix load_npy(const fs::path& path) {
    Fd file;
    const std::size_t size = open_for_reading(path, file);
    const NpyHeader header = parse_header(file.fd, size, path);
    if (header.shape.size() != 1 && header.shape.size() != 2)
        throw Error(context(path),
                    "has shape " + shape_string(header.shape) + " (expected 2-D [bins, frames] or 1-D)");
    FloatMatrix matrix;
    if (header.shape.size() == 2)
        matrix.resize(header.shape[0], header.shape[1]);
    else
        matrix.resize(1, header.shape[0]);
    const std::size_t bytes = matrix.size() * sizeof(float);
    std::size_t done = 0;
    auto* out = reinterpret_cast<char*>(matrix.data.data());
    while (done < bytes) {
        const ssize_t n =
            ::pread(file.fd, out + done, bytes - done, static_cast<off_t>(header.data_offset + done));
        if (n <= 0) throw Error(context(path), std::string("read failed (") + std::strerror(errno) + ")");
        done += static_cast<std::size_t>(n);
    }
    return matrix;
}

MappedNpy::MappedNpy(const fs::path& path) {
    Fd file;
    const std::size_t size = open_for_reading(path, file);
    m_header = parse_header(file.fd, size, path);
    m_map_size = size;
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (map == MAP_FAILED)
        throw Error(context(path), std::string("cannot be memory-mapped (") + std::strerror(errno) + ")");
    m_map = map;
    // The data offset is a multiple of 16 (64 for files numpy or mtag wrote), so floats are aligned.
    m_data = reinterpret_cast<const float*>(static_cast<const char*>(map) + m_header.data_offset);
}

MappedNpy::~MappedNpy() {
    release();
}

MappedNpy::MappedNpy(MappedNpy&& other) noexcept
    : m_header(std::move(other.m_header)),
      m_map(other.m_map),
      m_map_size(other.m_map_size),
      m_data(other.m_data) {
    other.m_map = nullptr;
    other.m_data = nullptr;
}

MappedNpy& MappedNpy::operator=(MappedNpy&& other) noexcept {
    if (this != &other) {
        release();
        m_header = std::move(other.m_header);
        m_map = other.m_map;
        m_map_size = other.m_map_size;
        m_data = other.m_data;
        other.m_map = nullptr;
        other.m_data = nullptr;
    }
    return *this;
}

std::span<const float> MappedNpy::row(std::size_t r) const {
    if (m_header.shape.size() != 2 || r >= m_header.shape[0])
        throw Error("MappedNpy::row",
                    "row " + std::to_string(r) + " out of range for shape " + shape_string(m_header.shape));
    return {m_data + r * m_header.shape[1], m_header.shape[1]};
}

void MappedNpy::release() noexcept {
    if (m_map != nullptr) ::munmap(m_map, m_map_size);
    m_map = nullptr;
    m_data = nullptr;
}

}  // namespace mtag::dsp
