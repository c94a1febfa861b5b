// mtag.effects.pitch_shift / time_stretch and mtag.augment.Pipeline: the augmentation transforms of
// dsp/ on NumPy signals. A Pipeline is built once from JSON (the format of dsp/augment_pipeline.hpp, the
// same file `mtag augment --pipeline` and `mtag train` read) and applied from any thread.
#include "app/python/binding.hpp"

#include "dsp/augment_pipeline.hpp"
#include "dsp/phase_vocoder.hpp"
#include "dsp/pitch_shift.hpp"

#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <memory>

namespace mtag::python {

namespace {

dsp::PhaseLocking phase_locking(const std::string& name) {
    if (name == "identity") return dsp::PhaseLocking::identity;
    if (name == "none") return dsp::PhaseLocking::none;
    throw ValueError("phase_locking: got '" + name + "', expected identity or none");
}

py::array_t<float> pitch_shift(const py::handle& y, int sr, double n_steps, double bins_per_octave, int n_fft,
                               const std::string& phase, const std::string& res_type) {
    const FloatArray x = samples_of(y);
    if (bins_per_octave <= 0) throw ValueError("bins_per_octave: got " + std::to_string(bins_per_octave) + ", expected > 0");
    dsp::PitchShiftOptions options;
    options.stretch.n_fft = n_fft;
    options.stretch.phase_locking = phase_locking(phase);
    options.resample_quality = resample_quality(res_type);
    std::vector<float> out;
    {
        ComputeScope compute;
        out = validated([&] { return dsp::pitch_shift(span_of(x), sr, n_steps * 12.0 / bins_per_octave, options); });
    }
    const auto n = static_cast<py::ssize_t>(out.size());
    return to_numpy(std::move(out), {n});
}

py::array_t<float> time_stretch(const py::handle& y, double rate, int sr, int n_fft, int hop_length,
                                const std::string& phase) {
    const FloatArray x = samples_of(y);
    const dsp::TimeStretchOptions options{
        .sample_rate = sr, .n_fft = n_fft, .hop_length = hop_length, .phase_locking = phase_locking(phase)};
    std::vector<float> out;
    {
        ComputeScope compute;
        out = validated([&] { return dsp::time_stretch(span_of(x), rate, options); });
    }
    const auto n = static_cast<py::ssize_t>(out.size());
    return to_numpy(std::move(out), {n});
}

// The configuration arrives as JSON text (the Python side dumps a dict, or reads a file); `base_dir`
// resolves relative noise files as the file's folder does for `mtag augment --pipeline FILE`.
struct Pipeline {
    std::shared_ptr<const dsp::AugmentPipeline> pipeline;
    std::uint64_t seed = 0;

    Pipeline(const std::string& json_text, const std::string& base_dir, std::uint64_t s) : seed(s) {
        pipeline = validated([&] {
            nlohmann::json config;
            try {
                config = json_text.empty() ? dsp::AugmentPipeline::default_config() : nlohmann::json::parse(json_text);
            } catch (const nlohmann::json::exception& e) {
                throw ValueError(std::string("augmentation config: not valid JSON: ") + e.what());
            }
            return std::make_shared<const dsp::AugmentPipeline>(config, base_dir);
        });
    }

    // (audio, applied transforms as JSON text)
    py::tuple apply(const py::handle& y, int sr, std::uint64_t clip, std::uint64_t epoch) const {
        const FloatArray x = samples_of(y);
        dsp::AugmentResult result;
        {
            ComputeScope compute;
            result = pipeline->apply(span_of(x), sr, seed, clip, epoch);
        }
        const auto n = static_cast<py::ssize_t>(result.audio.size());
        return py::make_tuple(to_numpy(std::move(result.audio), {n}), result.applied.dump());
    }

    std::string config() const { return pipeline->to_json().dump(); }
};

}  // namespace

void bind_effects(py::module_& m) {
    using namespace pybind11::literals;
    m.def("pitch_shift", &pitch_shift, "y"_a, "sr"_a, "n_steps"_a, "bins_per_octave"_a, "n_fft"_a,
          "phase_locking"_a, "res_type"_a);
    m.def("time_stretch", &time_stretch, "y"_a, "rate"_a, "sr"_a, "n_fft"_a, "hop_length"_a, "phase_locking"_a);
    py::class_<Pipeline>(m, "AugmentPipeline")
        .def(py::init<const std::string&, const std::string&, std::uint64_t>(), "config_json"_a, "base_dir"_a,
             "seed"_a)
        .def_readwrite("seed", &Pipeline::seed)
        .def("apply", &Pipeline::apply, "y"_a, "sr"_a, "clip"_a, "epoch"_a)
        .def("config_json", &Pipeline::config);
    m.def("default_augmentation_json", [] { return dsp::AugmentPipeline::default_config().dump(); });
}

}  // namespace mtag::python
