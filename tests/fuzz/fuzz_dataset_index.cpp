// libFuzzer target: the index files of the published datasets. The first byte picks the reader, the rest
// is the file: MTAT's annotations_final.csv (data::load_mtat), MTG-Jamendo's autotagging.tsv
// (data::load_jamendo), or a split file as GTZAN's fault-filtered splits and --split-file use
// (data::read_split_files). Audio checks are off: the index is what is under test.
#include "data/sets/jamendo.hpp"
#include "data/sets/mtat.hpp"
#include "data/sets/split.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int which = data[0] % 3;
    mtag::data::DatasetOptions options;
    options.check_audio = false;
    try {
        if (which == 0) {
            const auto path = mtag::fuzz::write_input("mtat/annotations_final.csv", data + 1, size - 1);
            (void)mtag::data::load_mtat(path, options);
        } else if (which == 1) {
            const auto path = mtag::fuzz::write_input("jamendo/autotagging.tsv", data + 1, size - 1);
            (void)mtag::data::load_jamendo(path, options);
        } else {
            const auto path = mtag::fuzz::write_input("splits/train_filtered.txt", data + 1, size - 1);
            (void)mtag::data::read_split_files({path});
        }
    } catch (const mtag::Error&) {
    }
    return 0;
}
