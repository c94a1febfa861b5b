#include "data/pretrained/keras_import.hpp"

#include "data/pretrained/keras_h5.hpp"
#include "dsp/error.hpp"
#include "nn/models/crnn.hpp"
#include "nn/models/zoo.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <map>
#include <set>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

// How a Keras array becomes an mtag tensor.
enum class Transform {
    copy,             // same layout
    squeeze,          // same element order, unit dims dropped (kapre's (512, 1, 1, 257) DFT kernels)
    transpose,        // Dense (in, out) -> Linear (out, in)
    bn_std_keras106,  // Keras 1.0.6 "running_std" (a std) -> running_var = (std + 1e-6)^2 - eps
};

// One dataset of the file and the tensor it fills.
struct Assignment {
    std::string layer;   // HDF5 group (Keras layer, or a nested model's group)
    std::string owner;   // Keras (sub)layer owning the weight ("conv1", "convolution2d_1"); "" = `kind` is the
                         // dataset's exact name ("Variable:0")
    std::string kind;    // "W", "b", "gamma", "beta", "running_mean", "running_std", "W_z", ...
    std::string tensor;  // mtag parameter or buffer ("layer1.conv.weight")
    Transform transform = Transform::copy;
};

void add_batchnorm(std::vector<Assignment>& out, const std::string& layer, const std::string& owner,
                   const std::string& prefix, bool keras106) {
    out.push_back({layer, owner, "gamma", prefix + ".weight"});
    out.push_back({layer, owner, "beta", prefix + ".bias"});
    out.push_back({layer, owner, "running_mean", prefix + ".running_mean"});
    out.push_back({layer, owner, "running_std", prefix + ".running_var",
                   keras106 ? Transform::bn_std_keras106 : Transform::copy});
}

void add_conv(std::vector<Assignment>& out, const std::string& layer, const std::string& prefix) {
    out.push_back({layer, layer, "W", prefix + ".weight"});
    out.push_back({layer, layer, "b", prefix + ".bias"});
}

// The datasets of each architecture and where they go (layer names of the upstream files).
std::vector<Assignment> assignments(const std::string& arch) {
    std::vector<Assignment> out;
    if (arch == "choi2016_crnn") {
        add_batchnorm(out, "bn_0_freq", "bn_0_freq", "bn0", false);
        for (int i = 1; i <= 4; ++i) {
            const std::string n = std::to_string(i), stage = "layer" + n;
            add_conv(out, "conv" + n, stage + ".conv");
            add_batchnorm(out, "bn" + n, "bn" + n, stage + ".bn", false);
        }
        for (const char* gru : {"gru1", "gru2"})
            for (const char* gate : {"z", "r", "h"})
                for (const char* m : {"W_", "U_", "b_"})
                    out.push_back({gru, gru, std::string(m) + gate, std::string(gru) + "." + m + gate});
        out.push_back({"output", "output", "W", "dense.weight", Transform::transpose});
        out.push_back({"output", "output", "b", "dense.bias"});
    } else if (arch == "choi2016_cnn") {
        add_batchnorm(out, "bn_0_freq", "bn_0_freq", "spec_bn", true);
        for (int i = 1; i <= 5; ++i) {
            const std::string n = std::to_string(i), stage = "layer" + n;
            add_conv(out, "conv" + n, stage + ".conv");
            add_batchnorm(out, "bn" + n, "bn" + n, stage + ".bn", true);
        }
        out.push_back({"output", "output", "W", "dense.weight", Transform::transpose});
        out.push_back({"output", "output", "b", "dense.bias"});
    } else if (arch == "choi2017_compact") {
        // kapre's Melspectrogram: real and imaginary DFT kernels, then the mel matrix.
        out.push_back({"melgram", "", "Variable:0", "melgram.dft_real", Transform::squeeze});
        out.push_back({"melgram", "", "Variable_1:0", "melgram.dft_imag", Transform::squeeze});
        out.push_back({"melgram", "", "Variable_2:0", "melgram.mel"});
        for (int i = 1; i <= 5; ++i) {
            const std::string n = std::to_string(i), stage = "layer" + n;
            out.push_back({"ConvBNEluDr", "convolution2d_" + n, "W", stage + ".conv.weight"});
            out.push_back({"ConvBNEluDr", "convolution2d_" + n, "b", stage + ".conv.bias"});
            // Mode 2 never reads the running statistics (they are the untouched 0 and 1); kept all the same.
            add_batchnorm(out, "ConvBNEluDr", "batchnormalization_" + n, stage + ".bn", false);
        }
    } else {
        std::string known;
        for (const std::string& a : keras_architectures()) known += (known.empty() ? "" : ", ") + a;
        throw UsageError("--arch " + arch + ": unknown for --from keras-h5; expected one of " + known);
    }
    return out;
}

