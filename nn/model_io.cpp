#include "nn/model_io.hpp"

#include "dsp/error.hpp"
#include "nn/registry.hpp"
#include "nn/safetensors.hpp"

#include <fstream>
#include <set>

namespace mtag::nn {

void save_weights(Module& model, const std::filesystem::path& file) {
    std::vector<SafetensorsEntry> entries;
    for (Parameter* p : model.parameters()) entries.push_back({p->name, p->value, false});
    for (Buffer* b : model.buffers()) entries.push_back({b->name, b->value, b->integer});
    write_safetensors(file, entries, {{"format", "pt"}, {"producer", "mtag"}});
}

void save_model(Module& model, const std::filesystem::path& dir, const nlohmann::json& metadata) {
    std::filesystem::create_directories(dir);
    save_weights(model, dir / "model.safetensors");
    const nlohmann::json card{{"format", "mtag-model"},
                              {"format_version", 1},
                              {"architecture", model.config()},
                              {"metadata", metadata}};
    std::ofstream out(dir / "model.json");
    out << card.dump(2) << "\n";
    if (!out) throw Error("model card '" + (dir / "model.json").string() + "'", "write failed");
}

LoadReport load_weights(Module& model, const std::filesystem::path& file, const LoadOptions& options) {
    const SafetensorsFile st = read_safetensors(file);
    const std::string where = "weights '" + file.string() + "'";
    LoadReport report;
    std::set<std::string> seen;
    auto take = [&](const std::string& name, Tensor& dst, bool integer) {
        seen.insert(name);
        auto it = st.tensors.find(name);
        if (it == st.tensors.end()) {
            if (!options.allow_missing)
                throw Error(where,
                            "missing tensor '" + name + "' (expected shape " + dst.shape().str() + ")");
            report.missing.push_back(name);
            return;
        }
        const SafetensorsTensor& t = it->second;
        const std::string expected_dtype = integer ? "I64" : "F32";
        if (t.dtype != expected_dtype)
            throw Error(where, "tensor '" + name + "' has dtype " + t.dtype + ", expected " + expected_dtype);
        if (!(t.value.shape() == dst.shape())) {
            const std::string detail = "tensor '" + name + "' has shape " + t.value.shape().str() +
                                       ", expected " + dst.shape().str();
            if (!options.skip_mismatched) throw Error(where, detail);
            report.mismatched.push_back(detail);
            return;
        }
        dst.copy_from(t.value);
        report.loaded.push_back(name);
    };
    for (Parameter* p : model.parameters()) take(p->name, p->value, false);
    for (Buffer* b : model.buffers()) take(b->name, b->value, b->integer);
    for (const auto& [name, t] : st.tensors) {
        if (seen.count(name)) continue;
        if (!options.allow_unexpected)
            throw Error(where, "unexpected tensor '" + name + "' (the architecture has no such parameter)");
        report.unexpected.push_back(name);
    }
    return report;
}

void load_weights(Module& model, const std::filesystem::path& file, bool allow_unexpected) {
    load_weights(model, file, LoadOptions{.allow_unexpected = allow_unexpected});
}

LoadedModel load_model(const std::filesystem::path& dir) {
    const std::filesystem::path card_path = dir / "model.json";
    std::ifstream in(card_path);
    if (!in)
        throw Error("model card '" + card_path.string() + "'", "cannot open (is this a model directory?)");
    LoadedModel loaded;
    try {
        loaded.card = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw Error("model card '" + card_path.string() + "'", std::string("malformed JSON: ") + e.what());
    }
    if (loaded.card.value("format", std::string()) != "mtag-model" || !loaded.card.contains("architecture"))
        throw Error("model card '" + card_path.string() + "'",
                    "expected {\"format\": \"mtag-model\", \"architecture\": ...}");
    loaded.model = build_module(loaded.card["architecture"]);
    load_weights(*loaded.model, dir / "model.safetensors");
    loaded.model->eval();
    return loaded;
}

}  // namespace mtag::nn
