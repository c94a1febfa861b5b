#include "data/run/fixed_front_end.hpp"

#include "data/pretrained/choi2016_fixture.hpp"
#include "data/pretrained/keras_import.hpp"
#include "dsp/mel.hpp"
#include "nn/layers/dft_melgram.hpp"
#include "nn/models/zoo.hpp"
#include "support/shared_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

using namespace mtag;
using namespace mtag::data;

namespace {

std::map<std::string, const nn::Tensor*> buffers_by_name(nn::Module& model) {
    std::map<std::string, const nn::Tensor*> out;
    for (nn::Buffer* b : model.buffers()) out[b->name] = &b->value;
    return out;
}

float max_abs(const nn::Tensor& t) {
    float m = 0;
    for (std::int64_t i = 0; i < t.shape().numel(); ++i) m = std::max(m, std::abs(t.data()[i]));
    return m;
}

// One second of a sine at `hz`, sampled at `rate`, as a (1, samples) batch.
nn::Tensor sine(double hz, int rate) {
    nn::Tensor x({1, rate});
    for (int i = 0; i < rate; ++i) x.data()[i] = 0.5f * static_cast<float>(std::sin(2 * std::numbers::pi * hz * i / rate));
    return x;
}

// The mel band (row of the (1, 1, n_mels, T) dB map) holding the most energy, summed over frames.
int loudest_band(const nn::Tensor& db) {
    const std::int64_t bands = db.shape()[2], frames = db.shape()[3];
    int best = 0;
    double best_sum = -1e300;
    for (std::int64_t m = 0; m < bands; ++m) {
        double sum = 0;
        for (std::int64_t t = 0; t < frames; ++t) sum += db.data()[m * frames + t];
        if (sum > best_sum) best_sum = sum, best = static_cast<int>(m);
    }
    return best;
}

}  // namespace

TEST_CASE("fixed front end: nn builds choi2017_compact's transform zero, build_new_model computes it", "[fixed_front_end]") {
    auto bare = nn::models::build_model("choi2017_compact", 2);
    CHECK(max_abs(*buffers_by_name(*bare).at("melgram.mel")) == 0.0f);
    auto fresh = build_new_model("choi2017_compact", 2);
    for (const char* name : {"melgram.dft_real", "melgram.dft_imag", "melgram.mel"}) {
        INFO(name);
        CHECK(max_abs(*buffers_by_name(*fresh).at(name)) > 0.0f);
    }
    CHECK(fill_fixed_front_end(*fresh, 12000) == 1);
    auto other = nn::models::build_model("short_chunk_cnn", 2);
    CHECK(fill_fixed_front_end(*other, 16000) == 0);
}

TEST_CASE("fixed front end: a sine lands in the mel band that holds its frequency, at the rate asked for", "[fixed_front_end]") {
    for (const int rate : {12000, 16000}) {
        auto model = build_new_model("choi2017_compact", 2, rate);
        nn::DftMelgram* melgram = nn::modules_of_type<nn::DftMelgram>(*model).at(0);
        // librosa's band m spans mel_frequencies(n_mels + 2)[m .. m + 2] and peaks at [m + 1].
        const std::vector<double> edges = dsp::mel_frequencies(96 + 2, 0.0, rate / 2.0);
        for (const double hz : {440.0, 1000.0, 3000.0}) {
            INFO("rate " << rate << ", " << hz << " Hz");
            const nn::Tensor db = melgram->forward(sine(hz, rate));
            const int band = loudest_band(db);
            CHECK(edges[static_cast<std::size_t>(band)] <= hz);
            CHECK(hz <= edges[static_cast<std::size_t>(band) + 2]);
            // The map spans the whole dynamic range: far bands sit at the -80 dB floor.
            const auto [lo, hi] = std::minmax_element(db.data(), db.data() + db.shape().numel());
            CHECK(*hi == 0.0f);
            CHECK(*lo == Approx(-80.0f));
        }
    }
}

TEST_CASE("fixed front end: a new choi2017_compact's kernels and mel matrix equal the published weights' (kapre)", "[fixed_front_end]") {
    const std::filesystem::path file = test::choi2016_dir() / "compact_cnn_weights_tensorflow.hdf5";
    if (!test::require_fixture(file, "the shared Choi et al. weights")) return;
    RunModel imported = import_keras_h5(file, "choi2017_compact", "test");
    auto fresh = build_new_model(imported.card.model_options, 1);
    const auto ours = buffers_by_name(*fresh), theirs = buffers_by_name(*imported.model);
    for (const char* name : {"melgram.dft_real", "melgram.dft_imag", "melgram.mel"}) {
        INFO(name);
        const nn::Tensor& a = *ours.at(name);
        const nn::Tensor& b = *theirs.at(name);
        REQUIRE(a.shape() == b.shape());
        float worst = 0;
        for (std::int64_t i = 0; i < a.shape().numel(); ++i) worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
        // Measured: 3e-8 for the kernels (values up to 1), 1.1e-7 relative for the mel matrix.
        CHECK(worst <= 1e-6f * max_abs(b));
    }
}