// The dataset as messages name it ("conv2_W", "Variable:0").
std::string label(const Assignment& a) {
    return a.owner.empty() ? a.kind : a.owner + "_" + a.kind;
}

std::vector<std::int64_t> dims_of(const nn::Tensor& t) {
    std::vector<std::int64_t> d;
    for (std::int64_t i = 0; i < t.rank(); ++i) d.push_back(t.shape()[i]);
    return d;
}

// Copies `array` into `target` as `a.transform` says, after checking its shape.
void assign(const H5Array& array, const Assignment& a, nn::Tensor& target, double bn_eps, const KerasWeightsFile& file,
            const std::string& arch) {
    std::vector<std::int64_t> expected = dims_of(target), found = array.shape;
    if (a.transform == Transform::transpose) std::swap(expected[0], expected[1]);
    if (a.transform == Transform::squeeze) std::erase(found, 1);
    if (found != expected)
        throw Error("weights file '" + file.path().string() + "' layer '" + a.layer + "'",
                    "dataset " + label(a) + " has shape " + shape_string(array.shape) + ", expected " +
                        shape_string(expected) + " for " + arch + " ('" + a.tensor + "'); is it another architecture?");
    float* out = target.data();
    const std::size_t n = array.values.size();
    switch (a.transform) {
        case Transform::copy:
        case Transform::squeeze:
            std::copy(array.values.begin(), array.values.end(), out);
            break;
        case Transform::transpose: {
            const std::size_t rows = static_cast<std::size_t>(array.shape[0]), cols = static_cast<std::size_t>(array.shape[1]);
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t c = 0; c < cols; ++c) out[c * rows + r] = array.values[r * cols + c];
            break;
        }
        case Transform::bn_std_keras106:
            for (std::size_t i = 0; i < n; ++i) {
                const double s = static_cast<double>(array.values[i]) + 1e-6;  // Keras 1.0.x's epsilon
                out[i] = static_cast<float>(std::max(0.0, s * s - bn_eps));
            }
            break;
    }
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(out[i]))
            throw Error("weights file '" + file.path().string() + "' layer '" + a.layer + "'",
                        "dataset " + label(a) + " holds a non-finite value at index " + std::to_string(i));
}

}  // namespace

const std::vector<std::string>& msd_top50_tags() {
    static const std::vector<std::string> tags = {
        "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
        "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
        "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock",
        "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
        "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb",
        "indie pop", "sad", "House", "happy"};
    return tags;
}

const std::vector<std::string>& keras_architectures() {
    static const std::vector<std::string> names = {"choi2016_crnn", "choi2016_cnn", "choi2017_compact"};
    return names;
}

