#include "dsp/audio_io.hpp"
#include "dsp/audio_file_context.hpp"
#include "dsp/flac_decoder.hpp"
#include "dsp/sample_block.hpp"
#include "dsp/spooled_input.hpp"
#include "dsp/temporary_path.hpp"

#include "dsp/error.hpp"

#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <sstream>
#include <system_error>
#include <unistd.h>

namespace mtag::dsp {

namespace fs = std::filesystem;

namespace {

// Owns an SNDFILE handle.
struct SndFile {
    SNDFILE* handle = nullptr;
    SF_INFO info{};
    ~SndFile() {
        if (handle) sf_close(handle);
    }
};

// Checks what libsndfile would only report vaguely: existence, directories, streams, empty files.
void check_readable_file(const fs::path& path) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (is_stream_input(path))
        // Decoding reads a file more than once, which a stream cannot give; opening a FIFO with no writer would
        // block for ever. tag, extract and info copy streams first (dsp/spooled_input.hpp).
        throw Error(audio_file_context(path),
                    "is standard input, a pipe or a device, not a regular file: only `mtag tag`, `extract` and "
                    "`info` read streams; save it to a file and pass that");
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
        throw Error(audio_file_context(path), "cannot be accessed: " + ec.message());
    if (ec || !fs::exists(status)) throw Error(audio_file_context(path), "does not exist");
    if (fs::is_directory(status)) throw Error(audio_file_context(path), "is a directory, not an audio file");
    if (fs::file_size(path, ec) == 0 && !ec) throw Error(audio_file_context(path), "is empty (0 bytes)");
}

// libsndfile reads a WAV or AIFF whose audio chunk was cut short without complaint: it shrinks the frame count
// to the bytes present. Its header log says so ("data : 64000 (should be 29956)", " SSND : ..."), and a chunk
// declaring more bytes than the file holds is a truncated file (an interrupted copy or download), which must
// not pass as a shorter song. The placeholder sizes of streaming writers (0xFFFFFFFF) are not truncation.
void check_not_truncated(const fs::path& path, SNDFILE* handle) {
    char log[8192] = {};
    sf_command(handle, SFC_GET_LOG_INFO, log, sizeof(log));
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        char chunk[5] = {};
        long long declared = 0, present = 0;
        if (std::sscanf(line.c_str(), "%4s : %lld (should be %lld)", chunk, &declared, &present) != 3) continue;
        const std::string name(chunk);
        if (name != "data" && name != "SSND") continue;
        if (declared <= present || declared >= 0xFFFFFFF0LL) continue;
        throw Error(audio_file_context(path), "is truncated: its header declares " +
                                                  std::to_string(declared) +
                                                  " bytes of audio, the file holds " +
                                                  std::to_string(present) + "; copy or download it again");
    }
}

void open_for_reading(const fs::path& path, SndFile& file) {
    check_readable_file(path);
    file.handle = sf_open(path.c_str(), SFM_READ, &file.info);
    if (file.handle == nullptr) {
        std::string why = sf_strerror(nullptr);
        // libsndfile's MP3 reader reports a file in which it finds no whole frame (a download cut after a few
        // hundred bytes) as "File does not exist or is not a regular file (possibly a pipe?)". The file was
        // checked above, so that text would send the user looking for the wrong problem.
        if (why.find("does not exist") != std::string::npos) why = "no decodable audio frame found";
        throw Error(audio_file_context(path),
                    "cannot be decoded (libsndfile: " + why +
                        "); it is truncated, corrupt, or in a format this libsndfile "
                        "does not read (WAV, FLAC, OGG, MP3, AIFF, ...)");
    }
    if (file.info.channels < 1 || file.info.samplerate < 1)
        throw Error(audio_file_context(path), "has an invalid header (channels " +
                                                  std::to_string(file.info.channels) + ", sample rate " +
                                                  std::to_string(file.info.samplerate) + ")");
    check_not_truncated(path, file.handle);
}

