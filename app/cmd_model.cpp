// mtag model: the model zoo from the command line.
//   list                  one line per preset (parameters for 50 tags, input, source), then the pretrained
//                         models (task, tags, input, licence, size, installed)
//   fetch NAME            download, verify and import a pretrained model into the cache
//   import --from keras-h5 --arch ARCH WEIGHTS.h5 --out DIR
//                         a published Keras 1 weights file as a model directory (data/pretrained/)
//   show NAME             layers with output shapes at the preset's input size, parameter count,
//                         front end, chunk and optimizer recipe (--json for one JSON object)
//   init NAME --out DIR   a randomly initialised model directory (model.json + model.safetensors)
//   check DIR             validates a model directory from elsewhere (card, weights against the architecture,
//                         finite values, sizes, checkpoints' CRCs) and prints what it holds (--json)
//   ensemble --out DIR M1 M2 ...
//                         several runs (any presets and front ends, same tags) saved as one model directory
//                         that tag and eval accept as one --model (data/tag/ensemble.hpp)
//   gradcheck PRESET|DIR  finite-difference check of the whole model's backward pass on a tiny batch
//                         (nn/model_gradcheck.hpp): worst relative error per layer; exit 1 naming the failing layer
//   average RUN --last K --out DIR
//                         the average of the last K epoch checkpoints a run kept (--keep-checkpoints), as a
//                         model directory (data/train/checkpoint_average.hpp)
//   forward --model DIR --input IN.safetensors --out OUT.safetensors
//                         diagnostic: runs a saved model in eval mode on the tensor "input" and writes
//                         "logits" and "embedding"; scripts/export_check.py compares these with PyTorch.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "data/pretrained/keras_import.hpp"
#include "data/pretrained/model_zoo.hpp"
#include "data/pretrained/torch_import.hpp"
#include "data/run/fixed_front_end.hpp"
#include "data/run/model_check.hpp"
#include "data/run/output_lock.hpp"
#include "data/tag/ensemble.hpp"
#include "data/train/checkpoint_average.hpp"
#include "dsp/error.hpp"
#include "nn/model_gradcheck.hpp"
#include "nn/model_io.hpp"
#include "nn/models/zoo.hpp"
#include "nn/safetensors.hpp"
#include "nn/threads.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "mtag_version.hpp"

