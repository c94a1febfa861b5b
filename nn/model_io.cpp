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

void load_weights(Module& model, const std::filesystem::path& file, bool allow_unexpected) {
    const SafetensorsFile st = read_safetensors(file);
    const std::string where = "weights '" + file.string() + "'";
    std::set<std::string> used;
    auto take = [&](const std::string& name, Tensor& dst, bool integer) {
        auto it = st.tensors.find(name);
        if (it == st.tensors.end())
            throw Error(where, "missing tensor '" + name + "' (expected shape " + dst.shape().str() + ")");
        const SafetensorsTensor& t = it->second;
        const std::string expected_dtype = integer ? "I64" : "F32";
        if (t.dtype != expected_dtype)
            throw Error(where, "tensor '" + name + "' has dtype " + t.dtype + ", expected " + expected_dtype);
        if (!(t.value.shape() == dst.shape()))
            throw Error(where, "tensor '" + name + "' has shape " + t.value.shape().str() + ", expected " +
                                   dst.shape().str());
        dst.copy_from(t.value);
        used.insert(name);
    };
    for (Parameter* p : model.parameters()) take(p->name, p->value, false);
    for (Buffer* b : model.buffers()) take(b->name, b->value, b->integer);
    if (!allow_unexpected)
        for (const auto& [name, t] : st.tensors)
            if (!used.count(name))
                throw Error(where,
                            "unexpected tensor '" + name + "' (the architecture has no such parameter)");
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
