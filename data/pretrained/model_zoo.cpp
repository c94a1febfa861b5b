#include "data/pretrained/model_zoo.hpp"

#include "data/pretrained/keras_import.hpp"
#include "data/progress/progress.hpp"
#include "dsp/error.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

const char* const k_upstream = "https://github.com/keunwoochoi/music-auto_tagging-keras/raw/master/";

// Writes the body of a transfer to a file and advances the progress bar.
struct Download {
    std::FILE* file = nullptr;
    Progress* progress = nullptr;
    std::uint64_t bytes = 0;
    int write_errno = 0;  // errno of the failed write, for the error message
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* d = static_cast<Download*>(user);
    const std::size_t n = size * count;
    if (std::fwrite(data, 1, n, d->file) != n) {  // a short write makes curl fail with CURLE_WRITE_ERROR
        d->write_errno = errno;
        return 0;
    }
    d->bytes += n;
    if (d->progress) d->progress->advance(n);
    return n;
}

// The URL of catalogue file `file` (upstream `url`), through $MTAG_MODEL_MIRROR when set.
std::string source_url(const std::string& file, const std::string& url) {
    const char* mirror = std::getenv("MTAG_MODEL_MIRROR");
    if (!mirror || !*mirror) return url;
    std::string base = mirror;
    if (base.find("://") == std::string::npos) base = "file://" + fs::absolute(base).string();
    return base + (base.back() == '/' ? "" : "/") + file;
}

// Downloads `url` to `target` (through a temporary file) and checks its SHA-256.
void download_verified(const std::string& url, const fs::path& target, const std::string& sha256, std::uint64_t bytes,
                       const std::string& label, bool quiet) {
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!initialised) throw Error("libcurl", "initialisation failed");
    const fs::path tmp = target.string() + ".part-" + std::to_string(::getpid());
    remove_dead_temporaries(target, ".part-");  // a killed fetch left its partial download behind
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(tmp.c_str(), "wb"), std::fclose);
    if (!file) throw Error("model cache '" + target.parent_path().string() + "'", "cannot be written");
    Progress progress("fetch " + label, bytes, !quiet, 2.0, "bytes");
    Download d{file.get(), &progress};
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);  // abort a transfer stalled for 60 s
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &d);
    const CURLcode code = curl_easy_perform(curl.get());
    const bool flushed = std::fflush(file.get()) == 0 && ::fsync(fileno(file.get())) == 0;
    file.reset();
    progress.finish();
    std::error_code ec;
    if (code == CURLE_WRITE_ERROR || (code == CURLE_OK && !flushed)) {
        // Our side failed (disk full, quota, file size limit): name the file, not the mirror.
        const int saved = d.write_errno != 0 ? d.write_errno : errno;
        fs::remove(tmp, ec);
        throw Error("model cache file '" + tmp.string() + "'",
                    std::string("cannot be written (") + std::strerror(saved) + ", disk full?) while downloading " + url);
    }
    if (code != CURLE_OK) {
        fs::remove(tmp, ec);
        throw Error("download " + url, code != CURLE_OK ? std::string(*error ? error : curl_easy_strerror(code)) +
                                                               " (set MTAG_MODEL_MIRROR to a folder or URL holding the file)"
                                                         : "the downloaded file could not be written (disk full?)");
    }
    const std::string got = sha256_of_file(tmp);
    if (got != sha256) {
        fs::remove(tmp, ec);
        throw Error("download " + url, "SHA-256 is " + got + ", expected " + sha256 + " (corrupt or a different file)");
    }
    fs::rename(tmp, target);
}

}  // namespace

const std::vector<PretrainedModel>& pretrained_models() {
    static const std::vector<PretrainedModel> models = {
        {.name = "choi2016_crnn",
         .task = "tagging, MSD top-50 (last.fm)",
         .tags = "50",
         .input = "29.12 s at 12 kHz, 96-band log-mel x 1366 frames",
         .licence = "MIT",
         .file = "music_tagger_crnn_weights_tensorflow.h5",
         .url = std::string(k_upstream) + "data/music_tagger_crnn_weights_tensorflow.h5",
         .sha256 = "df63638de9f3113780768181670c554f122fbd1297c63c065836d70a251115a8",
         .bytes = 1649464,
         .licence_file = "LICENSE.md",
         .licence_url = std::string(k_upstream) + "LICENSE.md",
         .licence_sha256 = "86314dc5810c1d1c0193c1bb09f0bd1cfbae2c5a52d0366b545a70db6388d937"},
        {.name = "choi2016_cnn",
         .task = "tagging, MSD top-50 (last.fm)",
         .tags = "50",
         .input = "29.12 s at 12 kHz, 96-band log-mel x 1366 frames",
         .licence = "MIT",
         .file = "music_tagger_cnn_weights_tensorflow.h5",
         .url = std::string(k_upstream) + "data/music_tagger_cnn_weights_tensorflow.h5",
         .sha256 = "8b61b73a8065cb084a9b56e8b5421ee876f38a1aca109ec2ad336e3a17c7c421",
         .bytes = 3523472,
         .licence_file = "LICENSE.md",
         .licence_url = std::string(k_upstream) + "LICENSE.md",
         .licence_sha256 = "86314dc5810c1d1c0193c1bb09f0bd1cfbae2c5a52d0366b545a70db6388d937"},
        {.name = "choi2017_compact",
         .task = "features for transfer learning (160-d)",
         .tags = "none",
         .input = "29 s at 12 kHz (raw audio, kapre log-mel inside)",
         .licence = "MIT",
         .file = "compact_cnn_weights_tensorflow.hdf5",
         .url = std::string(k_upstream) + "compact_cnn/weights_tensorflow.hdf5",
         .sha256 = "42e791b8c1b41ffe82c74d0501d8216eaee94d0b727b44de39ccc83ef810aed3",
         .bytes = 1321456,
         .licence_file = "LICENSE.md",
         .licence_url = std::string(k_upstream) + "LICENSE.md",
         .licence_sha256 = "86314dc5810c1d1c0193c1bb09f0bd1cfbae2c5a52d0366b545a70db6388d937"},
    };
    return models;
}

