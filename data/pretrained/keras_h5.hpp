#pragma once
// Reading the weights of a Keras 1 model saved with model.save_weights() (HDF5, through libhdf5): the root
// attribute "layer_names" lists the layers in order; each layer is a group whose attribute "weight_names"
// lists its datasets in order ("conv1/conv1_W_1:0", "gru1_W_z:0", or "convolution2d_1_W:0" inside a nested
// model's group). Every problem -- not HDF5, truncated, a missing layer or dataset, a non-float dataset --
// is an mtag::Error naming the file, the layer and the dataset. HDF5's own error printing is switched off.
//
// libhdf5 runs in a child process (data/pretrained/child_process.hpp) that reads the whole file -- the
// layer table and every dataset, each dataset's own error kept for when it is asked for -- and sends it
// back: a corrupt file that crashes libhdf5 (it does, tests/fuzz/corpus/keras_h5) becomes an mtag::Error
// instead of a crash of mtag. Keras weights files are a few MB, bounded by the file's size.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace mtag::data {

// A float32 dataset, row-major (C order) in its HDF5 shape.
struct H5Array {
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

// "(64, 1, 3, 3)".
std::string shape_string(const std::vector<std::int64_t>& shape);

struct KerasLayer {
    std::string name;
    std::vector<std::string> weight_names;  // dataset names within the layer's group, in Keras's order
};

class KerasWeightsFile {
  public:
    // Opens the file and reads the layer table; throws mtag::Error when it is not a Keras weights file.
    explicit KerasWeightsFile(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return m_path; }
    const std::vector<KerasLayer>& layers() const { return m_contents.layers; }
    // The layer called `name`; throws naming the file and listing the layers with weights when absent.
    const KerasLayer& layer(const std::string& name) const;
    // The dataset of `layer` for weight `kind` of (sub)layer `owner`: the weight name is
    // owner + "_" + kind, optionally followed by Keras's instance suffix "_<n>", then ":0"
    // (e.g. owner "conv1", kind "W" matches "conv1_W_1:0" and "conv1_W:0"). Throws when absent.
    H5Array read(const KerasLayer& layer, const std::string& owner, const std::string& kind) const;
    // The dataset called exactly `weight_name` in `layer`'s group.
    H5Array read_dataset(const KerasLayer& layer, const std::string& weight_name) const;

    // What the child read: the layers and, per "layer/weight" path, the array or why it cannot be read.
    struct Contents {
        std::vector<KerasLayer> layers;
        std::map<std::string, std::variant<H5Array, std::string>> datasets;
    };

  private:
    std::filesystem::path m_path;
    Contents m_contents;
};

}  // namespace mtag::data
