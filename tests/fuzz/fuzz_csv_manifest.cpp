// libFuzzer target: the CSV/TSV reader (data::parse_csv, both delimiters) and a CSV manifest through
// data::load_manifest (`--data manifest.csv`) and data::read_manifest_paths (`mtag extract --manifest`).
#include "data/extract/extract.hpp"
#include "data/sets/csv.hpp"
#include "data/sets/manifest.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = mtag::fuzz::as_string(data, size);
    for (const char delimiter : {',', '\t'}) {
        try {
            (void)mtag::data::parse_csv(text, {.delimiter = delimiter}, "fuzz input");
        } catch (const mtag::Error&) {
        }
    }
    const auto path = mtag::fuzz::write_input("manifest.csv", data, size);
    try {
        mtag::data::DatasetOptions options;
        options.check_audio = false;
        (void)mtag::data::load_manifest(path, options);
    } catch (const mtag::Error&) {
    }
    try {
        (void)mtag::data::read_manifest_paths(path);
    } catch (const mtag::Error&) {
    }
    return 0;
}