const PretrainedModel* find_pretrained(const std::string& name) {
    for (const PretrainedModel& m : pretrained_models())
        if (m.name == name) return &m;
    return nullptr;
}

fs::path model_cache_dir() {
    if (const char* home = std::getenv("MTAG_HOME"); home && *home) return fs::path(home) / "models";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "mtag" / "models";
    if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "mtag" / "models";
    throw Error("model cache", "neither MTAG_HOME nor HOME is set; set MTAG_HOME to a writable folder");
}

fs::path installed_model_dir(const PretrainedModel& model) {
    return model_cache_dir() / model.name;
}

namespace {

bool has_weights(const fs::path& dir) {
    return fs::exists(dir / "model.json") && fs::exists(dir / "model.safetensors");
}

}  // namespace

bool is_installed(const PretrainedModel& model) {
    // The licence is copied last: a fetch killed before that is not finished.
    const fs::path dir = installed_model_dir(model);
    return has_weights(dir) && fs::exists(dir / model.licence_file);
}

fs::path fetch_pretrained(const PretrainedModel& model, const std::string& mtag_version, bool quiet,
                          OutputLock::Busy busy) {
    const fs::path dir = installed_model_dir(model);
    if (is_installed(model)) return dir;
    const OutputLock lock = OutputLock::beside(dir, "model cache directory '" + dir.string() + "'",
                                               "mtag model fetch " + model.name, busy);
    if (is_installed(model)) return dir;  // the process we waited for installed it
    const fs::path downloads = model_cache_dir() / "downloads";
    fs::create_directories(downloads);
    if (!has_weights(dir)) {
        const fs::path weights = downloads / model.file;
        if (!fs::exists(weights) || sha256_of_file(weights) != model.sha256)
            download_verified(source_url(model.file, model.url), weights, model.sha256, model.bytes, model.name, quiet);
        RunModel run = import_keras_h5(weights, model.name, mtag_version);
        run.card.provenance["url"] = model.url;
        run.card.provenance["sha256"] = model.sha256;
        try {
            write_model_dir(run, dir);
        } catch (const Error&) {
            if (!has_weights(dir)) throw;  // else another process installed it meanwhile
        }
    }
    const fs::path licence = downloads / (model.name + "." + model.licence_file);
    if (!fs::exists(licence) || sha256_of_file(licence) != model.licence_sha256)
        download_verified(source_url(model.licence_file, model.licence_url), licence, model.licence_sha256, 0,
                          model.name + " licence", true);
    // Copied under a temporary name and renamed: is_installed() looks for the licence.
    remove_dead_temporaries(dir / model.licence_file, ".tmp-");
    const fs::path licence_tmp = dir / (model.licence_file + ".tmp-" + std::to_string(::getpid()));
    fs::copy_file(licence, licence_tmp, fs::copy_options::overwrite_existing);
    fs::rename(licence_tmp, dir / model.licence_file);
    if (!quiet) std::cerr << "installed " << model.name << " in " << dir.string() << "\n";
    return dir;
}

fs::path resolve_model(const std::string& spec, const std::string& mtag_version, bool quiet) {
    std::error_code ec;
    if (fs::is_directory(spec, ec)) return spec;
    if (const PretrainedModel* m = find_pretrained(spec))
        return fetch_pretrained(*m, mtag_version, quiet, OutputLock::Busy::wait);
    throw Error("model '" + spec + "'", "is neither a model directory nor a pretrained model (see `mtag model list`)");
}

std::string sha256_of_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("file '" + path.string() + "'", "cannot be read");
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buffer(1 << 16);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &length);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

}  // namespace mtag::data
