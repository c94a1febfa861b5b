// mtag.Tagger and mtag.read_run: trained runs from Python. A Tagger wraps data::Tagger (the engine of
// `mtag tag`): the run directory, or a published model's name resolved (fetched on first use) as
// `mtag tag --model NAME` does. Each call takes a Session (a private model copy), so Python threads can
// tag in parallel with the GIL released.
#include "app/python/binding.hpp"

#include "data/pretrained/model_zoo.hpp"
#include "data/run/model_card.hpp"
#include "data/tag/tagger.hpp"
#include "dsp/resample.hpp"

#include "mtag_version.hpp"

#include <pybind11/stl.h>

#include <fstream>
#include <memory>

namespace mtag::python {

namespace fs = std::filesystem;

namespace {

data::ChunkLayout parse_layout(const std::string& name) {
    if (name == "all") return data::ChunkLayout::all;
    if (name == "card") return data::ChunkLayout::card;
    throw ValueError("chunks: got '" + name + "', expected all (every non-overlapping chunk) or card (the run's "
                     "evaluation layout)");
}

class PyTagger {
  public:
    explicit PyTagger(const std::string& run_or_name) {
        fs::path dir = run_or_name;
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            // Not a folder: a published model's name (mtag model list), fetched into the cache once.
            py::gil_scoped_release release;
            dir = on_file(run_or_name, [&] { return data::resolve_model(run_or_name, mtag::version, true); });
        }
        py::gil_scoped_release release;
        m_tagger = std::make_unique<data::Tagger>(dir);
    }

    const data::Tagger& tagger() const { return *m_tagger; }

    // Tags a file (path) or a signal (1-D array at `sr`, resampled to the card's rate when sr differs).
    data::TagResult run(const py::object& input, std::optional<int> sr, const data::TagOptions& options) const {
        if (py::isinstance<py::str>(input) || py::hasattr(input, "__fspath__")) {
            const std::string path = py::str(py::module_::import("os").attr("fspath")(input));
            ComputeScope compute;
            return on_file(path, [&] { return m_tagger->session()->tag_file(path, options); });
        }
        const FloatArray x = samples_of(input);
        const int rate = m_tagger->card().sample_rate;
        const int from = sr.value_or(rate);
        if (from <= 0) throw ValueError("sr: got " + std::to_string(from) + ", expected a positive rate");
        ComputeScope compute;
        if (from == rate) return m_tagger->session()->tag_samples(span_of(x), options);
        const std::vector<float> resampled = dsp::resample(span_of(x), 1, from, rate, options.resample_quality);
        return m_tagger->session()->tag_samples(resampled, options);
    }

  private:
    std::unique_ptr<data::Tagger> m_tagger;
};

data::TagOptions tag_options(const std::string& chunks, std::size_t batch_size, bool embedding, bool taggram,
                             const std::string& res_type) {
    data::TagOptions o;
    o.layout = parse_layout(chunks);
    o.batch_size = batch_size == 0 ? 1 : batch_size;
    o.embedding = embedding;
    o.taggram = taggram;
    o.resample_quality = resample_quality(res_type);
    return o;
}

// {"scores": [n_tags], "duration_seconds", "chunks", "embedding"?, "taggram"?} for the Python side to shape.
py::dict tag(const PyTagger& t, const py::object& input, std::optional<int> sr, const std::string& chunks,
             std::size_t batch_size, bool embedding, bool taggram, const std::string& res_type) {
    data::TagResult r = t.run(input, sr, tag_options(chunks, batch_size, embedding, taggram, res_type));
    py::dict out;
    out["duration_seconds"] = r.duration_seconds;
    out["chunks"] = r.chunks;
    const auto n_tags = static_cast<py::ssize_t>(r.scores.size());
    out["scores"] = to_numpy(std::move(r.scores), {n_tags});
    if (embedding) {
        const auto n = static_cast<py::ssize_t>(r.embedding.size());
        out["embedding"] = to_numpy(std::move(r.embedding), {n});
    }
    if (taggram) {
        const auto rows = static_cast<py::ssize_t>(r.chunks);
        out["taggram"] = to_numpy(std::move(r.taggram), {rows, n_tags});
    }
    return out;
}

// The card of a run (model.json's metadata, validated) as JSON text.
std::string read_card(const std::string& run_dir) {
    return on_file(run_dir, [&] { return data::load_card(run_dir).to_json().dump(); });
}

}  // namespace

void bind_tagger(py::module_& m) {
    using namespace pybind11::literals;
    py::class_<PyTagger>(m, "Tagger")
        .def(py::init<const std::string&>(), "run_or_name"_a)
        .def_property_readonly("tags", [](const PyTagger& t) { return t.tagger().card().tags; })
        .def_property_readonly("sample_rate", [](const PyTagger& t) { return t.tagger().card().sample_rate; })
        .def_property_readonly("run_dir", [](const PyTagger& t) { return t.tagger().run_dir().string(); })
        .def_property_readonly("embedding_size", [](const PyTagger& t) { return t.tagger().embedding_size(); })
        .def_property_readonly("task", [](const PyTagger& t) { return data::to_string(t.tagger().card().task); })
        .def("tag", &tag, "input"_a, "sr"_a, "chunks"_a, "batch_size"_a, "embedding"_a, "taggram"_a, "res_type"_a);
    m.def("read_card", &read_card, "run_dir"_a);
}

}  // namespace mtag::python