std::string major_format_name(int format) {
    switch (format & SF_FORMAT_TYPEMASK) {
        case SF_FORMAT_WAV: return "WAV";
        case SF_FORMAT_AIFF: return "AIFF";
        case SF_FORMAT_AU: return "AU";
        case SF_FORMAT_RAW: return "RAW";
        case SF_FORMAT_W64: return "W64";
        case SF_FORMAT_WAVEX: return "WAVEX";
        case SF_FORMAT_FLAC: return "FLAC";
        case SF_FORMAT_CAF: return "CAF";
        case SF_FORMAT_OGG: return "OGG";
        case SF_FORMAT_RF64: return "RF64";
        case SF_FORMAT_MPEG: return "MP3";
        default: break;
    }
    SF_FORMAT_INFO info{};
    info.format = format & SF_FORMAT_TYPEMASK;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) == 0 && info.name) return info.name;
    return "unknown";
}

std::string subtype_name(int format) {
    switch (format & SF_FORMAT_SUBMASK) {
        case SF_FORMAT_PCM_S8: return "PCM_S8";
        case SF_FORMAT_PCM_U8: return "PCM_U8";
        case SF_FORMAT_PCM_16: return "PCM_16";
        case SF_FORMAT_PCM_24: return "PCM_24";
        case SF_FORMAT_PCM_32: return "PCM_32";
        case SF_FORMAT_FLOAT: return "FLOAT";
        case SF_FORMAT_DOUBLE: return "DOUBLE";
        case SF_FORMAT_ULAW: return "ULAW";
        case SF_FORMAT_ALAW: return "ALAW";
        case SF_FORMAT_VORBIS: return "VORBIS";
        case SF_FORMAT_OPUS: return "OPUS";
        case SF_FORMAT_MPEG_LAYER_I: return "MPEG_LAYER_I";
        case SF_FORMAT_MPEG_LAYER_II: return "MPEG_LAYER_II";
        case SF_FORMAT_MPEG_LAYER_III: return "MPEG_LAYER_III";
        default: return "OTHER";
    }
}

