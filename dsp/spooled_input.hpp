#pragma once
// Audio that arrives as a stream: standard input given as "-", a pipe (bash's `<(ffmpeg ...)` process
// substitution is /dev/fd/N), a named FIFO or a character device. The decoders read a file more than once (its
// header for the length, then the samples; seeks for offsets and chunks), which a pipe cannot do: after the
// first read the bytes are gone. `mtag tag`, `extract` and `info` therefore copy such an input to a temporary
// file and decode the copy, as sox and ffmpeg buffer what they cannot seek. libsndfile recognises WAV, FLAC,
// Ogg, AIFF and MP3 by their content, so the copy needs no extension.
#include <cstdint>
#include <filesystem>
#include <string>

namespace mtag::dsp {

// True for "-" and for an existing path that is neither a regular file nor a folder (FIFO, pipe, socket or
// device). Checked without opening it: opening a FIFO that has no writer blocks.
bool is_stream_input(const std::filesystem::path& path);

// A temporary copy of a stream, removed (with its private folder) when the object is destroyed, or by
// SIGINT, SIGTERM or SIGHUP if they end the process first (where no other handler was installed).
class SpooledInput {
public:
    // Longest stream copied by default: 8 GiB, 13 hours of 44.1 kHz stereo 16-bit WAV. An endless stream
    // (`<(cat /dev/urandom)`) stops there with an error instead of filling the disk.
    static constexpr std::uint64_t default_max_bytes = std::uint64_t{8} << 30;

    // Reads `source` ("-" = standard input) to its end into a new file in the temporary folder
    // ($TMPDIR or /tmp). Throws mtag::Error naming the source when it cannot be opened or read, holds no
    // bytes, is longer than max_bytes, or the copy cannot be written (e.g. the disk is full).
    explicit SpooledInput(const std::filesystem::path& source, std::uint64_t max_bytes = default_max_bytes);
    ~SpooledInput();
    SpooledInput(const SpooledInput&) = delete;
    SpooledInput& operator=(const SpooledInput&) = delete;

    // The copy, to decode.
    const std::filesystem::path& path() const { return m_path; }
    // The input as the user gave it ("-" or the pipe's path), for results and messages.
    const std::string& source() const { return m_source; }
    // "stdin" for "-", else the source's file name ("63" for /dev/fd/63): the copy's name, and the stem of
    // the output `extract`, `tag --embeddings` and `--taggram` write for it.
    std::string name() const;

private:
    std::string m_source;
    std::filesystem::path m_folder;
    std::filesystem::path m_path;
    int m_slot = -1;  // this copy's entry in the table the signal handler cleans up from
};

}  // namespace mtag::dsp
