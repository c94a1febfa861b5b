#include "dsp/audio_stream.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/flac_decoder.hpp"
#include "dsp/sample_block.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace mtag::dsp {

namespace {

// round(frames * sample_rate / native_rate), saturated at 2^62: a header may claim any frame count (an Ogg
// file's last granule position, libsndfile's SF_COUNT_MAX for a stream of unknown length), and the length
// is only compared with what was decoded, which can never come near it.
std::int64_t resampled_length(std::int64_t frames, int native_rate, int sample_rate) {
    constexpr std::int64_t limit = std::int64_t{1} << 62;
    if (native_rate == sample_rate) return std::min(frames, limit);
    const double exact = static_cast<double>(frames) * sample_rate / native_rate;
    return exact < static_cast<double>(limit) ? std::llround(exact) : limit;
}

}  // namespace

struct AudioStream::File {
    SNDFILE* handle = nullptr;
    SF_INFO info{};
    ~File() {
        if (handle) sf_close(handle);
    }
};

AudioStream::AudioStream(const std::filesystem::path& path, int sample_rate, ResampleQuality quality,
                         Mp3Decode mp3_decode)
    : m_file(std::make_unique<File>()), m_path(path) {
    if (sample_rate <= 0)
        throw Error("AudioStream sample_rate", "must be positive, got " + std::to_string(sample_rate));
    // read_audio_info gives the same clear messages as load_audio for missing, empty or undecodable files.
    const AudioInfo info = read_audio_info(path);
    if (info.frames <= 0) throw Error("audio file '" + path.string() + "'", "has no audio frames");
    m_file->handle = sf_open(path.c_str(), SFM_READ, &m_file->info);
    if (m_file->handle == nullptr)
        throw Error("audio file '" + path.string() + "'",
                    std::string("cannot be decoded (libsndfile: ") + sf_strerror(nullptr) + ")");
    m_native_rate = m_file->info.samplerate;
    m_channels = m_file->info.channels;
    m_total = info.frames;  // counted by decoding where the header's count is impossible (read_audio_info)
    m_expected = resampled_length(m_total, m_native_rate, sample_rate);
    int decoded_rate = m_native_rate;
    if ((m_file->info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
        sf_close(m_file->handle);
        m_file->handle = nullptr;
        const int down = mp3_down_sample(mp3_decode, m_native_rate, sample_rate);
        m_mp3 = std::make_unique<Mp3Decoder>(path, true, down, sample_rate / 2.0);
        m_mp3_factor = 1 << down;
        decoded_rate = m_mp3->sample_rate();
    } else if (decodes_flac_directly(m_file->info.format)) {  // as load_audio reads it (dsp/flac_decoder.hpp)
        sf_close(m_file->handle);
        m_file->handle = nullptr;
        m_flac = std::make_unique<FlacDecoder>(path, true);
    }
    if (decoded_rate != sample_rate)
        m_resampler = std::make_unique<StreamingResampler>(1, decoded_rate, sample_rate, quality);
}

AudioStream::~AudioStream() = default;

bool AudioStream::decode_block(std::size_t block_frames) {
    if (m_mp3) {
        m_mono.resize(std::max<std::size_t>(1, block_frames / static_cast<std::size_t>(m_mp3_factor)));
        const std::size_t got = m_mp3->read(m_mono);
        m_mono.resize(got);
        check_mono(m_mp3_factor);
        m_read += static_cast<std::int64_t>(got) * m_mp3_factor;
        return got > 0;
    }
    if (m_flac) {
        m_mono.resize(block_frames);
        const std::size_t got = m_flac->read(m_mono);
        m_mono.resize(got);
        // libFLAC skips a corrupt frame and goes on; a stream that ends before its declared length with an
        // error on record was cut or damaged, as libsndfile reports it below.
        if (got == 0 && m_read < m_total && !m_flac->error().empty())
            throw Error("audio file '" + m_path.string() + "'",
                        "read failed at frame " + std::to_string(m_read) + " (libFLAC: " + m_flac->error() + ")");
        m_read += static_cast<std::int64_t>(got);
        return got > 0;
    }
    m_interleaved.resize(block_frames * static_cast<std::size_t>(m_channels));
    const sf_count_t got =
        sf_readf_float(m_file->handle, m_interleaved.data(), static_cast<sf_count_t>(block_frames));
    if (got < 0 || (got == 0 && m_read < m_total && sf_error(m_file->handle) != SF_ERR_NO_ERROR))
        throw Error("audio file '" + m_path.string() + "'",
                    std::string("read failed at frame ") + std::to_string(m_read) +
                        " (libsndfile: " + sf_strerror(m_file->handle) + ")");
    // Mono mix (librosa.to_mono), then the NaN/Inf check of the mix (a bad sample in any channel makes it bad).
    m_mono.resize(static_cast<std::size_t>(got));
    mix_to_mono(std::span<const float>(m_interleaved.data(), m_mono.size() * static_cast<std::size_t>(m_channels)),
                m_channels, m_mono);
    check_mono(1);
    m_read += got;
    return got > 0;
}

void AudioStream::check_mono(int frame_factor) const {
    const std::size_t bad = first_non_finite(m_mono);
    if (bad < m_mono.size())
        throw Error("audio file '" + m_path.string() + "'",
                    "has a NaN or infinite sample at frame " +
                        std::to_string(m_read + static_cast<std::int64_t>(bad) * frame_factor));
}

bool AudioStream::read(std::vector<float>& out, std::size_t block_frames) {
    if (m_done) return false;
    const std::size_t before = out.size();
    while (out.size() == before && !m_done) {
        const bool more = decode_block(block_frames);
        if (m_resampler)
            m_resampler->process(m_mono, out);
        else
            out.insert(out.end(), m_mono.begin(), m_mono.end());
        if (!more) {
            if (m_resampler) m_resampler->finish(out);
            m_done = true;
            // A reduced-rate MP3 decode ends within one reduced-rate sample of the full-rate end: give the
            // full-rate decode's length (the header's count is exact with an Info tag; else leave it).
            const std::int64_t total = m_out_total + static_cast<std::int64_t>(out.size() - before);
            const std::int64_t excess = total - m_expected;
            if (m_mp3_factor > 1 && excess != 0 && std::llabs(excess) <= 2) {
                if (excess > 0)
                    out.resize(out.size() - static_cast<std::size_t>(std::min<std::int64_t>(
                                                excess, static_cast<std::int64_t>(out.size() - before))));
                else
                    out.resize(out.size() + static_cast<std::size_t>(-excess), 0.0f);
            }
        }
    }
    m_out_total += static_cast<std::int64_t>(out.size() - before);
    return out.size() > before;
}

}  // namespace mtag::dsp
