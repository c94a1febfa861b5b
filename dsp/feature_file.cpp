#include "dsp/feature_file.hpp"

#include "dsp/audio_stream.hpp"
#include "dsp/error.hpp"
#include "dsp/log_compression.hpp"
#include "dsp/mfcc.hpp"
#include "dsp/npy.hpp"
#include "dsp/temporary_path.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace mtag::dsp {

namespace {

// A file written and read at explicit offsets; removed on destruction unless released (renamed into place).
class PositionedFile {
  public:
    PositionedFile(fs::path path, fs::path named_after) : m_path(std::move(path)), m_what(std::move(named_after)) {
        m_fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (m_fd < 0) fail("cannot be created");
    }
    ~PositionedFile() {
        if (m_fd >= 0) ::close(m_fd);
        if (!m_kept) {
            std::error_code ignored;
            fs::remove(m_path, ignored);
        }
    }
    PositionedFile(const PositionedFile&) = delete;
    PositionedFile& operator=(const PositionedFile&) = delete;

    void write_at(const void* data, std::size_t bytes, std::uint64_t offset) {
        const auto* p = static_cast<const char*>(data);
        while (bytes > 0) {
            const ssize_t n = ::pwrite(m_fd, p, bytes, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) fail("write failed");
            p += n;
            bytes -= static_cast<std::size_t>(n);
            offset += static_cast<std::uint64_t>(n);
        }
    }
    void read_at(void* data, std::size_t bytes, std::uint64_t offset) {
        auto* p = static_cast<char*>(data);
        while (bytes > 0) {
            const ssize_t n = ::pread(m_fd, p, bytes, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) fail(n == 0 ? "ended early" : "read failed");
            p += n;
            bytes -= static_cast<std::size_t>(n);
            offset += static_cast<std::uint64_t>(n);
        }
    }
    // Closes the file (reporting a failed close, the last chance to see a full disk) and renames it to `to`.
    void rename_to(const fs::path& to) {
        const int fd = m_fd;
        m_fd = -1;
        if (::close(fd) != 0) fail("write failed");
        std::error_code ec;
        fs::rename(m_path, to, ec);
        if (ec) throw Error("output '" + m_what.string() + "'", "cannot rename the temporary file into place (" + ec.message() + ")");
        m_kept = true;
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        const int saved = errno;
        throw Error("output '" + m_what.string() + "'",
                    what + " (" + std::strerror(saved) + " on " + m_path.filename().string() + "); disk full?");
    }

