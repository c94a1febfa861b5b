#pragma once
// Native FLAC decoding through libFLAC directly. libsndfile decodes FLAC with the same library, then converts
// every sample to float in a scalar loop with per-sample bounds checks; mtag then mixed to mono and checked for
// NaN in two more passes: together 20% of a FLAC extract's time, as much as a third of libFLAC's own. Here the
// 32-bit integer channels libFLAC hands over become float (or the mono mix) in one vector pass, and integers
// need no NaN check.
//
// The samples are bit-identical to libsndfile's normalised sf_readf_float (and to its output mixed to mono as
// load_audio mixes it) for 1- to 24-bit mono and stereo files: sample k of a b-bit file is k * 2^-(b-1), and
// the sum of two channels is an integer of magnitude at most 2^24, all exact in float, so summing before or
// after scaling gives the same bits. More than two channels are scaled one by one and summed in channel order,
// as load_audio sums libsndfile's floats. load_audio and AudioStream use this decoder for native FLAC of at most
// 24 bits (wider files, which libFLAC >= 1.4 reads, stay with libsndfile).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// Whether load_audio and AudioStream read a file of this libsndfile format (SF_INFO::format) through
// FlacDecoder: native FLAC of 8, 16 or 24 bits.
bool decodes_flac_directly(int sndfile_format);

// One open native FLAC file (not Ogg FLAC). Not copyable; one per thread.
class FlacDecoder {
public:
    // Opens `path` and reads its STREAMINFO. `mono` averages the channels (librosa.to_mono). Throws mtag::Error
    // naming the file when libFLAC cannot open it or it has no valid STREAMINFO.
    FlacDecoder(const std::filesystem::path& path, bool mono);
    ~FlacDecoder();
    FlacDecoder(const FlacDecoder&) = delete;
    FlacDecoder& operator=(const FlacDecoder&) = delete;

    int sample_rate() const { return m_rate; }
    int channels() const { return m_mono ? 1 : m_file_channels; }  // of the samples read() returns
    int file_channels() const { return m_file_channels; }
    int bits_per_sample() const { return m_bits; }
    // Frames the STREAMINFO declares (0 when the encoder did not know, as in a stream piped through it).
    std::int64_t length() const { return m_length; }

    // Positions the next read at `frame`; throws mtag::Error when libFLAC cannot seek there.
    void seek(std::int64_t frame);
    // Decodes up to out.size() / channels() frames into `out` (interleaved); returns the frames written, 0 at
    // the end of the stream. A corrupt frame is skipped as libFLAC (and libsndfile) skip it: libFLAC finds
    // the next frame header, and error() keeps the first problem for callers that must not accept a gap.
    std::size_t read(std::span<float> out);
    // libFLAC's description of the first decoding error so far ("" when there was none).
    const std::string& error() const { return m_error; }

private:
    struct Handle;
    friend struct FlacCallbacks;
    // Converts one decoded FLAC frame (blocksize samples per channel) into m_pending.
    void take_frame(const std::int32_t* const channels[], std::size_t samples);

    std::unique_ptr<Handle> m_handle;
    std::filesystem::path m_path;
    std::vector<float> m_pending;  // converted samples not yet returned (interleaved at channels())
    std::size_t m_pending_at = 0;
    std::string m_error;
    std::int64_t m_length = 0;
    int m_rate = 0;
    int m_file_channels = 0;
    int m_bits = 0;
    bool m_mono = false;
    bool m_ended = false;
};

}  // namespace mtag::dsp
