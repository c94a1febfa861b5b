#pragma once
// Decoding and encoding audio files through libsndfile (WAV, FLAC, OGG/Vorbis, OGG/Opus, MP3, AIFF, ...).
#include "dsp/mp3_decoder.hpp"
#include "dsp/resample.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// Decoded audio: float32 samples in [-1, 1], interleaved frame by frame (channel fastest).
struct Audio {
    std::vector<float> samples;
    int sample_rate = 0;
    int channels = 0;

    std::size_t frames() const { return channels == 0 ? 0 : samples.size() / channels; }
    double duration_seconds() const {
        return sample_rate == 0 ? 0.0 : static_cast<double>(frames()) / sample_rate;
    }
};

// Options of load_audio, named after librosa.load (sr, mono, offset, duration, res_type).
struct LoadOptions {
    int sample_rate = 0;              // 0 keeps the file's native rate
    bool mono = true;                 // average the channels (librosa.to_mono)
    double offset_seconds = 0.0;      // start reading here; seeks, does not decode what is skipped
    double duration_seconds = -1.0;   // < 0 reads to the end
    ResampleQuality resample_quality = default_resample_quality;
    // MP3 only: `fast` synthesises at half or quarter rate when mono and resampling far enough down (see
    // dsp/mp3_decoder.hpp); falls back to `full` when the offset is not on the reduced-rate grid.
    Mp3Decode mp3_decode = default_mp3_decode;
};

// What a file holds, read from its header without decoding the samples.
struct AudioInfo {
    std::string format;    // container, e.g. "WAV", "FLAC", "OGG", "MPEG"
    std::string subtype;   // encoding, e.g. "PCM_16", "FLOAT", "VORBIS", "MPEG_LAYER_III"
    int sample_rate = 0;
    int channels = 0;
    std::int64_t frames = 0;
    double duration_seconds() const {
        return sample_rate == 0 ? 0.0 : static_cast<double>(frames) / sample_rate;
    }
};

// How read_audio_info counts frames. `header`: the header's count (an MP3's is an estimate: the Xing/Info
// tag's, or one from the file size and bit rate, and a cut file keeps the whole file's); `exact`: for MP3,
// libmpg123's scan of the frame headers (reads the file, decodes nothing), elsewhere the header's.
enum class FrameCount { header, exact };

// Reads the header of an audio file. Throws mtag::Error naming the file and the problem. A frame count the
// file cannot hold (more than 8192 frames per byte: libsndfile's "unknown" SF_COUNT_MAX, a forged header) is
// replaced by count_audio_frames'.
AudioInfo read_audio_info(const std::filesystem::path& path, FrameCount count = FrameCount::header);

// Counts a file's frames by decoding it (block by block, nothing kept): exact where the header only estimates,
// as an MP3's does (libsndfile's count was 1.4% long for the shared songs). MP3 frames are counted by
// libmpg123's scan of the frame headers instead, which needs no decoding. Throws mtag::Error like
// read_audio_info.
std::int64_t count_audio_frames(const std::filesystem::path& path);

// Decodes (a part of) an audio file, mixes to mono and resamples as asked. Throws mtag::Error for a
// missing, empty, truncated or unreadable file, zero frames, an offset past the end, or NaN/Inf samples
// (naming the first bad sample's index).
Audio load_audio(const std::filesystem::path& path, const LoadOptions& options = {});

// How save_audio encodes samples; the container comes from the file extension.
enum class SampleFormat { pcm16, float32 };

// Writes WAV, FLAC, OGG (Vorbis) or MP3 by extension, through a temporary name then rename, so a
// reader never sees a half-written file. FLAC and MP3/OGG ignore `format` where they cannot honour it
// (FLAC is always PCM16 here; OGG and MP3 are lossy).
void save_audio(const std::filesystem::path& path, const Audio& audio,
                SampleFormat format = SampleFormat::pcm16);

// Writes `frames` frames of `channels` interleaved channels as save_audio does (same formats, temporary
// name then rename), produced block by block: `fill(first_frame, block)` fills `block` (block.size() /
// channels frames starting at frame `first_frame`). Memory is one block whatever the length (a 10-hour
// test file is 12 GB of floats). Throws mtag::Error naming the file; an exception from `fill` removes the
// temporary file and propagates.
void save_audio_blocks(const std::filesystem::path& path, int sample_rate, int channels, std::int64_t frames,
                       const std::function<void(std::int64_t first_frame, std::span<float> block)>& fill,
                       SampleFormat format = SampleFormat::pcm16);

// Averages interleaved channels into one (librosa.to_mono).
std::vector<float> to_mono(const std::vector<float>& interleaved, int channels);

// True when libsndfile can decode files with this extension (".wav", ".flac", ...), case-insensitive.
bool is_audio_extension(const std::filesystem::path& path);

}  // namespace mtag::dsp
