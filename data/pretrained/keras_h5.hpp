#pragma once
// Reading the weights of a Keras 1 model saved with model.save_weights() (HDF5, through libhdf5): the root
// attribute "layer_names" lists the layers in order; each layer is a group whose attribute "weight_names"
// lists its datasets in order ("conv1/conv1_W_1:0", "gru1_W_z:0", or "convolution2d_1_W:0" inside a nested
// model's group). Every problem -- not HDF5, truncated, a missing layer or dataset, a non-float dataset --
// is an mtag::Error naming the file, the layer and the dataset. HDF5's own error printing is switched off.
#include <cstdint>
#include <filesystem>
#include <string>
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
    ~KerasWeightsFile();
    KerasWeightsFile(const KerasWeightsFile&) = delete;
    KerasWeightsFile& operator=(const KerasWeightsFile&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    const std::vector<KerasLayer>& layers() const { return m_layers; }
    // The layer called `name`; throws naming the file and listing the layers with weights when absent.
    const KerasLayer& layer(const std::string& name) const;
    // The dataset of `layer` for weight `kind` of (sub)layer `owner`: the weight name is
    // owner + "_" + kind, optionally followed by Keras's instance suffix "_<n>", then ":0"
    // (e.g. owner "conv1", kind "W" matches "conv1_W_1:0" and "conv1_W:0"). Throws when absent.
    H5Array read(const KerasLayer& layer, const std::string& owner, const std::string& kind) const;
    // The dataset called exactly `weight_name` in `layer`'s group.
    H5Array read_dataset(const KerasLayer& layer, const std::string& weight_name) const;

  private:
    std::filesystem::path m_path;
    std::int64_t m_file = -1;  // hid_t
    std::vector<KerasLayer> m_layers;
};

}  // namespace mtag::data