std::string lower_extension(const fs::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

void check_finite(const fs::path& path, std::span<const float> values, int channels, std::int64_t first_frame) {
    const std::size_t i = first_non_finite(values);
    if (i == values.size()) return;
    const auto frame = first_frame + static_cast<std::int64_t>(i / channels);
    throw Error(audio_file_context(path), std::string(std::isnan(values[i]) ? "NaN" : "Inf") +
                                              " sample at frame " + std::to_string(frame) + ", channel " +
                                              std::to_string(i % channels) + " (first bad sample)");
}

constexpr std::int64_t k_block_frames = 1 << 16;  // per decode_blocks read: 256 KiB of mono floats

// Decodes up to `wanted` frames in blocks through `read(block)` (fills interleaved frames of `channels`,
// returns how many; 0 at the end) and resamples or appends each block: a long file never needs its
// native-rate copy and its resampled copy at once. Returns the frames read.
template <class Read>
std::int64_t decode_blocks(std::int64_t wanted, int channels, StreamingResampler* resampler, Audio& audio,
                           Read&& read) {
    std::vector<float> block(static_cast<std::size_t>(std::min(wanted, k_block_frames)) * channels);
    std::int64_t read_total = 0;
    while (read_total < wanted) {
        const auto n = static_cast<std::size_t>(std::min(k_block_frames, wanted - read_total));
        const std::size_t got = read(std::span<float>(block.data(), n * channels), read_total);
        if (got == 0) break;  // a truncated file ends early; what was decoded is kept
        const std::span<const float> chunk(block.data(), got * channels);
        if (resampler) resampler->process(chunk, audio.samples);
        else audio.samples.insert(audio.samples.end(), chunk.begin(), chunk.end());
        read_total += static_cast<std::int64_t>(got);
    }
    return read_total;
}

// An Audio with room for `wanted` native frames after resampling (by `ratio`), up to 2^26 samples: a header
// may claim any length (libsndfile reports SF_COUNT_MAX frames for some Ogg streams), and beyond that the
// vector grows as the samples come.
Audio empty_audio(int channels, int sample_rate, std::int64_t wanted, double ratio) {
    Audio audio;
    audio.channels = channels;
    audio.sample_rate = sample_rate;
    const double samples = (static_cast<double>(wanted) * ratio + 16) * channels;
    audio.samples.reserve(static_cast<std::size_t>(std::min(samples, static_cast<double>(1 << 26))));
    return audio;
}

// load_audio for MP3: libmpg123 directly (dsp/mp3_decoder.hpp), mixing to mono in the decoder and, with
// Mp3Decode::fast, synthesising at a reduced rate. `offset` and `wanted` are native frames, as for libsndfile.
Audio load_mp3(const fs::path& path, const LoadOptions& options, int native_rate, std::int64_t total,
               std::int64_t offset, std::int64_t wanted) {
    const bool resampling = options.sample_rate != 0 && options.sample_rate != native_rate;
    int down = resampling && options.mono ? mp3_down_sample(options.mp3_decode, native_rate, options.sample_rate) : 0;
    if (down > 0 && offset % (1 << down) != 0) down = 0;  // frame-accurate offsets need the full-rate grid
    const std::int64_t factor = std::int64_t{1} << down;
    Mp3Decoder decoder(path, options.mono, down, resampling ? options.sample_rate / 2.0 : 0.0);
    const int channels = decoder.channels();
    const int rate = decoder.sample_rate();
    if (offset > 0) decoder.seek(offset / factor);
    const std::int64_t wanted_decoded = (wanted + factor - 1) / factor;

    std::unique_ptr<StreamingResampler> resampler;
    if (resampling) resampler = std::make_unique<StreamingResampler>(channels, rate, options.sample_rate,
                                                                     options.resample_quality);
    const double ratio = resampling ? static_cast<double>(options.sample_rate) / native_rate : 1.0;
    Audio audio = empty_audio(channels, resampling ? options.sample_rate : native_rate, wanted, ratio);
    const std::int64_t read_total =
        decode_blocks(wanted_decoded, channels, resampler.get(), audio, [&](std::span<float> block, std::int64_t at) {
            const std::size_t got = decoder.read(block);
            check_finite(path, block.first(got * channels), channels, offset + at * factor);
            return got;
        });
    if (read_total == 0)
        throw Error(audio_file_context(path), "no audio frames could be decoded (truncated or corrupt data)");
    if (resampler) resampler->finish(audio.samples);
    if (down > 0) {
        // The full-rate decode would have read this many native frames: all that was wanted, or up to the exact
        // (Info-tag) end, which lies within one reduced-rate sample of what was decoded.
        std::int64_t native_read = read_total == wanted_decoded ? wanted : read_total * factor;
        if (read_total < wanted_decoded && std::llabs(total - offset - native_read) < factor) native_read = total - offset;
        const auto expected = static_cast<std::size_t>(std::llround(static_cast<double>(native_read) * ratio));
        if (std::llabs(static_cast<long long>(expected) - static_cast<long long>(audio.samples.size())) <= 2)
            audio.samples.resize(expected, 0.0f);
    }
    return audio;
}

}  // namespace

