#pragma once
// The pretrained models mtag can fetch by name (`mtag model list`, `mtag model fetch NAME`, and any
// `--model NAME` / `--init-from NAME`): each is a published weights file with its upstream URL and SHA-256,
// the architecture that imports it, and its licence. Fetching downloads the file with libcurl into the cache,
// verifies the checksum (OpenSSL), imports it into CACHE/NAME/ (an ordinary model directory) and keeps the
// licence beside it.
//
//   cache     $MTAG_HOME/models, else $XDG_CACHE_HOME/mtag/models, else ~/.cache/mtag/models
//   mirror    $MTAG_MODEL_MIRROR: a base URL (file:// works) holding the files under their catalogue names;
//             tests and CI point it at ../shared/pretrained/choi2016 and never touch the network
#include "data/run/output_lock.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mtag::data {

struct PretrainedModel {
    std::string name;          // "choi2016_crnn" (also the preset that imports it)
    std::string task;          // "tagging (MSD top-50)"
    std::string tags;          // "50" or "none (features)"
    std::string input;         // "29.12 s of 12 kHz audio: 96-band log-mel, 1366 frames"
    std::string licence;       // "MIT"
    std::string file;          // catalogue file name, as in a mirror
    std::string url;           // upstream download URL
    std::string sha256;        // of the weights file
    std::uint64_t bytes = 0;
    std::string licence_file;  // licence file name in a mirror ("LICENSE.md")
    std::string licence_url;
    std::string licence_sha256;
};

// Every pretrained model, in listing order.
const std::vector<PretrainedModel>& pretrained_models();
// The entry called `name`, or null.
const PretrainedModel* find_pretrained(const std::string& name);

// Where fetched models live (created on demand).
std::filesystem::path model_cache_dir();
// CACHE/NAME: the model directory of an installed pretrained model.
std::filesystem::path installed_model_dir(const PretrainedModel& model);
bool is_installed(const PretrainedModel& model);

// Downloads (mirror or upstream), verifies and imports `model` unless installed; returns its directory.
// Progress on stderr unless `quiet`. Throws mtag::Error naming the URL (network, HTTP status, checksum).
// One process installs a model at a time (an OutputLock beside its directory): while another one does,
// `busy` refuses (mtag model fetch) or waits for it (a --model NAME fetched on first use).
std::filesystem::path fetch_pretrained(const PretrainedModel& model, const std::string& mtag_version, bool quiet,
                                       OutputLock::Busy busy = OutputLock::Busy::refuse);

// What `--model X` means: an existing directory, else a pretrained model's name (fetched on first use).
// Throws mtag::Error when it is neither.
std::filesystem::path resolve_model(const std::string& spec, const std::string& mtag_version, bool quiet);

// Lower-case hex SHA-256 of a file.
std::string sha256_of_file(const std::filesystem::path& path);

}  // namespace mtag::data
