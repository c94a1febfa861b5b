#pragma once
// The shared material of Choi et al.'s taggers (../shared/pretrained/choi2016) and the expected outputs of
// the float64 PyTorch port scripts/choi2016_reference.py (all 50 CRNN and CNN scores of both songs, from the
// upstream melgrams; the CRNN's reproduce the published top-10 within +-0.0005).
#include "nn/tensor.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mtag::test {

inline std::filesystem::path choi2016_dir() {
    return std::filesystem::path(MTAG_SHARED_DIR) / "pretrained" / "choi2016";
}

// An upstream melgram (.npy, float64, shape (1, 1, 96, 1366)) as a (1, 96, 1366) float32 tensor.
inline nn::Tensor read_upstream_melgram(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[10];
    in.read(magic, 10);
    if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0 || magic[6] != 1) throw std::runtime_error("not a .npy v1: " + path.string());
    const std::size_t header = static_cast<unsigned char>(magic[8]) | (static_cast<unsigned char>(magic[9]) << 8);
    std::string text(header, ' ');
    in.read(text.data(), static_cast<std::streamsize>(header));
    if (text.find("'<f8'") == std::string::npos || text.find("(1, 1, 96, 1366)") == std::string::npos)
        throw std::runtime_error("unexpected melgram header: " + text);
    std::vector<double> values(96 * 1366);
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(double)));
    if (!in) throw std::runtime_error("truncated melgram: " + path.string());
    nn::Tensor t({1, 96, 1366});
    for (std::size_t i = 0; i < values.size(); ++i) t.data()[i] = static_cast<float>(values[i]);
    return t;
}

// scripts/choi2016_reference.py, CRNN on the upstream melgrams, tag order (6 decimals).
inline const std::array<double, 50> k_crnn_cute = {
    0.058452, 0.011314, 0.021642, 0.015722, 0.042305, 0.012270, 0.004752, 0.004959, 0.005807, 0.444484,
    0.013616, 0.016641, 0.028159, 0.005310, 0.018137, 0.017516, 0.002598, 0.023500, 0.018157, 0.026007,
    0.103439, 0.008717, 0.023181, 0.150605, 0.003375, 0.003609, 0.028069, 0.005363, 0.077476, 0.054395,
    0.051138, 0.002150, 0.067756, 0.103314, 0.016550, 0.001668, 0.014700, 0.015240, 0.001341, 0.000565,
    0.020313, 0.004968, 0.004914, 0.035759, 0.002992, 0.003716, 0.001665, 0.007286, 0.001552, 0.000882};
inline const std::array<double, 50> k_crnn_actionable = {
    0.081448, 0.013314, 0.024684, 0.013839, 0.045082, 0.004713, 0.007724, 0.005259, 0.008610, 0.416377,
    0.012642, 0.029481, 0.025169, 0.007408, 0.021768, 0.016720, 0.002455, 0.018424, 0.016436, 0.028809,
    0.085004, 0.011678, 0.021975, 0.181484, 0.003591, 0.003807, 0.024994, 0.008305, 0.067730, 0.045929,
    0.046473, 0.001007, 0.061686, 0.085119, 0.015899, 0.002037, 0.023480, 0.019025, 0.001219, 0.000676,
    0.027714, 0.004236, 0.006647, 0.047502, 0.002964, 0.003291, 0.001279, 0.006438, 0.001750, 0.000949};
// scripts/choi2016_reference.py, MusicTaggerCNN (Keras 1.0.6 BatchNormalization) on the upstream melgrams.
inline const std::array<double, 50> k_cnn_cute = {
    0.000000, 0.000164, 0.000003, 0.019666, 0.249079, 0.600000, 0.000000, 0.018703, 0.000000, 0.901791,
    0.016489, 0.000000, 0.032050, 0.000125, 0.000000, 0.000006, 0.000001, 0.059957, 0.026552, 0.000000,
    0.649323, 0.000000, 0.123242, 0.000021, 0.000000, 0.000000, 0.000000, 0.000000, 0.039577, 0.000941,
    0.002212, 0.010190, 0.000018, 0.000000, 0.000000, 0.000000, 0.003397, 0.001515, 0.000001, 0.000000,
    0.000000, 0.000994, 0.000000, 0.000000, 0.000000, 0.000000, 0.000497, 0.000033, 0.000025, 0.000000};
