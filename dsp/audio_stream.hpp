#pragma once
// Block-wise decoding of long audio files: mono, resampled to a target rate, memory bounded by the block
// size (load_audio decodes a whole file at once; this is for hour-long inputs in `mtag extract`).
#include "dsp/flac_decoder.hpp"
#include "dsp/mp3_decoder.hpp"
#include "dsp/resample.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

namespace mtag::dsp {

// Reads a file front to back in blocks. The samples are the same as load_audio(path, {.sample_rate,
// .mono = true}) up to the resampler's block-boundary rounding (identical when no resampling is needed).
class AudioStream {
  public:
    // Opens the file; throws mtag::Error (missing, unreadable, no frames) naming it.
    // MP3 goes through libmpg123 directly (mono mix in the decoder; `mp3_decode` as in LoadOptions).
    AudioStream(const std::filesystem::path& path, int sample_rate,
                ResampleQuality quality = default_resample_quality, Mp3Decode mp3_decode = default_mp3_decode);
    ~AudioStream();
    AudioStream(const AudioStream&) = delete;
    AudioStream& operator=(const AudioStream&) = delete;

    // Appends the next samples (mono, at sample_rate) to `out`, decoding at most `block_frames` native
    // frames. Returns false once the stream is exhausted (nothing was appended). Throws mtag::Error on a
    // read failure or a NaN/Inf sample, naming the file and the frame.
    bool read(std::vector<float>& out, std::size_t block_frames = 65536);

    // Output samples the whole file yields: round(native frames * sample_rate / native rate).
    std::int64_t expected_samples() const { return m_expected; }
    int native_sample_rate() const { return m_native_rate; }
    int channels() const { return m_channels; }

  private:
    // Reads up to block_frames native frames (mono) into m_mono; returns false at the end of the file.
    bool decode_block(std::size_t block_frames);
    // Throws mtag::Error naming the first NaN/Inf of m_mono: m_mono[i] is native frame m_read + i * frame_factor.
    void check_mono(int frame_factor) const;

    struct File;
    std::unique_ptr<File> m_file;
    std::unique_ptr<Mp3Decoder> m_mp3;
    std::unique_ptr<FlacDecoder> m_flac;  // native FLAC up to 24 bits; other formats read through libsndfile
    int m_mp3_factor = 1;           // native frames per decoded MP3 frame (2^MPG123_DOWN_SAMPLE)
    std::int64_t m_out_total = 0;   // samples appended so far
    std::unique_ptr<StreamingResampler> m_resampler;
    std::filesystem::path m_path;
    std::vector<float> m_interleaved;
    std::vector<float> m_mono;
    std::int64_t m_expected = 0;
    std::int64_t m_read = 0;
    std::int64_t m_total = 0;
    int m_native_rate = 0;
    int m_channels = 0;
    bool m_done = false;
};

}  // namespace mtag::dsp