AudioInfo read_audio_info(const fs::path& path, FrameCount count) {
    SndFile file;
    open_for_reading(path, file);
    AudioInfo info;
    info.format = major_format_name(file.info.format);
    info.subtype = subtype_name(file.info.format);
    info.sample_rate = file.info.samplerate;
    info.channels = file.info.channels;
    info.frames = file.info.frames;
    // A length the file cannot hold (libsndfile reports SF_COUNT_MAX for an Ogg stream whose last granule
    // position it cannot use; a header can be forged) is counted by decoding instead: lengths size the
    // chunk plans and buffers of tag and extract. No codec mtag reads gets near 8192 frames per byte.
    std::error_code ec;
    const std::uintmax_t bytes = fs::file_size(path, ec);
    if (!ec && static_cast<std::uintmax_t>(info.frames) / 8192 > bytes) info.frames = count_audio_frames(path);
    else if (count == FrameCount::exact && (file.info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG)
        info.frames = count_mp3_frames(path);
    return info;
}

std::int64_t count_audio_frames(const fs::path& path) {
    SndFile file;
    open_for_reading(path, file);
    // MP3: libmpg123 counts the frames from their headers, without decoding them.
    if ((file.info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) return count_mp3_frames(path);
    std::vector<float> block(static_cast<std::size_t>(k_block_frames) * file.info.channels);
    std::int64_t total = 0;
    for (sf_count_t got; (got = sf_readf_float(file.handle, block.data(), k_block_frames)) > 0;) total += got;
    return total;
}

std::vector<float> to_mono(const std::vector<float>& interleaved, int channels) {
    if (channels == 1) return interleaved;
    std::vector<float> mono(interleaved.size() / channels);
    mix_to_mono(interleaved, channels, mono);
    return mono;
}

Audio load_audio(const fs::path& path, const LoadOptions& options) {
    if (options.sample_rate < 0)
        throw Error("load_audio sample_rate", "must be 0 (native) or positive, got " +
                                                  std::to_string(options.sample_rate));
    if (options.offset_seconds < 0 || !std::isfinite(options.offset_seconds))
        throw Error(audio_file_context(path),
                    "offset " + std::to_string(options.offset_seconds) + " s must be >= 0");
    SndFile file;
    open_for_reading(path, file);
    const int native_rate = file.info.samplerate;
    const int channels = file.info.channels;
    const sf_count_t total = file.info.frames;
    if (total <= 0) throw Error(audio_file_context(path), "holds no audio (0 frames)");

    const auto offset = static_cast<sf_count_t>(std::llround(options.offset_seconds * native_rate));
    if (offset >= total)
        throw Error(audio_file_context(path),
                    "offset " + std::to_string(options.offset_seconds) + " s is past the end (" +
                        std::to_string(static_cast<double>(total) / native_rate) + " s)");
    sf_count_t wanted = total - offset;
    if (options.duration_seconds >= 0) {
        wanted = std::min<sf_count_t>(wanted, std::llround(options.duration_seconds * native_rate));
    }
    if ((file.info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG)
        return load_mp3(path, options, native_rate, total, offset, wanted);
    const bool mix = options.mono && channels > 1;
    const int out_channels = mix ? 1 : channels;
    const bool resampling = options.sample_rate != 0 && options.sample_rate != native_rate;
    std::unique_ptr<StreamingResampler> resampler;
    if (resampling)
        resampler = std::make_unique<StreamingResampler>(out_channels, native_rate, options.sample_rate,
                                                         options.resample_quality);
    Audio audio = empty_audio(out_channels, resampling ? options.sample_rate : native_rate, wanted,
                              resampling ? resampler->ratio() : 1.0);
    std::int64_t read_total = 0;
    if (decodes_flac_directly(file.info.format)) {  // libFLAC directly (dsp/flac_decoder.hpp)
        FlacDecoder decoder(path, options.mono);
        if (offset > 0) decoder.seek(offset);
        // Integer samples are always finite: no NaN check.
        read_total = decode_blocks(wanted, out_channels, resampler.get(), audio,
                                   [&](std::span<float> block, std::int64_t) { return decoder.read(block); });
    } else {
        if (offset > 0 && sf_seek(file.handle, offset, SEEK_SET) < 0)
            throw Error(audio_file_context(path), std::string("cannot seek to the offset (libsndfile: ") +
                                                      sf_strerror(file.handle) + ")");
        std::vector<float> interleaved(mix ? static_cast<std::size_t>(std::min<sf_count_t>(wanted, k_block_frames)) * channels
                                           : 0);
        read_total = decode_blocks(wanted, out_channels, resampler.get(), audio,
                                   [&](std::span<float> block, std::int64_t at) -> std::size_t {
                                       const std::size_t frames = block.size() / out_channels;
                                       float* target = mix ? interleaved.data() : block.data();
                                       const sf_count_t got =
                                           sf_readf_float(file.handle, target, static_cast<sf_count_t>(frames));
                                       if (got <= 0) return 0;
                                       const auto n = static_cast<std::size_t>(got);
                                       check_finite(path, std::span<const float>(target, n * channels), channels,
                                                    offset + at);
                                       if (mix)
                                           mix_to_mono(std::span<const float>(target, n * channels), channels,
                                                       block.first(n));
                                       return n;
                                   });
    }
    if (read_total == 0)
        throw Error(audio_file_context(path), "no audio frames could be decoded (truncated or corrupt data)");
    if (resampling) resampler->finish(audio.samples);
    return audio;
}

bool is_audio_extension(const fs::path& path) {
    static constexpr std::array<const char*, 14> known = {".wav", ".flac", ".ogg", ".oga",  ".opus",
                                                          ".mp3", ".aif",  ".aiff", ".aifc", ".au",
                                                          ".snd", ".w64",  ".caf",  ".rf64"};
    const std::string ext = lower_extension(path);
    return std::any_of(known.begin(), known.end(), [&](const char* k) { return ext == k; });
}

void save_audio(const fs::path& path, const Audio& audio, SampleFormat format) {
    if (audio.channels >= 1 && audio.samples.size() % audio.channels != 0)
        throw Error(audio_file_context(path), "sample count is not a multiple of the channel count");
    const auto frames = static_cast<std::int64_t>(audio.frames());
    save_audio_blocks(
        path, audio.sample_rate, audio.channels, frames,
        [&](std::int64_t first, std::span<float> block) {
            std::copy_n(audio.samples.begin() + static_cast<std::ptrdiff_t>(first * audio.channels), block.size(),
                        block.begin());
        },
        format);
}

void save_audio_blocks(const fs::path& path, int sample_rate, int channels, std::int64_t frames,
                       const std::function<void(std::int64_t first_frame, std::span<float> block)>& fill,
                       SampleFormat format) {
    if (channels < 1 || sample_rate < 1)
        throw Error(audio_file_context(path), "cannot write audio with " + std::to_string(channels) +
                                                  " channels at " + std::to_string(sample_rate) + " Hz");
    if (frames < 0)
        throw Error(audio_file_context(path), "cannot write " + std::to_string(frames) + " frames");
    const std::string ext = lower_extension(path);
    const int subtype = format == SampleFormat::float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16;
    SF_INFO info{};
    if (ext == ".wav") info.format = SF_FORMAT_WAV | subtype;
    else if (ext == ".flac") info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    else if (ext == ".ogg" || ext == ".oga") info.format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    else if (ext == ".opus") info.format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
    else if (ext == ".mp3") info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    else if (ext == ".aif" || ext == ".aiff") info.format = SF_FORMAT_AIFF | subtype;
    else
        throw Error(audio_file_context(path), "extension '" + ext +
                                                  "' is not one mtag writes; use .wav, .flac, .ogg, "
                                                  ".opus, .mp3 or .aiff");
    info.samplerate = sample_rate;
    info.channels = channels;
    if (sf_format_check(&info) == 0)
        throw Error(audio_file_context(path), "libsndfile cannot write this format at " +
                                                  std::to_string(sample_rate) + " Hz with " +
                                                  std::to_string(channels) + " channels");

    const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    std::error_code ec;
    fs::create_directories(parent, ec);
    const fs::path tmp = temporary_path(parent / path.filename(), ".tmp." + std::to_string(::getpid()), ".");
    SNDFILE* handle = sf_open(tmp.c_str(), SFM_WRITE, &info);
    if (handle == nullptr)
        throw Error(audio_file_context(path),
                    std::string("cannot be written (libsndfile: ") + sf_strerror(nullptr) + ")");
    // Clip rather than wrap when float samples exceed [-1, 1] on the way to integers.
    sf_command(handle, SFC_SET_CLIPPING, nullptr, SF_TRUE);
    // Blocks of 64 Ki frames: small enough to stay in cache, large enough that the encoder's per-call cost
    // does not show.
    constexpr std::int64_t block_frames = std::int64_t{1} << 16;
    std::vector<float> block(static_cast<std::size_t>(std::min(frames, block_frames) * channels));
    sf_count_t written = 0;
    try {
        while (written < frames) {
            const std::int64_t n = std::min<std::int64_t>(block_frames, frames - written);
            const std::span<float> part(block.data(), static_cast<std::size_t>(n * channels));
            fill(written, part);
            const sf_count_t got = sf_writef_float(handle, part.data(), n);
            written += got;
            if (got != n) break;
        }
    } catch (...) {
        sf_close(handle);
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
    const int close_error = sf_close(handle);
    if (written != frames || close_error != 0) {
        fs::remove(tmp, ec);
        throw Error(audio_file_context(path), "write failed after " + std::to_string(written) + " of " +
                                                  std::to_string(frames) + " frames (disk full?)");
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error(audio_file_context(path), "cannot rename the temporary file into place: " + ec.message());
    }
}

}  // namespace mtag::dsp