inline const std::array<double, 50> k_cnn_actionable = {
    0.000000, 0.002134, 0.000027, 0.010275, 0.395156, 0.935238, 0.000536, 0.006145, 0.000000, 0.868466,
    0.038550, 0.000000, 0.012083, 0.002598, 0.000000, 0.000070, 0.000005, 0.111571, 0.095763, 0.000000,
    0.977209, 0.000000, 0.016743, 0.001454, 0.000000, 0.000037, 0.000018, 0.000000, 0.316904, 0.015385,
    0.009635, 0.111482, 0.000133, 0.000001, 0.000000, 0.000000, 0.005285, 0.017672, 0.000016, 0.000000,
    0.000000, 0.004850, 0.000000, 0.000000, 0.000000, 0.000007, 0.000755, 0.000548, 0.002136, 0.000000};

// scripts/choi2016_reference.py --compact compact_cnn_example_clip_12k.npy: the compact convnet's 160 features
// (TensorFlow framing, BN eps 1e-3, the clip's own statistics).
inline const std::array<double, 160> k_compact_example = {0.312476, -0.663977, -0.208108, 0.267069, 0.856857, 0.047020, -0.401158, -0.157013, 0.706149, 1.019766, 0.514523, 0.575772, 0.825320, 1.700234, 0.337364, -0.731879, 0.195744, 1.012862, 2.253913, 0.047731, 0.875895, 0.306946, 1.189490, 0.680476, 0.656915, 0.289727, -0.571771, 0.408301, -0.610340, 0.342016, -0.867141, 0.931888, 1.077149, 0.804769, 0.124805, 0.006369, 0.474488, 0.580658, -0.029328, -0.004597, 0.558047, 0.254063, 1.095981, 0.047836, 0.479801, 0.407076, 0.767750, 1.003591, 0.269843, 0.062118, 0.218635, 0.147447, -0.240927, 0.435704, 0.171523, 0.380382, 0.477131, 0.551355, 0.259417, -0.044667, 1.459611, 1.139785, 0.096870, 0.288834, 1.712392, 0.957840, 0.182925, 1.101118, 0.902830, -0.103394, 1.174853, -0.453965, 0.505047, 1.274907, 0.337563, 0.239481, 0.303222, 0.307067, 0.562131, 2.073861, 0.283225, 0.456504, 0.654438, 0.074845, 0.282866, 0.507796, 0.716797, 0.059302, 0.191568, 1.650155, 1.201149, 1.643549, 1.322566, 0.829260, 0.772898, 1.003803, 0.695348, 0.930505, 0.926441, 2.568799, 0.634318, 2.193461, 1.972523, 0.374722, 0.426301, 0.954916, 0.738788, 0.628140, 0.968503, 0.608687, 1.368876, 0.562308, 0.127321, 0.687122, 0.570859, 0.149336, 0.372202, 0.358770, 0.959876, 1.143101, -0.122994, 0.931180, 1.307254, 1.162512, 0.520713, 0.552124, 0.155342, 1.156606, 0.307447, -0.046733, 0.101889, 0.778666, 0.172338, -0.008619, 0.317143, 0.082691, 0.122759, 0.860802, -0.009751, -0.086489, 0.500791, 0.379293, 0.245001, 0.734214, 0.169087, 0.082456, 0.068816, 0.085977, 0.167472, 1.078103, 0.185648, 0.058894, 0.106298, 0.363360, 0.419899, 1.822110, 0.180434, 0.579767, 0.205058, 0.377571};

// The published top-10 of the CRNN (upstream README, 3 decimals): tag index and score.
struct PublishedScore {
    int tag;
    double score;
};
inline const std::array<PublishedScore, 10> k_published_cute = {
    {{9, 0.444}, {23, 0.151}, {20, 0.103}, {33, 0.103}, {28, 0.077}, {32, 0.068}, {0, 0.058}, {29, 0.054}, {30, 0.051}, {4, 0.042}}};
inline const std::array<PublishedScore, 10> k_published_actionable = {
    {{9, 0.416}, {23, 0.181}, {33, 0.085}, {20, 0.085}, {0, 0.081}, {28, 0.068}, {32, 0.062}, {43, 0.048}, {30, 0.046}, {29, 0.046}}};

}  // namespace mtag::test
