#include "dsp/mp3_decoder.hpp"

#include "dsp/audio_file_context.hpp"
#include "dsp/error.hpp"

#include <mpg123.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace mtag::dsp {

namespace {

// mpg123_init fills static tables; once per process, before the first handle (it is a no-op in libmpg123
// >= 1.27 but older ones want it called once, not concurrently).
void init_mpg123_once() {
    static std::once_flag once;
    std::call_once(once, [] { mpg123_init(); });
}

// libmpg123's own reader issues one read() for each frame header and one for each frame body: about 80
// system calls per second of 44.1 kHz audio, 12% of an MP3 extract's time. Reading through stdio with a
// 256 KiB buffer makes that one system call per 256 KiB.
mpg123_ssize_t read_buffered(void* file, void* out, std::size_t bytes) {
    auto* f = static_cast<std::FILE*>(file);
    const std::size_t got = std::fread(out, 1, bytes, f);
    if (got < bytes && std::ferror(f)) return -1;
    return static_cast<mpg123_ssize_t>(got);
}

off_t seek_buffered(void* file, off_t offset, int whence) {
    auto* f = static_cast<std::FILE*>(file);
    if (fseeko(f, offset, whence) != 0) return -1;
    return ftello(f);
}

}  // namespace

struct Mp3Decoder::Handle {
    mpg123_handle* mh = nullptr;
    std::FILE* file = nullptr;  // the input libmpg123 reads through read_buffered / seek_buffered
    ~Handle() {
        if (mh) {
            mpg123_close(mh);
            mpg123_delete(mh);
        }
        if (file) std::fclose(file);
    }
};

std::string to_string(Mp3Decode mode) { return mode == Mp3Decode::fast ? "fast" : "full"; }

Mp3Decode parse_mp3_decode(const std::string& name) {
    if (name == "full") return Mp3Decode::full;
    if (name == "fast") return Mp3Decode::fast;
    throw Error("mp3 decode '" + name + "'", "is not a decoding mode; use full (the file's rate) or fast "
                                             "(half or quarter rate synthesis when resampling far down)");
}

int mp3_down_sample(Mp3Decode mode, int native_rate, int target_rate) {
    if (mode != Mp3Decode::fast || target_rate <= 0 || native_rate <= 0) return 0;
    // MP3's 32 subbands are native / 64 Hz wide. Keeping the target's Nyquist frequency one subband below the
    // reduced Nyquist frequency leaves the filterbank's transition band (aliased by the decimated synthesis
    // around the reduced Nyquist frequency) inside the resampler's stopband.
    const double subband = native_rate / 64.0;
    for (int down = 2; down >= 1; --down) {
        const double reduced_nyquist = native_rate / 2.0 / (1 << down);
        if (target_rate / 2.0 <= reduced_nyquist - subband) return down;
    }
    return 0;
}

Mp3Decoder::Mp3Decoder(const std::filesystem::path& path, bool mono, int down_sample, double passband_hz)
    : m_path(path) {
    if (down_sample < 0 || down_sample > 2 || (down_sample > 0 && !mono))
        throw Error("Mp3Decoder down_sample", "must be 0, or 1 or 2 with mono, got " + std::to_string(down_sample));
    init_mpg123_once();
    auto handle = std::make_unique<Handle>();
    int error = MPG123_OK;
    handle->mh = mpg123_new(nullptr, &error);
    if (handle->mh == nullptr)
        throw Error(audio_file_context(path),
                    std::string("libmpg123 cannot create a decoder: ") + mpg123_plain_strerror(error));
    mpg123_handle* mh = handle->mh;
    // libsndfile's flags (src/mpeg_decode.c), so the samples are the same: gapless, float, no resampling by
    // the decoder, no Frankenstein streams (a second stream glued on does not pass as the same file).
    long flags = MPG123_GAPLESS | MPG123_FORCE_FLOAT | MPG123_NO_FRANKENSTEIN | MPG123_QUIET;
    if (mono) flags |= MPG123_MONO_MIX;
    mpg123_param(mh, MPG123_REMOVE_FLAGS, MPG123_AUTO_RESAMPLE, 0.0);
    mpg123_param(mh, MPG123_ADD_FLAGS, flags, 0.0);
    mpg123_param(mh, MPG123_DOWN_SAMPLE, down_sample, 0.0);
    handle->file = std::fopen(path.c_str(), "rb");
    if (handle->file == nullptr)
        throw Error(audio_file_context(path), std::string("cannot be opened: ") + std::strerror(errno));
    std::setvbuf(handle->file, nullptr, _IOFBF, std::size_t{1} << 18);
    if (mpg123_replace_reader_handle(mh, read_buffered, seek_buffered, nullptr) != MPG123_OK ||
        mpg123_open_handle(mh, handle->file) != MPG123_OK)
        throw Error(audio_file_context(path),
                    std::string("cannot be decoded as MP3 (libmpg123: ") + mpg123_strerror(mh) + ")");
    long rate = 0;
    int channels = 0, encoding = 0;
    if (mpg123_getformat(mh, &rate, &channels, &encoding) != MPG123_OK || rate <= 0 || channels <= 0)
        throw Error(audio_file_context(path),
                    std::string("has no readable MP3 frame (libmpg123: ") + mpg123_strerror(mh) + ")");
    // Lock the output format so a later frame with other parameters is an error, not a silent switch.
    mpg123_format_none(mh);
    if (mpg123_format(mh, rate, channels, MPG123_ENC_FLOAT_32) != MPG123_OK)
        throw Error(audio_file_context(path),
                    std::string("libmpg123 cannot give float samples: ") + mpg123_strerror(mh));
    m_rate = static_cast<int>(rate);
    m_channels = channels;
    m_length = mpg123_length(mh);
    if (down_sample > 0) {
        long encoder_delay = -1, decoder_delay = -1;
        double unused = 0.0;
        mpg123_getstate(mh, MPG123_ENC_DELAY, &encoder_delay, &unused);
        mpg123_getstate(mh, MPG123_DEC_DELAY, &decoder_delay, &unused);
        // Gapless output starts at absolute sample encoder delay + decoder delay; the reduced-rate output at
        // absolute sample (start >> down) << down. Without an Info tag nothing is skipped.
        const long start = encoder_delay >= 0 && decoder_delay >= 0 ? encoder_delay + decoder_delay : 0;
        m_grid_offset = static_cast<int>(start & ((1L << down_sample) - 1));
        if (m_grid_offset != 0) {
            // Reduced-rate sample k lies at full-rate (k << down) - offset: advance by offset / 2^down samples.
            m_advance = static_cast<double>(m_grid_offset) / (1 << down_sample);
            m_cutoff = passband_hz > 0.0 ? std::min(0.45, passband_hz / m_rate) : 0.45;
            m_delay = std::make_unique<FractionalDelay>(m_advance, m_cutoff);
        }
    }
    m_handle = handle.release();
}

