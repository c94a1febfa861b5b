#include "dsp/flac_decoder.hpp"

#include "dsp/audio_file_context.hpp"
#include "dsp/error.hpp"

#include <FLAC/stream_decoder.h>
#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mtag::dsp {

bool decodes_flac_directly(int sndfile_format) {
    const int subtype = sndfile_format & SF_FORMAT_SUBMASK;
    return (sndfile_format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC &&
           (subtype == SF_FORMAT_PCM_S8 || subtype == SF_FORMAT_PCM_16 || subtype == SF_FORMAT_PCM_24);
}

struct FlacDecoder::Handle {
    FLAC__StreamDecoder* decoder = nullptr;
    ~Handle() {
        if (decoder) {
            FLAC__stream_decoder_finish(decoder);  // closes the FILE libFLAC opened
            FLAC__stream_decoder_delete(decoder);
        }
    }
};

// libFLAC's C callbacks, with the decoder as client data.
struct FlacCallbacks {
    static FLAC__StreamDecoderWriteStatus write(const FLAC__StreamDecoder*, const FLAC__Frame* frame,
                                                const FLAC__int32* const buffer[], void* client) {
        auto* self = static_cast<FlacDecoder*>(client);
        // A frame whose format differs from STREAMINFO's is not this file's stream (libsndfile refuses it too).
        if (static_cast<int>(frame->header.channels) != self->m_file_channels ||
            static_cast<int>(frame->header.bits_per_sample) != self->m_bits) {
            if (self->m_error.empty()) self->m_error = "a frame changes the channel count or sample size";
            return FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
        }
        self->take_frame(reinterpret_cast<const std::int32_t* const*>(buffer), frame->header.blocksize);
        return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
    }
    static void metadata(const FLAC__StreamDecoder*, const FLAC__StreamMetadata* metadata, void* client) {
        auto* self = static_cast<FlacDecoder*>(client);
        if (metadata->type != FLAC__METADATA_TYPE_STREAMINFO) return;
        const FLAC__StreamMetadata_StreamInfo& info = metadata->data.stream_info;
        self->m_rate = static_cast<int>(info.sample_rate);
        self->m_file_channels = static_cast<int>(info.channels);
        self->m_bits = static_cast<int>(info.bits_per_sample);
        self->m_length = static_cast<std::int64_t>(info.total_samples);
    }
    static void error(const FLAC__StreamDecoder*, FLAC__StreamDecoderErrorStatus status, void* client) {
        auto* self = static_cast<FlacDecoder*>(client);
        if (self->m_error.empty()) self->m_error = FLAC__StreamDecoderErrorStatusString[status];
    }
};

FlacDecoder::FlacDecoder(const std::filesystem::path& path, bool mono)
    : m_handle(std::make_unique<Handle>()), m_path(path), m_mono(mono) {
    m_handle->decoder = FLAC__stream_decoder_new();
    if (m_handle->decoder == nullptr)
        throw Error(audio_file_context(path), "libFLAC cannot create a decoder (out of memory)");
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr)
        throw Error(audio_file_context(path), std::string("cannot be opened: ") + std::strerror(errno));
    // libFLAC reads through stdio in small pieces; a 256 KiB buffer makes that one system call per 256 KiB.
    std::setvbuf(file, nullptr, _IOFBF, std::size_t{1} << 18);
    // From here libFLAC owns `file` (closed by FLAC__stream_decoder_finish, or at once when init fails).
    const FLAC__StreamDecoderInitStatus init =
        FLAC__stream_decoder_init_FILE(m_handle->decoder, file, FlacCallbacks::write, FlacCallbacks::metadata,
                                       FlacCallbacks::error, this);
    if (init != FLAC__STREAM_DECODER_INIT_STATUS_OK)
        throw Error(audio_file_context(path), std::string("cannot be decoded as FLAC (libFLAC: ") +
                                                  FLAC__StreamDecoderInitStatusString[init] + ")");
    if (!FLAC__stream_decoder_process_until_end_of_metadata(m_handle->decoder) || m_rate <= 0 ||
        m_file_channels <= 0 || m_bits <= 0)
        throw Error(audio_file_context(path),
                    "has no valid FLAC stream header (STREAMINFO)" +
                        (m_error.empty() ? std::string() : " (libFLAC: " + m_error + ")"));
}

