// mtag info: one JSON line per audio file describing its header.
#include "app/command.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/spooled_input.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>

namespace mtag::app {

Command add_info_command(CLI::App& root, const GlobalOptions& /*global*/) {
    auto files = std::make_shared<std::vector<std::string>>();
    CLI::App* cmd = root.add_subcommand("info", "Print format, sample rate, channels and duration of audio files");
    cmd->add_option("files", *files, "Audio files; '-' reads standard input, and pipes such as <(...) work too")
        ->required();
    cmd->footer("One JSON object per line on stdout; a file that fails is reported on stderr and the others "
                "still print. Exit code 3 when some files failed.");
    return {cmd, [files]() {
        int failed = 0;
        for (const std::string& path : *files) {
            try {
                // A stream is read once into a temporary copy (dsp/spooled_input.hpp), removed after the line.
                std::optional<dsp::SpooledInput> stream;
                if (dsp::is_stream_input(path)) stream.emplace(path);
                // exact: a cut MP3's header still claims the whole file's length
                const dsp::AudioInfo info =
                    dsp::read_audio_info(stream ? stream->path() : std::filesystem::path(path), dsp::FrameCount::exact);
                nlohmann::ordered_json line = {{"path", path},
                                       {"format", info.format},
                                       {"subtype", info.subtype},
                                       {"sample_rate", info.sample_rate},
                                       {"channels", info.channels},
                                       {"frames", info.frames},
                                       {"duration_seconds", info.duration_seconds()}};
                std::cout << line.dump() << "\n";
            } catch (const Error& e) {
                std::cerr << "mtag: error: " << e.what() << "\n";
                ++failed;
            }
        }
        std::cout.flush();
        return failed == 0 ? 0 : 3;
    }};
}

}  // namespace mtag::app
