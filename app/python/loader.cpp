// mtag.data.Loader: mtag's prefetching batch loader (data/pipeline/batch_loader) from Python. A dataset
// (any format `mtag train --data` reads) -> decode (or the waveform / feature cache) -> crop -> augment ->
// front end, on C++ worker threads, into NumPy batches (features, multi-hot targets, clip ids). The batches
// of an epoch depend only on (seed, epoch, data), never on the number of workers (batch_loader.hpp).
#include "app/python/binding.hpp"

#include "data/pipeline/batch_loader.hpp"
#include "data/pipeline/clip_pipeline.hpp"
#include "data/pipeline/feature_cache.hpp"
#include "data/pipeline/waveform_cache.hpp"
#include "data/sets/load.hpp"
#include "data/sets/source.hpp"
#include "data/train/config/fields.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/feature_config.hpp"

#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>
#include <optional>

namespace mtag::python {

namespace fs = std::filesystem;

namespace {

struct LoaderSpec {
    std::string data;
    std::string features_json;      // FeatureConfig JSON ("" = the default log-mel)
    std::string augmentation_json;  // AugmentPipeline JSON ("" = no augmentation)
    std::string augmentation_dir;   // resolves relative noise files
    std::string dataset_json;       // DatasetSource keys but `path` ("" = the format's defaults)
    std::size_t batch_size = 16;
    double crop_seconds = 3.0;
    std::uint64_t seed = 0;
    int workers = 2;
    std::string split = "train";  // train | valid | test | all
    bool shuffle = true;
    bool drop_last = false;
    std::string cache = "memory";  // "memory" (decoded clips), "" (none) or a folder for the feature cache
    std::string res_type = dsp::to_string(dsp::default_resample_quality);
};

std::vector<std::size_t> select(const data::Dataset& dataset, const std::string& split) {
    if (split == "all") {
        std::vector<std::size_t> all(dataset.clips.size());
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        return all;
    }
    if (split == "train") return dataset.indices(data::Split::train);
    if (split == "valid") return dataset.indices(data::Split::valid);
    if (split == "test") return dataset.indices(data::Split::test);
    throw ValueError("split: got '" + split + "', expected train, valid, test or all");
}

// The dataset options of `mtag train --data` (format, audio_root, split_files, mtat_split, top_n,
// jamendo_split, jamendo_category, duration_cache), read with the training config's `data` keys so that one
// name means the same thing in a config, on the command line and here.
data::DatasetSource dataset_source(const LoaderSpec& spec) {
    return validated([&] {
        data::DatasetSource source;
        if (!spec.dataset_json.empty()) {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(spec.dataset_json);
            } catch (const nlohmann::json::exception& e) {
                throw ValueError(std::string("dataset: not valid JSON: ") + e.what());
            }
            if (j.is_object() && j.contains("path"))
                throw ValueError("dataset: 'path' is the loader's data= argument; remove it from dataset=");
            data::config::JsonReader::read(j, source, "dataset");
        }
        source.path = spec.data;
        source.validate();
        return source;
    });
}

class PyLoader {
  public:
    explicit PyLoader(const LoaderSpec& spec) {
        m_features = validated([&] {
            if (spec.features_json.empty()) return dsp::FeatureConfig{}.resolved();
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(spec.features_json);
            } catch (const nlohmann::json::exception& e) {
                throw ValueError(std::string("features: not valid JSON: ") + e.what());
            }
            return dsp::FeatureConfig::from_json(j, "features").resolved();
        });
        if (!(spec.crop_seconds > 0))
            throw ValueError("crop_seconds: got " + std::to_string(spec.crop_seconds) + ", expected > 0");
        const std::size_t frames = static_cast<std::size_t>(
            std::max(1.0, std::round(spec.crop_seconds * m_features.sample_rate / m_features.hop_length)));
        if (!spec.augmentation_json.empty()) {
            m_augment = validated([&] {
                nlohmann::json j;
                try {
                    j = nlohmann::json::parse(spec.augmentation_json);
                } catch (const nlohmann::json::exception& e) {
                    throw ValueError(std::string("augmentation: not valid JSON: ") + e.what());
                }
                return std::make_unique<dsp::AugmentPipeline>(j, spec.augmentation_dir);
            });
        }
        const dsp::ResampleQuality quality = resample_quality(spec.res_type);
        const data::DatasetSource source = dataset_source(spec);
        {
            py::gil_scoped_release release;
            m_dataset = on_file(spec.data, [&] {
                // As `mtag train`: known durations let the loader decode only each crop's window (without the
                // memory cache, which keeps whole clips).
                data::Dataset d = data::load_dataset(
                    source, data::DatasetOptions{.seed = spec.seed, .read_durations = true, .threads = spec.workers});
                d.require_usable();
                return d;
            });
        }
        m_clips = select(m_dataset, spec.split);
        if (m_clips.empty())
            throw ValueError("data '" + spec.data + "': no clip in split '" + spec.split + "' (" +
                             std::to_string(m_dataset.clips.size()) + " clips in all; try split='all')");

