// libFuzzer target: a run directory's model.json through data::load_card (what `mtag tag`, `mtag model
// check` and the Python Tagger read from a model directory that may come from elsewhere).
#include "data/run/model_card.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = mtag::fuzz::write_input("run/model.json", data, size);
    try {
        (void)mtag::data::load_card(path.parent_path());
    } catch (const mtag::Error&) {
    }
    return 0;
}
