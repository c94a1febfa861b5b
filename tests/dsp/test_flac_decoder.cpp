// Tests dsp/flac_decoder (and the FLAC paths of load_audio and AudioStream): libsndfile's samples bit for bit
// (8-, 16- and 24-bit, one to three channels, interleaved and mixed to mono), sample-accurate seeking, and
// damaged files: a cut file keeps what was decoded, a corrupt frame is skipped, nothing is accepted as NaN.
#include "dsp/audio_io.hpp"
#include "dsp/audio_stream.hpp"
#include "dsp/error.hpp"
#include "dsp/flac_decoder.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sndfile.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

using namespace mtag;
using mtag::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A FLAC file of `frames` frames of full-scale noise plus a tone per channel, written by libsndfile.
void write_flac(const fs::path& path, int channels, int subtype, std::int64_t frames, int rate = 44100) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_FLAC | subtype;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    REQUIRE(file != nullptr);
    std::mt19937 rng(static_cast<unsigned>(channels * 100 + subtype));
    std::uniform_real_distribution<double> noise(-0.4, 0.4);
    std::vector<double> samples(static_cast<std::size_t>(frames * channels));
    for (std::int64_t f = 0; f < frames; ++f)
        for (int c = 0; c < channels; ++c)
            samples[static_cast<std::size_t>(f * channels + c)] =
                noise(rng) + 0.55 * std::sin(0.01 * (c + 1) * static_cast<double>(f));
    REQUIRE(sf_writef_double(file, samples.data(), frames) == frames);
    sf_close(file);
}

// libsndfile's float decode of the whole file (interleaved), from `offset`.
std::vector<float> sndfile_floats(const fs::path& path, int& channels, std::int64_t offset = 0) {
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    REQUIRE(file != nullptr);
    channels = info.channels;
    if (offset > 0) REQUIRE(sf_seek(file, offset, SEEK_SET) == offset);
    std::vector<float> out;
    std::vector<float> block(4096 * static_cast<std::size_t>(info.channels));
    for (sf_count_t got; (got = sf_readf_float(file, block.data(), 4096)) > 0;)
        out.insert(out.end(), block.begin(), block.begin() + got * info.channels);
    sf_close(file);
    return out;
}

