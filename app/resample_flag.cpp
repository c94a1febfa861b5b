#include "app/resample_flag.hpp"

#include "dsp/error.hpp"

namespace mtag::app {

CLI::Option* add_resample_quality_flag(CLI::App* cmd, std::string& name, const std::string& what) {
    const CLI::Validator quality_name(
        [](std::string& value) -> std::string {
            try {
                dsp::parse_resample_quality(value);
                return {};
            } catch (const Error&) {
                return "unknown resample quality '" + value + "'; expected one of " + dsp::resample_quality_names();
            }
        },
        "QUALITY");
    return cmd
        ->add_option("--resample-quality,--res-type", name,
                     what + ": libsoxr soxr_vhq | soxr_hq | soxr_mq | soxr_lq | soxr_qq, or libsamplerate "
                            "sinc_best | sinc_medium | sinc_fastest (librosa's res_type names; best, medium, "
                            "fastest are aliases of the sinc_* ones)")
        ->check(quality_name)
        ->capture_default_str();
}

CLI::Option* add_mp3_decode_flag(CLI::App* cmd, std::string& name) {
    return cmd
        ->add_option("--mp3-decode", name,
                     "MP3 synthesis: full (the file's rate, libsndfile's samples mixed to mono in the decoder) | "
                     "fast (half or quarter rate when the target rate is low enough, e.g. 44.1 kHz -> 16 kHz "
                     "synthesised at 22.05 kHz; the README gives its error against full)")
        ->check(CLI::IsMember({"full", "fast"}))
        ->capture_default_str();
}

}  // namespace mtag::app