        data::ClipPipelineOptions pipeline{.features = m_features,
                                           .chunking = {.length = frames},
                                           .train = true,
                                           .augment = m_augment.get(),
                                           .resample_quality = quality};
        if (spec.cache == "memory") {
            m_waveforms = std::make_unique<data::WaveformCache>(
                data::WaveformCacheOptions{.sample_rate = m_features.sample_rate, .resample_quality = quality});
            pipeline.waveforms = m_waveforms.get();
        } else if (!spec.cache.empty()) {
            if (m_augment)
                throw ValueError("cache: a feature cache folder holds features of unaugmented clips; with "
                                 "augmentation use cache='memory' (decoded clips) or None");
            m_feature_cache = validated([&] { return std::make_unique<data::FeatureCache>(spec.cache, m_features); });
            pipeline.cache = m_feature_cache.get();
        }
        validated([&] { pipeline.validate(); return 0; });
        m_frames = frames;
        const data::SampleFn fn = data::make_clip_sample_fn(pipeline, data::make_front_end(m_features));
        m_loader = validated([&] {
            return std::make_unique<data::BatchLoader>(m_dataset, m_clips, fn,
                                                       data::BatchLoaderOptions{.batch_size = spec.batch_size,
                                                                                .workers = spec.workers,
                                                                                .shuffle = spec.shuffle,
                                                                                .drop_last = spec.drop_last,
                                                                                .seed = spec.seed});
        });
    }

    void start_epoch(std::uint64_t epoch) {
        py::gil_scoped_release release;
        m_loader->start_epoch(epoch);
    }

    // (features [n, bins, frames], targets [n, n_tags], clip ids) or None at the end of the epoch.
    py::object next() {
        std::optional<data::Batch> batch;
        {
            ComputeScope compute;  // waits for the workers with the GIL released
            batch = m_loader->next();
        }
        if (!batch) return py::none();
        const auto n = static_cast<py::ssize_t>(batch->size());
        py::list ids;
        for (std::size_t i : batch->clip_indices) ids.append(m_dataset.clips[i].id);
        auto features = to_numpy(std::move(batch->inputs),
                                 {n, static_cast<py::ssize_t>(batch->bins), static_cast<py::ssize_t>(batch->frames)});
        auto targets = to_numpy(std::move(batch->targets), {n, static_cast<py::ssize_t>(batch->n_tags)});
        return py::make_tuple(features, targets, ids);
    }

    std::vector<std::pair<std::string, std::string>> failures() const {
        std::vector<std::pair<std::string, std::string>> out;
        for (const data::ClipFailure& f : m_loader->epoch_failures()) out.emplace_back(f.path.string(), f.reason);
        return out;
    }

    const data::Dataset& dataset() const { return m_dataset; }
    const std::vector<std::size_t>& clips() const { return m_clips; }
    std::size_t batches_per_epoch() const { return m_loader->batches_per_epoch(); }
    std::size_t frames() const { return m_frames; }
    std::string features_json() const { return m_features.to_json().dump(); }
    double wait_seconds() const { return m_loader->wait_seconds(); }

  private:
    dsp::FeatureConfig m_features;
    std::unique_ptr<dsp::AugmentPipeline> m_augment;
    data::Dataset m_dataset;
    std::vector<std::size_t> m_clips;
    std::unique_ptr<data::WaveformCache> m_waveforms;
    std::unique_ptr<data::FeatureCache> m_feature_cache;
    std::size_t m_frames = 0;
    std::unique_ptr<data::BatchLoader> m_loader;  // last: stops its workers before the rest goes
};

}  // namespace

void bind_loader(py::module_& m) {
    using namespace pybind11::literals;
    py::class_<LoaderSpec>(m, "LoaderSpec")
        .def(py::init<>())
        .def_readwrite("data", &LoaderSpec::data)
        .def_readwrite("features_json", &LoaderSpec::features_json)
        .def_readwrite("augmentation_json", &LoaderSpec::augmentation_json)
        .def_readwrite("augmentation_dir", &LoaderSpec::augmentation_dir)
        .def_readwrite("dataset_json", &LoaderSpec::dataset_json)
        .def_readwrite("batch_size", &LoaderSpec::batch_size)
        .def_readwrite("crop_seconds", &LoaderSpec::crop_seconds)
        .def_readwrite("seed", &LoaderSpec::seed)
        .def_readwrite("workers", &LoaderSpec::workers)
        .def_readwrite("split", &LoaderSpec::split)
        .def_readwrite("shuffle", &LoaderSpec::shuffle)
        .def_readwrite("drop_last", &LoaderSpec::drop_last)
        .def_readwrite("cache", &LoaderSpec::cache)
        .def_readwrite("res_type", &LoaderSpec::res_type);
    py::class_<PyLoader>(m, "BatchLoader")
        .def(py::init<const LoaderSpec&>(), "spec"_a)
        .def("start_epoch", &PyLoader::start_epoch, "epoch"_a)
        .def("next", &PyLoader::next)
        .def("failures", &PyLoader::failures)
        .def_property_readonly("tags", [](const PyLoader& l) { return l.dataset().vocabulary; })
        .def_property_readonly("clip_ids", [](const PyLoader& l) {
            std::vector<std::string> ids;
            for (std::size_t i : l.clips()) ids.push_back(l.dataset().clips[i].id);
            return ids;
        })
        .def_property_readonly("batches_per_epoch", &PyLoader::batches_per_epoch)
        .def_property_readonly("frames", &PyLoader::frames)
        .def_property_readonly("features_json", &PyLoader::features_json)
        .def_property_readonly("wait_seconds", &PyLoader::wait_seconds);
}

}  // namespace mtag::python