    fs::path m_path, m_what;
    int m_fd = -1;
    bool m_kept = false;
};

fs::path scratch_name(const fs::path& npy, const char* kind) {
    static std::atomic<unsigned> counter{0};
    return temporary_path(npy, std::string(".") + kind + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

float max_of(std::span<const float> x, float start) {
    for (float v : x) start = std::max(start, v);
    return start;
}

}  // namespace

std::array<std::size_t, 2> write_feature_npy(FeatureExtractor& extractor, const fs::path& audio, const fs::path& npy,
                                             ResampleQuality quality, Mp3Decode mp3_decode) {
    const FeatureConfig& c = extractor.config();
    const bool db = c.log == LogCompression::db;
    const bool magnitude = db && !c.db_of_power();
    const bool ref_max = db && c.ref.is_max();
    const std::optional<float> top_db = db && c.top_db >= 0 ? std::optional<float>(static_cast<float>(c.top_db)) : std::nullopt;
    std::optional<Mfcc> mfcc;
    if (c.kind == FeatureKind::mfcc)
        mfcc.emplace(c.n_mels, MfccOptions{.n_mfcc = c.n_mfcc, .lifter = static_cast<float>(c.lifter)});

    // Pass 1: the frames as computed, chunk after chunk, into the scratch file; the maximum ref=max needs.
    PositionedFile frames_file(scratch_name(npy, "tmp-frames"), npy);
    std::vector<std::size_t> widths;
    std::size_t rows = static_cast<std::size_t>(extractor.bins()), total = 0;
    std::uint64_t spilled = 0;
    // power_to_db's reference_value: the largest power, or the largest magnitude (from 0).
    float reference = magnitude ? 0.0f : -std::numeric_limits<float>::infinity();
    bool spill_failed = false;  // the error came from writing the scratch file, not from the audio
    {
        AudioStream stream(audio, c.sample_rate, quality, mp3_decode);
        extractor.begin([&](FloatMatrix& chunk) {
            rows = chunk.rows;
            if (ref_max)
                for (float v : chunk.data) reference = std::max(reference, magnitude ? std::abs(v) : v);
            spill_failed = true;
            frames_file.write_at(chunk.data.data(), chunk.size() * sizeof(float), spilled);
            spill_failed = false;
            spilled += chunk.size() * sizeof(float);
            widths.push_back(chunk.cols);
            total += chunk.cols;
        });
        std::vector<float> block;
        while (true) {
            block.clear();
            if (!stream.read(block)) break;
            extractor.push(block);
        }
        try {
            extractor.finish_frames();
        } catch (const Error& e) {
            if (spill_failed) throw;
            throw Error("audio file '" + audio.string() + "'", e.what());
        }
    }

    // Pass 2: log compression per chunk (rewritten in place), tracking the maximum top_db clips below.
    const DbReference ref = ref_max ? DbReference(reference) : DbReference(static_cast<float>(c.ref_value()));
    float max_db = -std::numeric_limits<float>::infinity();
    FloatMatrix chunk, coefficients;
    auto read_chunk = [&](std::size_t i, std::uint64_t offset) {
        chunk.resize(rows, widths[i]);
        frames_file.read_at(chunk.data.data(), chunk.size() * sizeof(float), offset);
    };
    if (c.log != LogCompression::none) {
        std::uint64_t offset = 0;
        for (std::size_t i = 0; i < widths.size(); ++i) {
            read_chunk(i, offset);
            if (db) {
                const std::span<float> values(chunk.data.data(), chunk.size());
                if (magnitude) amplitude_to_db(values, ref, static_cast<float>(c.amin), std::nullopt);
                else power_to_db(values, ref, static_cast<float>(c.amin), std::nullopt);
                if (top_db) max_db = max_of(values, max_db);
            } else {
                log1p_compress(chunk, static_cast<float>(c.log1p_c));
            }
            frames_file.write_at(chunk.data.data(), chunk.size() * sizeof(float), offset);
            offset += chunk.size() * sizeof(float);
        }
    }

    // Pass 3: top_db, the MFCC DCT, and each chunk's rows into their places of the [bins, frames] array.
    const std::size_t out_rows = mfcc ? static_cast<std::size_t>(mfcc->n_mfcc()) : rows;
    const std::size_t shape[2] = {out_rows, total};
    const std::string header = npy_header_bytes(shape);
    PositionedFile out(scratch_name(npy, "tmp"), npy);
    out.write_at(header.data(), header.size(), 0);
    if (out_rows * total > 0) {  // the file's full length at once: a short write shows now, not mid-way
        const float zero = 0.0f;
        out.write_at(&zero, sizeof zero, header.size() + (out_rows * total - 1) * sizeof(float));
    }
    std::uint64_t offset = 0;
    std::size_t column = 0;
    for (std::size_t i = 0; i < widths.size(); ++i) {
        read_chunk(i, offset);
        offset += chunk.size() * sizeof(float);
        if (top_db) apply_top_db(std::span<float>(chunk.data.data(), chunk.size()), max_db, *top_db);
        const FloatMatrix* result = &chunk;
        if (mfcc) {
            mfcc->compute(chunk, coefficients);
            result = &coefficients;
        }
        for (std::size_t r = 0; r < out_rows; ++r)
            out.write_at(result->row(r).data(), result->cols * sizeof(float),
                         header.size() + (r * total + column) * sizeof(float));
        column += widths[i];
    }
    out.rename_to(npy);
    return {out_rows, total};
}

}  // namespace mtag::dsp
