// libFuzzer target: what `mtag extract` reads back from an earlier run in OUT: the journal
// (extract.journal.jsonl, one JSON record per line, possibly cut short by a kill) and features.json. The
// first byte picks which file the rest becomes; a run over one short tone then reads it to decide what to
// skip. A record that claims the output is done must not make the run skip it wrongly or crash.
#include "data/extract/extract.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const fs::path root = mtag::fuzz::scratch_dir() / "extract";
    const fs::path audio = root / "in" / "tone.wav";
    static const bool made = [&] {
        fs::create_directories(audio.parent_path());
        mtag::dsp::Audio tone;
        tone.sample_rate = 16000;
        tone.channels = 1;
        tone.samples.resize(1600);
        for (std::size_t i = 0; i < tone.samples.size(); ++i)
            tone.samples[i] = 0.3f * static_cast<float>(std::sin(0.2 * static_cast<double>(i)));
        mtag::dsp::save_audio(audio, tone);
        return true;
    }();
    (void)made;
    const fs::path out = root / "out";
    fs::remove_all(out);
    fs::create_directories(out);
    const char* name = (data[0] % 2 == 0) ? "extract.journal.jsonl" : "features.json";
    mtag::fuzz::write_input(fs::relative(out / name, mtag::fuzz::scratch_dir()).string(), data + 1, size - 1);
    mtag::data::ExtractOptions options;
    options.inputs = {audio.string()};
    options.out_dir = out;
    options.quiet = true;
    options.config.n_mels = 16;  // otherwise the default log-mel front end at 16 kHz
    try {
        const auto summary = mtag::data::run_extract(options);
        if (summary.failed != 0 || summary.computed + summary.skipped != 1) std::abort();
    } catch (const mtag::Error&) {
    }
    return 0;
}