// Everything FlacDecoder::read gives, in reads of `chunk` frames.
std::vector<float> decode_all(dsp::FlacDecoder& decoder, std::size_t chunk = 3000) {
    std::vector<float> out;
    std::vector<float> block(chunk * static_cast<std::size_t>(decoder.channels()));
    for (std::size_t got; (got = decoder.read(block)) > 0;)
        out.insert(out.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(got * decoder.channels()));
    return out;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("FlacDecoder gives libsndfile's samples bit for bit, interleaved and mixed to mono", "[flac]") {
    TempDir dir("flac_decoder_bits");
    const std::int64_t frames = 100003;  // not a multiple of any FLAC block size
    for (const int subtype : {SF_FORMAT_PCM_S8, SF_FORMAT_PCM_16, SF_FORMAT_PCM_24}) {
        for (const int channels : {1, 2, 3}) {
            CAPTURE(subtype, channels);
            const fs::path path = dir.path() / (std::to_string(subtype) + "_" + std::to_string(channels) + ".flac");
            write_flac(path, channels, subtype, frames);
            int file_channels = 0;
            const std::vector<float> reference = sndfile_floats(path, file_channels);
            REQUIRE(reference.size() == static_cast<std::size_t>(frames * channels));

            dsp::FlacDecoder interleaved(path, false);
            CHECK(interleaved.length() == frames);
            CHECK(interleaved.sample_rate() == 44100);
            CHECK(interleaved.channels() == channels);
            CHECK(bit_identical(decode_all(interleaved), reference));

            const std::vector<float> mono_reference = dsp::to_mono(reference, channels);
            dsp::FlacDecoder mono(path, true);
            CHECK(mono.channels() == 1);
            CHECK(bit_identical(decode_all(mono, 777), mono_reference));
            CHECK(mono.error().empty());

            // load_audio and AudioStream read FLAC through it: the same bits as libsndfile's decode then mix.
            CHECK(bit_identical(dsp::load_audio(path, {.sample_rate = 0, .mono = true}).samples, mono_reference));
            CHECK(bit_identical(dsp::load_audio(path, {.sample_rate = 0, .mono = false}).samples, reference));
            dsp::AudioStream stream(path, 44100);
            std::vector<float> streamed;
            while (stream.read(streamed, 5000)) {
            }
            CHECK(bit_identical(streamed, mono_reference));
        }
    }
}

TEST_CASE("FlacDecoder seeks to the sample, and load_audio's offset and duration use it", "[flac]") {
    TempDir dir("flac_decoder_seek");
    const fs::path path = dir.path() / "seek.flac";
    write_flac(path, 2, SF_FORMAT_PCM_16, 60000);
    int channels = 0;
    const std::vector<float> all = sndfile_floats(path, channels);
    for (const std::int64_t at : {std::int64_t{0}, std::int64_t{1}, std::int64_t{4095}, std::int64_t{4096},
                                  std::int64_t{33333}, std::int64_t{59999}}) {
        CAPTURE(at);
        dsp::FlacDecoder decoder(path, false);
        decoder.seek(at);
        const std::vector<float> tail(all.begin() + at * 2, all.end());
        CHECK(bit_identical(decode_all(decoder), tail));
    }
    // Seeking back after reading to the end starts over.
    dsp::FlacDecoder decoder(path, true);
    const std::vector<float> first = decode_all(decoder);
    decoder.seek(0);
    CHECK(bit_identical(decode_all(decoder), first));

    const dsp::Audio part = dsp::load_audio(path, {.sample_rate = 0, .mono = true, .offset_seconds = 0.5,
                                                   .duration_seconds = 0.25});
    const std::vector<float> mono = dsp::to_mono(all, 2);
    const std::vector<float> expected(mono.begin() + 22050, mono.begin() + 22050 + 11025);
    CHECK(bit_identical(part.samples, expected));
}

TEST_CASE("FlacDecoder on damaged files: a cut file keeps what was decoded, a corrupt frame is skipped", "[flac]") {
    TempDir dir("flac_decoder_damaged");
    const fs::path good = dir.path() / "good.flac";
    write_flac(good, 2, SF_FORMAT_PCM_16, 200000);
    std::string bytes;
    {
        std::ifstream in(good, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    int channels = 0;
    const std::vector<float> full = dsp::to_mono(sndfile_floats(good, channels), 2);

    SECTION("cut at 60%") {
        const fs::path cut = dir.path() / "cut.flac";
        std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() * 6 / 10));
        const dsp::Audio audio = dsp::load_audio(cut, {.sample_rate = 0, .mono = true});
        // Whole FLAC frames up to the cut, the same prefix of samples as the intact file.
        REQUIRE(audio.samples.size() > full.size() / 2);
        REQUIRE(audio.samples.size() < full.size());
        CHECK(std::equal(audio.samples.begin(), audio.samples.end(), full.begin()));
        // The streaming reader, which cannot go back to say the file was short, reports it.
        dsp::AudioStream stream(cut, 44100);
        std::vector<float> streamed;
        try {
            while (stream.read(streamed)) {
            }
            CHECK(streamed.size() == audio.samples.size());  // libFLAC saw a clean end of a whole frame
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Catch::Contains("cut.flac") && Catch::Contains("read failed at frame"));
        }
    }
    SECTION("garbage in the middle") {
        const fs::path corrupt = dir.path() / "corrupt.flac";
        std::string damaged = bytes;
        std::mt19937 rng(7);
        for (std::size_t i = damaged.size() / 2; i < damaged.size() / 2 + 2000; ++i)
            damaged[i] = static_cast<char>(rng());
        std::ofstream(corrupt, std::ios::binary).write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
        dsp::FlacDecoder decoder(corrupt, true);
        const std::vector<float> samples = decode_all(decoder);
        CHECK_FALSE(decoder.error().empty());  // the damage is on record
        REQUIRE(samples.size() > full.size() / 3);
        for (float v : samples) REQUIRE(std::isfinite(v));
        // Up to the damage the samples are the intact file's.
        CHECK(std::equal(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(full.size() / 3), full.begin()));
    }
}

TEST_CASE("FlacDecoder names the file it cannot read", "[flac]") {
    TempDir dir("flac_decoder_errors");
    const fs::path junk = dir.path() / "junk.flac";
    std::ofstream(junk, std::ios::binary) << std::string(5000, 'x');
    CHECK_THROWS_WITH(dsp::FlacDecoder(junk, true), Catch::Contains("junk.flac") && Catch::Contains("FLAC"));
    CHECK_THROWS_WITH(dsp::FlacDecoder(dir.path() / "missing.flac", true), Catch::Contains("missing.flac"));
}