FlacDecoder::~FlacDecoder() = default;

void FlacDecoder::take_frame(const std::int32_t* const channels[], std::size_t samples) {
    const std::size_t out_channels = static_cast<std::size_t>(this->channels());
    const std::size_t start = m_pending.size();
    m_pending.resize(start + samples * out_channels);
    float* out = m_pending.data() + start;
    const float scale = 1.0f / static_cast<float>(std::int64_t{1} << (m_bits - 1));
    if (!m_mono || m_file_channels == 1) {
        for (int c = 0; c < m_file_channels; ++c) {
            const std::int32_t* in = channels[c];
            float* o = out + c;
            for (std::size_t i = 0; i < samples; ++i) o[i * out_channels] = static_cast<float>(in[i]) * scale;
        }
    } else if (m_file_channels == 2 && m_bits <= 24) {
        // Integer sum, then one exact scaling: the same bits as scaling each channel and summing (header).
        const std::int32_t* left = channels[0];
        const std::int32_t* right = channels[1];
        const float half_scale = scale * 0.5f;
        for (std::size_t i = 0; i < samples; ++i) out[i] = static_cast<float>(left[i] + right[i]) * half_scale;
    } else {
        const float mean = 1.0f / static_cast<float>(m_file_channels);
        for (std::size_t i = 0; i < samples; ++i) {
            float sum = 0.0f;
            for (int c = 0; c < m_file_channels; ++c) sum += static_cast<float>(channels[c][i]) * scale;
            out[i] = sum * mean;
        }
    }
}

void FlacDecoder::seek(std::int64_t frame) {
    m_pending.clear();
    m_pending_at = 0;
    m_ended = false;
    // seek_absolute decodes the frame it lands in and delivers it from `frame` on through the write callback.
    if (!FLAC__stream_decoder_seek_absolute(m_handle->decoder, static_cast<FLAC__uint64>(frame))) {
        const FLAC__StreamDecoderState state = FLAC__stream_decoder_get_state(m_handle->decoder);
        throw Error(audio_file_context(m_path), "cannot seek to frame " + std::to_string(frame) +
                                                    " (libFLAC: " + FLAC__StreamDecoderStateString[state] +
                                                    ")");
    }
}

std::size_t FlacDecoder::read(std::span<float> out) {
    const std::size_t out_channels = static_cast<std::size_t>(channels());
    const std::size_t wanted = out.size() / out_channels * out_channels;
    std::size_t written = 0;
    while (written < wanted) {
        if (m_pending_at == m_pending.size()) {
            m_pending.clear();
            m_pending_at = 0;
            if (m_ended) break;
            // One FLAC frame per call; false means a fatal state (a read error, an aborted write).
            const bool ok = FLAC__stream_decoder_process_single(m_handle->decoder);
            const FLAC__StreamDecoderState state = FLAC__stream_decoder_get_state(m_handle->decoder);
            if (!ok || state == FLAC__STREAM_DECODER_END_OF_STREAM || state == FLAC__STREAM_DECODER_ABORTED) {
                if (!ok && m_error.empty()) m_error = FLAC__StreamDecoderStateString[state];
                m_ended = true;
            }
            continue;
        }
        const std::size_t n = std::min(wanted - written, m_pending.size() - m_pending_at);
        std::copy_n(m_pending.data() + m_pending_at, n, out.data() + written);
        m_pending_at += n;
        written += n;
    }
    return written / out_channels;
}

}  // namespace mtag::dsp
