#pragma once
// `mtag model import --from keras-h5 --arch ARCH WEIGHTS.h5 --out DIR`: the published Keras 1 weights of
// Choi et al.'s taggers (github.com/keunwoochoi/music-auto_tagging-keras, MIT) as an ordinary mtag model
// directory (model.json + model.safetensors) that `tag`, `eval`, `--embeddings` and `--init-from` use
// unchanged. Every dataset is checked against the architecture by name and shape; any mismatch is one
// error naming the file, the layer, the dataset, the shape found and the shape expected. The directory is
// written under a temporary name and renamed, so a failed import leaves nothing behind.
//
// Conventions carried over (ref: shared/pretrained/choi2016/README and the upstream code):
//  - conv kernels of the *_tensorflow files are cross-correlation kernels (out, in, h, w): copied as they are;
//  - Dense W is (in, out): transposed to torch's (out, in);
//  - BatchNormalization: Keras >= 1.1 files (the CRNN) store the variance as "running_std" and divide by
//    sqrt(var + 1e-3); Keras 1.0.6 files (MusicTaggerCNN) store a real standard deviation and divide by
//    (std + 1e-6), which the importer folds into running_var = (std + 1e-6)^2 - eps (the preset's eps);
//  - GRU: Keras 1's W_*, U_*, b_* per gate, kept as they are (nn/layers/gru.hpp, convention keras1).
#include "data/run/model_card.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace mtag::data {

// The 50 Million Song Dataset tags of Choi et al.'s taggers, in output order.
const std::vector<std::string>& msd_top50_tags();

// The architectures `--from keras-h5` knows: choi2016_crnn, choi2016_cnn, choi2017_compact.
const std::vector<std::string>& keras_architectures();

// The model card of an imported `arch` (front end, chunking, tags, provenance), without weights.
ModelCard pretrained_card(const std::string& arch, const std::string& mtag_version);

// Reads `weights` as `arch` and returns the model with its card. Throws mtag::Error as described above.
RunModel import_keras_h5(const std::filesystem::path& weights, const std::string& arch, const std::string& mtag_version);

// Writes `run` to `out` atomically (a temporary sibling directory renamed into place); refuses an existing,
// non-empty `out`.
void write_model_dir(RunModel& run, const std::filesystem::path& out);

// Removes what a killed process left beside `final_path`: "<final_path><marker><pid>" files or folders
// (marker ".tmp-" or ".part-") whose process no longer runs. Temporaries of a live process are kept.
void remove_dead_temporaries(const std::filesystem::path& final_path, const std::string& marker);

}  // namespace mtag::data