ModelCard pretrained_card(const std::string& arch, const std::string& mtag_version) {
    const nn::models::PresetInfo info = nn::models::preset_info(arch);
    ModelCard card;
    card.mtag_version = mtag_version;
    card.preset = arch;
    card.model_options = {{"preset", arch}};
    const bool compact = arch == "choi2017_compact";
    card.features = FrontEndConfig::from_json(info.front_end, "front end of " + arch);
    const nn::Shape input = nn::models::build_model(card.model_options, 1)->input_shape(1);
    card.input_length = static_cast<std::size_t>(input[input.rank() - 1]);
    // The compact convnet is a feature extractor: its head is not published (one untrained output).
    card.tags = compact ? std::vector<std::string>{"none"} : msd_top50_tags();
    card.task = Task::multilabel;
    card.normalization.kind = NormalizationKind::none;
    // One input per file: the centre 29.12 s for the taggers (audio_processor.compute_melgram), the first 29 s for
    // the compact convnet (prepare_audio.py: librosa.load(duration=29)); zero-padded when shorter.
    card.evaluation = {.length = card.input_length,
                       .train_crops = 1,
                       .eval = compact ? EvalChunking::non_overlapping : EvalChunking::evenly_spaced,
                       .eval_chunks = 1};
    card.fixed_input = true;
    card.provenance = {{"source", "github.com/keunwoochoi/music-auto_tagging-keras (commit a3e105d)"},
                       {"licence", "MIT (c) 2016 Keunwoo Choi; the licence travels with the weights"},
                       {"citation", info.citation},
                       {"dataset", "Million Song Dataset, last.fm top-50 tags"}};
    card.training = {{"imported", true}};
    if (compact) card.training["embedding_only"] = true;
    return card;
}

RunModel import_keras_h5(const fs::path& weights, const std::string& arch, const std::string& mtag_version) {
    const std::vector<Assignment> plan = assignments(arch);
    const KerasWeightsFile file(weights);
    RunModel run;
    run.card = pretrained_card(arch, mtag_version);
    run.card.provenance["file"] = weights.filename().string();
    run.model = nn::models::build_model(run.card.model_options, static_cast<std::int64_t>(run.card.tags.size()));
    std::map<std::string, nn::Tensor*> tensors;
    for (nn::Parameter* p : run.model->parameters()) tensors[p->name] = &p->value;
    for (nn::Buffer* b : run.model->buffers()) tensors[b->name] = &b->value;
    const double bn_eps = run.model->options().value("bn_eps", 1e-5);
    std::set<std::string> used_layers;
    for (const Assignment& a : plan) {
        const auto it = tensors.find(a.tensor);
        if (it == tensors.end()) throw Error("importer for " + arch, "the model has no tensor '" + a.tensor + "'");
        const KerasLayer& layer = file.layer(a.layer);
        assign(a.owner.empty() ? file.read_dataset(layer, a.kind) : file.read(layer, a.owner, a.kind), a, *it->second,
               bn_eps, file, arch);
        used_layers.insert(a.layer);
    }
    for (const KerasLayer& layer : file.layers())
        if (!layer.weight_names.empty() && !used_layers.count(layer.name))
            throw Error("weights file '" + weights.string() + "'",
                        "has weights in layer '" + layer.name + "', which " + arch + " does not have; is it another architecture?");
    run.model->eval();
    return run;
}

void remove_dead_temporaries(const fs::path& final_path, const std::string& marker) {
    const fs::path parent = final_path.has_parent_path() ? final_path.parent_path() : fs::path(".");
    const std::string prefix = final_path.filename().string() + marker;
    std::error_code ec;
    for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string digits = name.substr(prefix.size());
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
        const auto pid = static_cast<pid_t>(std::stol(digits));
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its process still runs
        std::error_code remove_ec;
        fs::remove_all(it->path(), remove_ec);
    }
}

void write_model_dir(RunModel& run, const fs::path& out) {
    std::error_code ec;
    if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec)))
        throw Error("--out " + out.string(), "already exists and is not empty; remove it or choose another directory");
    const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
    fs::create_directories(parent);
    const fs::path tmp = parent / (out.filename().string() + ".tmp-" + std::to_string(::getpid()));
    remove_dead_temporaries(out, ".tmp-");  // a killed import or fetch left its folder behind
    fs::remove_all(tmp, ec);
    try {
        save_run(*run.model, run.card, tmp);
        if (fs::exists(out, ec)) fs::remove(out);  // the empty directory
        fs::rename(tmp, out);
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
}

}  // namespace mtag::data