Mp3Decoder::~Mp3Decoder() { delete m_handle; }

std::int64_t Mp3Decoder::scan_length() {
    if (mpg123_scan(m_handle->mh) != MPG123_OK)
        throw Error(audio_file_context(m_path),
                    std::string("cannot be scanned (libmpg123: ") + mpg123_strerror(m_handle->mh) + ")");
    m_length = mpg123_length(m_handle->mh);
    return m_length;
}

std::int64_t count_mp3_frames(const std::filesystem::path& path) {
    Mp3Decoder decoder(path, true);
    return decoder.scan_length();
}

void Mp3Decoder::seek(std::int64_t frame) {
    if (m_delay) {  // the correction restarts with the stream, as it did at the start of the file
        m_delay = std::make_unique<FractionalDelay>(m_advance, m_cutoff);
        m_ready.clear();
        m_ready_at = 0;
        m_flushed = false;
    }
    const off_t at = mpg123_seek(m_handle->mh, static_cast<off_t>(frame), SEEK_SET);
    if (at < 0)
        throw Error(audio_file_context(m_path), "cannot seek to frame " + std::to_string(frame) +
                                                    " (libmpg123: " + mpg123_strerror(m_handle->mh) + ")");
}

std::size_t Mp3Decoder::read(std::span<float> out) {
    if (!m_delay) return read_raw(out);
    const std::size_t wanted = out.size();  // mono: frames == samples
    while (m_ready.size() - m_ready_at < wanted && !m_flushed) {
        if (m_ready_at > 0) {
            m_ready.erase(m_ready.begin(), m_ready.begin() + static_cast<std::ptrdiff_t>(m_ready_at));
            m_ready_at = 0;
        }
        m_raw.resize(std::max<std::size_t>(wanted, 4096));
        const std::size_t got = read_raw(m_raw);
        if (got == 0) {
            m_delay->finish(m_ready);
            m_flushed = true;
        } else {
            m_delay->process(std::span<const float>(m_raw.data(), got), m_ready);
        }
    }
    const std::size_t n = std::min(wanted, m_ready.size() - m_ready_at);
    std::copy_n(m_ready.begin() + static_cast<std::ptrdiff_t>(m_ready_at), n, out.begin());
    m_ready_at += n;
    return n;
}

std::size_t Mp3Decoder::read_raw(std::span<float> out) {
    const std::size_t frames = out.size() / static_cast<std::size_t>(m_channels);
    std::size_t bytes = 0;
    const int status = mpg123_read(m_handle->mh, reinterpret_cast<unsigned char*>(out.data()),
                                   frames * static_cast<std::size_t>(m_channels) * sizeof(float), &bytes);
    if (status == MPG123_NEW_FORMAT)
        throw Error(audio_file_context(m_path),
                    "changes its sample rate or channel count mid-stream; mtag decodes one "
                    "format per file (split the file, or convert it to WAV/FLAC)");
    if (status != MPG123_OK && status != MPG123_DONE)
        throw Error(audio_file_context(m_path), std::string("MP3 decoding failed (libmpg123: ") +
                                                    mpg123_strerror(m_handle->mh) + "); the file is corrupt");
    return bytes / sizeof(float) / static_cast<std::size_t>(m_channels);
}

}  // namespace mtag::dsp