namespace mtag::app {

namespace {

nlohmann::json parse_overrides(const std::string& text) {
    if (text.empty()) return nlohmann::json::object();
    try {
        nlohmann::json j = nlohmann::json::parse(text);
        if (!j.is_object()) throw UsageError("--options", "expected a JSON object, got " + text);
        return j;
    } catch (const nlohmann::json::exception& e) {
        throw UsageError("--options", std::string("malformed JSON: ") + e.what());
    }
}

nlohmann::json spec_for(const std::string& name, const std::string& overrides, std::uint64_t seed) {
    nlohmann::json spec = parse_overrides(overrides);
    spec["preset"] = name;
    spec["seed"] = seed;
    return spec;
}

std::string with_commas(std::size_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

std::string pad(const std::string& s, std::size_t width) {
    return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

int show(nn::models::TaggingModel& model, bool as_json) {
    const auto rows = model.summarize(1);
    const std::size_t total = model.parameter_count();
    if (as_json) {
        nlohmann::ordered_json layers = nlohmann::ordered_json::array();
        for (const auto& r : rows) {
            std::vector<std::int64_t> shape;
            for (int i = 0; i < r.output.rank(); ++i) shape.push_back(r.output[i]);
            layers.push_back({{"name", r.name},
                              {"layer", r.description},
                              {"output", shape},
                              {"parameters", r.parameters},
                              {"block", r.block}});
        }
        std::vector<std::int64_t> input;
        const nn::Shape in = model.input_shape(1);
        for (int i = 0; i < in.rank(); ++i) input.push_back(in[i]);
        nlohmann::ordered_json out = {{"preset", model.preset().name},
                                      {"parameters", total},
                                      {"n_tags", model.n_tags()},
                                      {"embedding_size", model.embedding_size()},
                                      {"blocks", model.block_count()},
                                      {"input", input},
                                      {"chunk_samples", model.chunk_samples()},
                                      {"chunk_seconds", model.chunk_seconds()},
                                      {"front_end", model.front_end()},
                                      {"optimizer", model.preset().optimizer},
                                      {"options", model.options()},
                                      {"citation", model.preset().citation},
                                      {"layers", layers}};
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::cout << model.preset().name << ": " << model.preset().citation << "\n"
              << "input " << model.input_shape(1).str() << ", chunk " << model.chunk_samples() << " samples ("
              << model.chunk_seconds() << " s)\n"
              << "front end " << model.front_end().dump() << "\n"
              << "optimizer " << model.preset().optimizer.dump() << "\n\n";
    std::size_t name_w = 6, layer_w = 6, shape_w = 7;
    for (const auto& r : rows) {
        name_w = std::max(name_w, r.name.size() + 2);
        layer_w = std::max(layer_w, r.description.size() + 2);
        shape_w = std::max(shape_w, r.output.str().size() + 2);
    }
    std::cout << pad("name", name_w) << pad("layer", layer_w) << pad("output", shape_w) << pad("params", 13)
              << "block\n";
    for (const auto& r : rows)
        std::cout << pad(r.name, name_w) << pad(r.description, layer_w) << pad(r.output.str(), shape_w)
                  << pad(with_commas(r.parameters), 13) << (r.block >= 0 ? std::to_string(r.block) : "-")
                  << "\n";
    std::cout << "\nparameters: " << with_commas(total) << " (" << model.n_tags() << " tags), embedding "
              << model.embedding_size() << ", blocks " << model.block_count() << "\n";
    return 0;
}

struct ModelOptions {
    std::string name;
    std::int64_t n_tags = 50;
    std::string overrides;
    bool json = false;
    std::string out;
    std::string model;
    std::string input;
    int bn_warmup = 0;
    std::string from = "keras-h5";
    std::string arch;
    std::string tags;  // tag file for --from safetensors
    std::vector<std::string> members;  // ensemble
    std::size_t batch = 4;
    std::size_t last = 3;
    nn::GradcheckOptions gradcheck;
    std::string gradcheck_mode = "entries";
};

int run_list() {
    std::cout << "presets (trainable architectures; parameters for 50 tags)\n";
    for (const std::string& name : nn::models::preset_names()) {
        auto model = nn::models::build_from_config(
            {{"preset", name}, {"n_tags", 50}, {"options", nn::models::preset_options(name)}});
        const std::string& cite = model->preset().citation;
        std::cout << "  " << pad(name, 20) << pad(with_commas(model->parameter_count()), 12)
                  << pad(model->input_shape(1).str(), 18) << (cite.size() > 72 ? cite.substr(0, 69) + "..." : cite)
                  << "\n";
    }
    std::cout << "\npretrained (mtag model fetch NAME, or --model NAME; cache " << data::model_cache_dir().string() << ")\n";
    for (const data::PretrainedModel& m : data::pretrained_models())
        std::cout << "  " << pad(m.name, 20) << pad(m.task, 32) << pad(m.tags + " tags", 10) << pad(m.input, 50)
                  << pad(m.licence, 5) << pad(with_commas(m.bytes / 1024) + " KiB", 11)
                  << (data::is_installed(m) ? "installed" : "not installed") << "\n";
    return 0;
}

int run_init(const ModelOptions& o, const GlobalOptions& global) {
    auto model = data::build_new_model(spec_for(o.name, o.overrides, global.seed), o.n_tags);
    if (o.bn_warmup > 0) {
        model->train();
        std::mt19937_64 rng(global.seed + 1);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (int i = 0; i < o.bn_warmup; ++i) {
            nn::Tensor x(model->input_shape(2));
            for (std::size_t k = 0; k < x.size(); ++k) x[k] = normal(rng);
            model->forward(x);
        }
    }
    model->eval();
    nn::save_model(*model, o.out, {{"preset", o.name}, {"seed", global.seed}, {"note", "random initialisation"}});
    std::cout << nlohmann::json{{"model", o.out}, {"preset", o.name}, {"parameters", model->parameter_count()}}.dump()
              << "\n";
    return 0;
}

// The human-readable report of `model check`: what was found on stdout, each problem on stderr.
int run_check(const ModelOptions& o) {
    const data::ModelCheckReport r = data::check_model_dir(o.model);
    if (o.json) {
        std::cout << r.to_json().dump(2) << "\n";
    } else {
        std::size_t parameters = 0, buffers = 0;
        for (const data::CheckedTensor& t : r.tensors) (t.dtype == "I64" ? buffers : parameters) += 1;
        std::cout << "model " << r.dir.string() << "\n";
        if (!r.preset.empty()) std::cout << "  preset         " << r.preset << "\n";
        if (!r.tensors.empty() || r.weights_bytes)
            std::cout << "  weights        " << r.tensors.size() << " tensors, " << with_commas(r.stored_values)
                      << " values stored, " << with_commas(r.parameters) << " trainable parameters; model.safetensors "
                      << with_commas(r.weights_bytes) << " bytes, model.json " << with_commas(r.card_bytes) << " bytes\n";
        if (!r.tags.empty()) {
            std::string list;
            for (std::size_t i = 0; i < r.tags.size() && i < 10; ++i) list += (i ? ", " : "") + r.tags[i];
            if (r.tags.size() > 10) list += ", ...";
            std::cout << "  tags           " << r.tags.size() << " (" << r.task << "): " << list << "\n";
        }
        if (!r.front_end.is_null())
            std::cout << "  front end      " << r.front_end_summary << "\n"
                      << "  input          " << r.input_length << " " << r.input_unit << " per chunk ("
                      << r.chunk_seconds << " s), normalisation " << r.normalization << "\n";
        for (const data::CheckedCheckpoint& c : r.checkpoints)
            std::cout << "  checkpoint     " << c.file << ": " << (c.ok ? c.status : "CORRUPTED") << "\n";
        std::cout << (r.ok() ? "ok" : "PROBLEMS: " + std::to_string(r.problems.size())) << "\n";
    }
    for (const std::string& p : r.problems) std::cerr << "mtag model check: " << p << "\n";
    if (r.ok()) return 0;
    std::cerr << "mtag model check: " << o.model << " is not a sound model directory (" << r.problems.size()
              << " problem" << (r.problems.size() == 1 ? "" : "s") << " above); do not use it, or re-export it\n";
    return 1;
}

// `mtag model gradcheck`: a preset (built for --n-tags tags) or a model directory, on seeded N(0, 1) inputs.
int run_gradcheck(const ModelOptions& o, const GlobalOptions& global) {
    std::shared_ptr<nn::Module> owner;
    nn::models::TaggingModel* model = nullptr;
    if (std::filesystem::is_directory(o.name)) {
        nn::LoadedModel loaded = nn::load_model(o.name);
        owner = loaded.model;
        model = dynamic_cast<nn::models::TaggingModel*>(owner.get());
        if (!model) throw Error("model '" + o.name + "'", "is not a tagging model (type " + owner->type() + ")");
    } else {
        auto built = data::build_new_model(spec_for(o.name, o.overrides, global.seed), o.n_tags);
        model = built.get();
        owner = std::move(built);
    }
    nn::Tensor x(model->input_shape(static_cast<std::int64_t>(o.batch)));
    std::mt19937_64 rng(global.seed + 1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = normal(rng);
    nn::GradcheckOptions options = o.gradcheck;
    options.seed = global.seed;
    options.mode = nn::parse_gradcheck_mode(o.gradcheck_mode);
    const bool directions = options.mode == nn::GradcheckMode::directions;
    const nn::GradcheckResult r = nn::gradcheck(*model, x, options);
    if (o.json) {
        nlohmann::ordered_json layers = nlohmann::ordered_json::array();
        for (const nn::LayerGradcheck& l : r.layers)
            layers.push_back({{"layer", l.layer}, {"parameters", l.parameters}, {"checked", l.checked},
                              {"skipped", l.skipped}, {"worst_relative_error", l.worst_error},
                              {"worst_entry", l.worst_entry}, {"passed", l.passed}});
        std::cout << nlohmann::ordered_json{{"model", o.name},          {"passed", r.passed},
                                            {"first_failure", r.first_failure}, {"mode", nn::to_string(options.mode)},
                                            {"tolerance", options.tolerance}, {"eps", options.eps},
                                            {"batch", o.batch},             {"layers", layers}}
                         .dump(2)
                  << "\n";
    } else {
        std::size_t w = 6;
        for (const nn::LayerGradcheck& l : r.layers) w = std::max(w, l.layer.size() + 2);
        std::cout << pad("layer", w) << pad("params", 12) << pad(directions ? "directions" : "entries", 11)
                  << (directions ? "" : pad("skipped", 9)) << pad("worst rel. error", 18) << "\n";
        for (const nn::LayerGradcheck& l : r.layers) {
            char err[32];
            std::snprintf(err, sizeof err, "%.3e", l.worst_error);
            std::cout << pad(l.layer, w) << pad(with_commas(l.parameters), 12) << pad(std::to_string(l.checked), 11)
                      << (directions ? "" : pad(std::to_string(l.skipped), 9)) << pad(err, 18)
                      << (l.passed ? "ok" : "FAIL") << "\n";
        }
        double worst = 0;
        for (const nn::LayerGradcheck& l : r.layers) worst = std::max(worst, l.worst_error);
        char worst_text[32];
        std::snprintf(worst_text, sizeof worst_text, "%.3e", worst);
        std::cout << (r.passed ? "gradcheck passed" : "gradcheck FAILED") << " (worst " << worst_text << ", tolerance "
                  << options.tolerance << ", mode " << nn::to_string(options.mode) << ", "
                  << (directions ? "relative " : "") << "step " << options.eps << ", batch " << o.batch << ")\n";
    }
    for (const nn::LayerGradcheck& l : r.layers)
        if (l.checked == 0)
            std::cerr << "warning: layer " << l.layer << ": no entry was smooth at step " << options.eps
                      << " (all skipped); try a smaller --eps\n";
    if (!r.passed) {
        const auto it = std::find_if(r.layers.begin(), r.layers.end(),
                                     [&](const nn::LayerGradcheck& l) { return l.layer == r.first_failure; });
        throw Error("mtag model gradcheck " + o.name,
                    "the gradient of layer " + r.first_failure + " is wrong (relative error " +
                        std::to_string(it->worst_error) + ", " + it->worst_entry +
                        "): the backward pass of that layer, or of the layer after it, is broken");
    }
    return 0;
}

int run_forward(const ModelOptions& o) {
    nn::LoadedModel loaded = nn::load_model(o.model);
    auto* model = dynamic_cast<nn::models::TaggingModel*>(loaded.model.get());
    if (!model)
        throw Error("model '" + o.model + "'", "is not a tagging model (architecture type " + loaded.model->type() + ")");
    const nn::SafetensorsFile in = nn::read_safetensors(o.input);
    auto it = in.tensors.find("input");
    if (it == in.tensors.end()) throw Error("input file '" + o.input + "'", "has no tensor named 'input'");
    model->eval();
    model->set_input_grad(false);
    const nn::Tensor embedding = model->embed(it->second.value).clone();
    const nn::Tensor logits = model->forward(it->second.value);
    nn::write_safetensors(o.out, {{"logits", logits}, {"embedding", embedding}}, {{"producer", "mtag model forward"}});
    return 0;
}

int run_import(const ModelOptions& o) {
    // The model directory appears whole through a rename, so the lock file sits beside it.
    const data::OutputLock lock = data::OutputLock::beside(o.out, "--out " + o.out, "mtag model import");
    data::RunModel run =
        o.from == "keras-h5"
            ? data::import_keras_h5(o.input, o.arch, mtag::version)
            : data::import_safetensors(o.input, o.arch, parse_overrides(o.overrides),
                                       o.tags.empty() ? std::vector<std::string>{} : data::read_tag_file(o.tags), mtag::version);
    data::write_model_dir(run, o.out);
    std::cout << nlohmann::json{{"model", o.out}, {"arch", o.arch}, {"from", o.from}, {"tags", run.card.tags.size()},
                                {"parameters", run.model->parameter_count()}}
                     .dump()
              << "\n";
    return 0;
}

int run_fetch(const ModelOptions& o, const GlobalOptions& global) {
    const data::PretrainedModel* m = data::find_pretrained(o.name);
    if (!m) throw UsageError("mtag model fetch " + o.name + ": not a pretrained model (see `mtag model list`)");
    const std::filesystem::path dir = data::fetch_pretrained(*m, mtag::version, global.quiet);
    std::cout << nlohmann::json{{"model", m->name}, {"dir", dir.string()}, {"sha256", m->sha256}}.dump() << "\n";
    return 0;
}

// mtag model ensemble: the members (run or ensemble directories, or pretrained names) copied into one directory.
int run_ensemble(const ModelOptions& o, const GlobalOptions& global) {
    std::vector<std::filesystem::path> dirs;
    for (const std::string& m : o.members) dirs.push_back(data::resolve_model(m, mtag::version, global.quiet));
    data::save_ensemble(o.out, dirs, mtag::version);
    const std::vector<std::filesystem::path> members = data::ensemble_members(o.out);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : members) list.push_back(m.string());
    std::cout << nlohmann::json{{"ensemble", o.out}, {"members", list}}.dump() << "\n";
    return 0;
}

}  // namespace

Command add_model_command(CLI::App& root, const GlobalOptions& global) {
    auto o = std::make_shared<ModelOptions>();
    CLI::App* cmd = root.add_subcommand(
        "model", "Model presets and pretrained models: list, show, create, run, import, fetch and check them");
    cmd->require_subcommand(1);

    CLI::App* list = cmd->add_subcommand("list", "The presets (parameters, input, source) and the pretrained models");

    CLI::App* show_cmd = cmd->add_subcommand("show",
                                             "Layers with output shapes at the preset's input size and the "
                                             "parameter count");
    show_cmd->add_option("name", o->name, "Preset name (see 'mtag model list')")->required();
    show_cmd->add_option("--n-tags", o->n_tags, "Number of output tags")->capture_default_str()->check(positive);
    show_cmd->add_option("--options", o->overrides, "JSON object of option overrides, e.g. '{\"dropout\": 0.3}'");
    show_cmd->add_flag("--json", o->json, "One JSON object instead of the table");

    CLI::App* init = cmd->add_subcommand("init", "Write a randomly initialised model directory (model.json, "
                                                 "model.safetensors)");
    init->add_option("name", o->name, "Preset name")->required();
    init->add_option("--out", o->out, "Output directory")->required();
    init->add_option("--n-tags", o->n_tags, "Number of output tags")->capture_default_str()->check(positive);
    init->add_option("--options", o->overrides, "JSON object of option overrides");
    init->add_option("--bn-warmup", o->bn_warmup,
                     "Training-mode forward passes on seeded noise before saving, so "
                     "BatchNorm running statistics are not trivial (checks)")
        ->capture_default_str()
        ->check(non_negative);

    CLI::App* forward = cmd->add_subcommand("forward", "Diagnostic: run a model directory on the tensor 'input' of "
                                                       "a safetensors file, write 'logits' and 'embedding'");
    forward->add_option("--model", o->model, "Model directory (model.json + model.safetensors)")->required();
    forward->add_option("--input", o->input, "safetensors file with a float32 tensor 'input' (N, n_mels, frames) or (N, samples)")
        ->required();
    forward->add_option("--out", o->out, "safetensors file to write")->required();

    CLI::App* import = cmd->add_subcommand("import", "A published weights file as a model directory");
    import->add_option("weights", o->input, "The weights file (Keras 1 HDF5, or safetensors from scripts/import_pytorch.py)")
        ->required();
    import->add_option("--from", o->from, "keras-h5 (Choi et al.'s published files) | safetensors (a converted torch state_dict)")
        ->check(CLI::IsMember({"keras-h5", "safetensors"}))
        ->capture_default_str();
    import->add_option("--arch", o->arch,
                       "keras-h5: choi2016_crnn | choi2016_cnn; safetensors: any preset (mtag model list)")
        ->required();
    import->add_option("--tags", o->tags, "safetensors: a text file of the output tags, one per line (else the file's metadata)");
    import->add_option("--options", o->overrides, "safetensors: JSON object of the preset options the weights were trained with");
    import->add_option("--out", o->out, "Model directory to write (must not exist or be empty)")->required();

    CLI::App* check = cmd->add_subcommand(
        "check",
        "Validate a model directory from elsewhere and print what it holds: model.json's card (schema, tags, front "
        "end, chunking, normalisation; at most 64 MiB), model.safetensors (header and every tensor's range checked "
        "against the file size before anything is allocated), every tensor the architecture needs present with "
        "its dtype and shape and nothing else, every value finite (NaN/Inf counted per tensor), a front end "
        "carried as tensors (choi2017_compact's DFT kernels and mel matrix) not all zero, and the training "
        "checkpoints' CRC-32 when present. Lists every problem on stderr; exit 0 when sound, 1 otherwise");
    check->add_option("dir", o->model, "Model directory (model.json + model.safetensors), e.g. a run or a download")
        ->required();
    check->add_flag("--json", o->json, "One JSON object (ok, problems, preset, tags, front_end, tensors, ...)");
    CLI::App* ensemble = cmd->add_subcommand(
        "ensemble", "Save several runs (same tags, any presets and front ends) as one model directory whose "
                    "probabilities are the members' average (tag and eval take it as one --model)");
    ensemble->add_option("models", o->members, "Run directories, ensemble directories or pretrained model names")
        ->required()
        ->expected(2, -1);
    ensemble->add_option("--out", o->out, "Ensemble directory to write (must not exist; members are copied into it)")
        ->required();

    CLI::App* fetch = cmd->add_subcommand("fetch", "Download (or take from $MTAG_MODEL_MIRROR), verify and import "
                                                   "a pretrained model into the cache");
    fetch->add_option("name", o->name, "Pretrained model name (see 'mtag model list')")->required();

    CLI::App* average = cmd->add_subcommand(
        "average", "Average the last K epoch checkpoints a run kept (mtag train --keep-checkpoints) into a model "
                   "directory that mtag tag / eval take");
    average->add_option("run", o->model, "Run directory (with checkpoints/epoch_NNNN.safetensors)")->required();
    average->add_option("--last", o->last, "Checkpoints to average (the newest K kept)")
        ->capture_default_str()
        ->check(positive);
    average->add_option("--out", o->out, "Model directory to write")->required();
    average->footer("Every float tensor is averaged, BatchNorm running statistics included (fairseq's "
                    "average_checkpoints); num_batches_tracked comes from the newest checkpoint. The card is the run's, "
                    "with training.weights = {\"kind\": \"checkpoint_average\", \"epochs\": [...]}.");

    CLI::App* grad = cmd->add_subcommand(
        "gradcheck", "Finite-difference check of a whole model's gradients on a tiny batch: worst relative error "
                     "per layer; exits 1 naming the layer whose gradient is wrong");
    grad->add_option("name", o->name, "Preset name (see 'mtag model list') or a model directory")->required();
    grad->add_option("--n-tags", o->n_tags, "Output tags (preset)")->capture_default_str()->check(positive);
    grad->add_option("--options", o->overrides, "JSON object of preset option overrides");
    grad->add_option("--batch", o->batch, "Examples in the batch (N(0, 1) inputs, seeded by --seed)")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    grad->add_option("--mode", o->gradcheck_mode,
                     "entries: single sampled entries per parameter tensor; directions: random directional "
                     "derivatives over each layer's parameters (torch's fast gradcheck)")
        ->capture_default_str()
        ->check(CLI::IsMember({"directions", "entries"}));
    grad->add_option("--directions", o->gradcheck.directions, "Random directions per layer (--mode directions)")
        ->capture_default_str()
        ->check(positive);
    grad->add_option("--samples", o->gradcheck.samples, "Entries sampled per parameter tensor (--mode entries)")
        ->capture_default_str()
        ->check(positive);
    grad->add_option("--eps", o->gradcheck.eps,
                     "Finite-difference step h: relative to each parameter tensor's RMS (directions), absolute "
                     "(entries)")
        ->capture_default_str()
        ->check(positive);
    grad->add_option("--tolerance", o->gradcheck.tolerance, "Largest relative error that passes")
        ->capture_default_str()
        ->check(positive);
    grad->add_flag("--json", o->json, "One JSON object instead of the table");
    grad->footer("The loss is a seeded random projection of the logits (summed in double), on a seeded N(0, 1) batch in "
                 "training mode (BatchNorm on batch statistics, dropout masks fixed); parameter gradients only (no "
                 "input gradient is asked of the first layer). After the base pass every ReLU mask and max-pool / "
                 "Maxout argmax is frozen, so the perturbed passes differentiate the same smooth piece backward did "
                 "(no kink crossed). entries: --samples entries per tensor, step h absolute, entries where h and h/2 "
                 "disagree skipped and counted. directions: --directions random directions v per layer (each "
                 "tensor's part scaled to its RMS, so h is relative), g.v against (L(w + h v) - L(w - h v)) / 2h. Both "
                 "use the Richardson estimate over h and h/2. Pass rule: |a - n| / max(|a|, |n|, floor) <= "
                 "--tolerance, i.e. torch.autograd.gradcheck's |a - n| <= atol + rtol |n| with rtol = tolerance and "
                 "atol = tolerance x floor, the floor tied to the layer's and the model's gradient scale (README). Shrink big presets "
                 "with --options, e.g. '{\"input_frames\": 64, \"channels\": [4, 4, 4, 4]}'.");

    return {cmd, [o, &global, list, show_cmd, init, forward, import, fetch, check, ensemble, grad, average]() -> int {
                nn::set_thread_budget(global.resolved_threads());
                if (list->parsed()) return run_list();
                if (show_cmd->parsed())
                    return show(*nn::models::build_model(spec_for(o->name, o->overrides, global.seed), o->n_tags), o->json);
                if (init->parsed()) return run_init(*o, global);
                if (import->parsed()) return run_import(*o);
                if (fetch->parsed()) return run_fetch(*o, global);
                if (check->parsed()) return run_check(*o);
                if (ensemble->parsed()) return run_ensemble(*o, global);
                if (grad->parsed()) return run_gradcheck(*o, global);
                if (average->parsed()) {
                    const data::AveragedCheckpoints a = data::average_checkpoints(o->model, o->last, o->out);
                    std::cout << nlohmann::json{{"model", o->out}, {"run", o->model}, {"epochs", a.epochs}}.dump() << "\n";
                    return 0;
                }
                (void)forward;
                return run_forward(*o);
            }};
}

}  // namespace mtag::app
