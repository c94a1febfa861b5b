#pragma once
// MP3 (MPEG-1/2/2.5 layer I/II/III) decoding through libmpg123 directly. libsndfile decodes MP3 through the
// same library but always at the full rate, in stereo, so a mono log-mel at 16 kHz pays for two synthesis
// filterbanks at 44.1 kHz and a separate mixing pass. libmpg123 can mix to mono inside the decoder
// (MPG123_MONO_MIX: the channels are averaged before the synthesis filterbank, which is linear, so the result
// equals decode-then-average up to float rounding) and synthesise at half or quarter rate (MPG123_DOWN_SAMPLE:
// the subbands above the reduced Nyquist frequency are dropped before synthesis).
//
// Sample positions are libsndfile's: the same flags (gapless: the encoder delay and padding of the LAME/Info
// tag and the decoder's 529-sample delay removed; no Frankenstein streams), so the full-rate stereo output is
// bit-identical to sf_readf_float's (tests/dsp/test_mp3_decoder.cpp checks it on LAME-encoded files).
#include "dsp/fractional_delay.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// How MP3 files are decoded when they are resampled to a lower rate (mtag's --mp3-decode, mtag.load's
// mp3_decode). `full` synthesises at the file's rate (libsndfile's samples, mixed to mono in the decoder);
// `fast` synthesises at half or quarter rate when the target rate's Nyquist frequency lies below the reduced
// rate's last kept subband, then resamples from there; scripts/mp3_decode_quality.py and the README give its
// error against `full` (at or below the MP3 filterbank's own stopband leakage, far below the codec's noise).
enum class Mp3Decode { full, fast };
inline constexpr Mp3Decode default_mp3_decode = Mp3Decode::full;

// "full" or "fast"; parse throws mtag::Error naming the accepted values.
std::string to_string(Mp3Decode mode);
Mp3Decode parse_mp3_decode(const std::string& name);

// The MPG123_DOWN_SAMPLE factor `fast` uses for a file at `native_rate` resampled to `target_rate`: 2 (quarter
// rate) or 1 (half rate) when the target's Nyquist frequency stays one subband (native / 64) below the reduced
// rate's Nyquist frequency, else 0 (full rate). `full`, and target_rate 0 (native), always give 0.
int mp3_down_sample(Mp3Decode mode, int native_rate, int target_rate);

// The frames a full-rate decode of `path` yields, counted by libmpg123's scan of the frame headers (no
// decoding): exact where the header's count is an estimate (no Info tag). Throws mtag::Error naming the file.
std::int64_t count_mp3_frames(const std::filesystem::path& path);

// One open MP3 file. Not copyable; one per thread.
class Mp3Decoder {
public:
    // Opens `path` with libsndfile's decoder flags. `mono` mixes the channels in the decoder; `down_sample`
    // is MPG123_DOWN_SAMPLE (0 full, 1 half, 2 quarter rate; only with `mono`). At a reduced rate whose grid
    // is offset (grid_offset() != 0) the samples are advanced onto the full-rate grid by a FractionalDelay
    // exact below `passband_hz` (the resampler's band: half the target rate). Throws mtag::Error naming the
    // file.
    Mp3Decoder(const std::filesystem::path& path, bool mono, int down_sample = 0, double passband_hz = 0.0);
    ~Mp3Decoder();
    Mp3Decoder(const Mp3Decoder&) = delete;
    Mp3Decoder& operator=(const Mp3Decoder&) = delete;

    int sample_rate() const { return m_rate; }  // of the samples read() returns (native >> down_sample)
    int channels() const { return m_channels; }
    // Frames at sample_rate() as libmpg123 counts them (exact with an Info tag, else estimated).
    std::int64_t length() const { return m_length; }
    // Native-rate samples by which libmpg123's reduced-rate grid lies before full-rate sample 0: its sample k
    // is full-rate sample (k << down_sample) - grid_offset(). Non-zero when the gapless start (encoder delay +
    // 529) is not a multiple of 2^down_sample, e.g. 1 for LAME's usual 576-sample delay; 0 at full rate.
    // read() has already corrected it: its sample k is full-rate sample k << down_sample.
    int grid_offset() const { return m_grid_offset; }

    // Positions the next read at frame `frame` (at sample_rate(), i.e. full-rate frame frame << down_sample);
    // throws mtag::Error when libmpg123 cannot.
    void seek(std::int64_t frame);
    // Decodes up to out.size() / channels() frames into `out` (interleaved); returns the frames written, 0 at
    // the end of the stream. Throws mtag::Error on a decoding error or a format change mid-stream.
    std::size_t read(std::span<float> out);

    // Scans the whole file's frame headers (libmpg123's mpg123_scan) and returns the exact length at
    // sample_rate(); the next read starts from the beginning again.
    std::int64_t scan_length();

private:
    std::size_t read_raw(std::span<float> out);

    struct Handle;
    Handle* m_handle = nullptr;
    std::unique_ptr<FractionalDelay> m_delay;  // the grid correction (reduced rate, offset grid)
    double m_advance = 0.0;
    double m_cutoff = 0.0;
    std::vector<float> m_raw;                  // libmpg123's samples before the correction
    std::vector<float> m_ready;                // corrected samples not yet returned, from m_ready_at
    std::size_t m_ready_at = 0;
    bool m_flushed = false;
    std::filesystem::path m_path;
    int m_rate = 0;
    int m_channels = 0;
    int m_grid_offset = 0;
    std::int64_t m_length = -1;
};

}  // namespace mtag::dsp
