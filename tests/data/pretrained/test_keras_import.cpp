#include "data/pretrained/keras_import.hpp"

#include "data/fixtures.hpp"
#include "data/pretrained/choi2016_fixture.hpp"
#include "data/pretrained/keras_h5.hpp"
#include "dsp/error.hpp"
#include "dsp/npy.hpp"
#include "support/shared_fixture.hpp"

#include <catch2/catch.hpp>
#include <hdf5.h>

#include <cmath>
#include <vector>

using namespace mtag;
using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

fs::path weights(const std::string& file) {
    return test::choi2016_dir() / file;
}

// Sigmoid scores of an imported model on an upstream melgram.
std::vector<double> scores(RunModel& run, const std::string& song) {
    const nn::Tensor logits = run.model->forward(test::read_upstream_melgram(test::choi2016_dir() / (song + ".npy")));
    std::vector<double> out;
    for (std::int64_t i = 0; i < logits.shape().numel(); ++i) out.push_back(1.0 / (1.0 + std::exp(-logits.data()[i])));
    return out;
}

// A copy of `source` edited with libhdf5 by `edit` (given the open file), at `target`.
template <class Edit>
void edited_copy(const fs::path& source, const fs::path& target, Edit edit) {
    fs::copy_file(source, target, fs::copy_options::overwrite_existing);
    const hid_t file = H5Fopen(target.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    edit(file);
    H5Fclose(file);
}

// Replaces the dataset at `path` of an open file by a zero-filled float32 one of shape `dims`.
void replace_dataset(hid_t file, const char* path, const std::vector<hsize_t>& dims) {
    REQUIRE(H5Ldelete(file, path, H5P_DEFAULT) >= 0);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t ds = H5Dcreate2(file, path, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t count = 1;
    for (hsize_t d : dims) count *= d;
    std::vector<float> zeros(count, 0.0f);
    if (count > 0) H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
    H5Dclose(ds);
    H5Sclose(space);
}

}  // namespace

TEST_CASE("keras import: the CRNN reproduces the published scores from the upstream melgrams", "[pretrained]") {
    const fs::path file = weights("music_tagger_crnn_weights_tensorflow.h5");
    if (!test::require_fixture(file, "the shared Choi et al. weights")) return;
    RunModel run = import_keras_h5(file, "choi2016_crnn", "test");
    CHECK(run.card.tags.size() == 50);
    CHECK(run.card.fixed_input);
    CHECK(run.card.evaluation.eval_chunks == 1);
    for (const auto& [song, expected, published] :
         {std::tuple{"bensound-cute", &test::k_crnn_cute, &test::k_published_cute},
          std::tuple{"bensound-actionable", &test::k_crnn_actionable, &test::k_published_actionable}}) {
        INFO(song);
        const std::vector<double> got = scores(run, song);
        REQUIRE(got.size() == 50);
        for (std::size_t t = 0; t < 50; ++t) {
            INFO("tag " << t << " " << msd_top50_tags()[t]);
            CHECK(got[t] == Approx((*expected)[t]).margin(2e-5));
        }
        for (const test::PublishedScore& p : *published) {
            INFO("published tag " << msd_top50_tags()[static_cast<std::size_t>(p.tag)]);
            CHECK(std::abs(got[static_cast<std::size_t>(p.tag)] - p.score) <= 0.001);
        }
    }
}

TEST_CASE("keras import: MusicTaggerCNN equals the PyTorch port on the upstream melgrams", "[pretrained]") {
    const fs::path file = weights("music_tagger_cnn_weights_tensorflow.h5");
    if (!test::require_fixture(file, "the shared Choi et al. weights")) return;
    RunModel run = import_keras_h5(file, "choi2016_cnn", "test");
    for (const auto& [song, expected] : {std::pair{"bensound-cute", &test::k_cnn_cute},
                                         std::pair{"bensound-actionable", &test::k_cnn_actionable}}) {
        INFO(song);
        const std::vector<double> got = scores(run, song);
        for (std::size_t t = 0; t < 50; ++t) {
            INFO("tag " << t);
            CHECK(got[t] == Approx((*expected)[t]).margin(1e-4));
        }
    }
}

TEST_CASE("keras import: the compact convnet's 160 features equal the PyTorch port on the example clip", "[pretrained]") {
    const fs::path file = weights("compact_cnn_weights_tensorflow.hdf5");
    if (!test::require_fixture(file, "the shared Choi et al. weights")) return;
    RunModel run = import_keras_h5(file, "choi2017_compact", "test");
    CHECK(run.model->batch_dependent());
    CHECK(run.model->embedding_size() == 160);
    const dsp::FloatMatrix clip = dsp::load_npy(test::choi2016_dir() / "compact_cnn_example_clip_12k.npy");
    REQUIRE(clip.data.size() == 348000);
    const nn::Tensor x = nn::Tensor::from({1, 348000}, clip.data);
    const nn::Tensor e = run.model->embed(x);
    REQUIRE(e.shape().numel() == 160);
    for (std::size_t i = 0; i < 160; ++i) {
        INFO("feature " << i);
        CHECK(e.data()[i] == Approx(test::k_compact_example[i]).margin(1e-4));
    }
}

TEST_CASE("keras import: a bad weights file is one clear error naming the file and the layer", "[pretrained]") {
    const fs::path crnn = weights("music_tagger_crnn_weights_tensorflow.h5");
    if (!test::require_fixture(crnn, "the shared Choi et al. weights")) return;
    const fs::path dir = test::fresh_dir("keras_import_bad");

    // Truncated.
    const fs::path truncated = dir / "truncated.h5";
    fs::copy_file(crnn, truncated);
    fs::resize_file(truncated, fs::file_size(crnn) / 2);
    CHECK_THROWS_WITH(import_keras_h5(truncated, "choi2016_crnn", "test"), Catch::Contains("truncated.h5"));

    // Not HDF5 at all.
    std::ofstream(dir / "noise.h5") << "this is not an HDF5 file";
    CHECK_THROWS_WITH(import_keras_h5(dir / "noise.h5", "choi2016_crnn", "test"),
                      Catch::Contains("noise.h5") && Catch::Contains("not an HDF5 file"));

    // Another architecture's file.
    CHECK_THROWS_WITH(import_keras_h5(weights("music_tagger_cnn_weights_tensorflow.h5"), "choi2016_crnn", "test"),
                      Catch::Contains("music_tagger_cnn_weights_tensorflow.h5") && Catch::Contains("layer"));

    // A layer missing.
    const fs::path missing = dir / "missing_gru2.h5";
    edited_copy(crnn, missing, [](hid_t file) { REQUIRE(H5Ldelete(file, "gru2", H5P_DEFAULT) >= 0); });
    CHECK_THROWS_WITH(import_keras_h5(missing, "choi2016_crnn", "test"),
                      Catch::Contains("missing_gru2.h5") && Catch::Contains("gru2"));

    // A dataset with the wrong shape: conv2's kernel replaced by a (128, 32, 3, 3) one.
    const fs::path wrong = dir / "wrong_shape.h5";
    edited_copy(crnn, wrong, [](hid_t file) { replace_dataset(file, "conv2/conv2_W_1:0", {128, 32, 3, 3}); });
    CHECK_THROWS_WITH(import_keras_h5(wrong, "choi2016_crnn", "test"),
                      Catch::Contains("wrong_shape.h5") && Catch::Contains("conv2") &&
                          Catch::Contains("(128, 32, 3, 3)") && Catch::Contains("expected (128, 64, 3, 3)"));

    // An empty dataset (conv2's kernel as (0, 64, 3, 3)): the wrong shape, reported as such. Found by
    // fuzz_keras_h5 as undefined behaviour (memcpy from a null vector buffer) when moving its zero values
    // out of the reading child; the ASan/UBSan part of scripts/test.sh would stop here if it came back.
    const fs::path empty = dir / "empty_dataset.h5";
    edited_copy(crnn, empty, [](hid_t file) { replace_dataset(file, "conv2/conv2_W_1:0", {0, 64, 3, 3}); });
    CHECK_THROWS_WITH(import_keras_h5(empty, "choi2016_crnn", "test"),
                      Catch::Contains("empty_dataset.h5") && Catch::Contains("conv2") &&
                          Catch::Contains("(0, 64, 3, 3)"));

    // A file that makes libhdf5 1.10 overflow a heap buffer (found by fuzz_keras_h5): the read runs in a
    // child process, so whatever libhdf5 does with it, mtag reports an error naming the file.
    const fs::path hostile = fs::path(MTAG_SOURCE_DIR) / "tests/fuzz/corpus/keras_h5/regression-hdf5-attr-heap-overflow.h5";
    REQUIRE(fs::is_regular_file(hostile));
    CHECK_THROWS_AS(import_keras_h5(hostile, "choi2016_crnn", "test"), Error);
    CHECK_THROWS_WITH(import_keras_h5(hostile, "choi2016_crnn", "test"),
                      Catch::Contains("regression-hdf5-attr-heap-overflow.h5"));

    // A failed import leaves no model directory.
    CHECK_THROWS(import_keras_h5(wrong, "choi2016_crnn", "test"));
    CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("keras import: the imported model directory loads back and tags like the imported model", "[pretrained]") {
    const fs::path file = weights("music_tagger_crnn_weights_tensorflow.h5");
    if (!test::require_fixture(file, "the shared Choi et al. weights")) return;
    const fs::path dir = test::fresh_dir("keras_import_dir");
    RunModel run = import_keras_h5(file, "choi2016_crnn", "test");
    write_model_dir(run, dir / "crnn");
    CHECK_THROWS_WITH(write_model_dir(run, dir / "crnn"), Catch::Contains("already exists"));
    RunModel loaded = load_run(dir / "crnn");
    CHECK(loaded.card.provenance.at("licence").get<std::string>().find("MIT") != std::string::npos);
    const std::vector<double> a = scores(run, "bensound-cute"), b = scores(loaded, "bensound-cute");
    for (std::size_t t = 0; t < 50; ++t) CHECK(a[t] == b[t]);
}
