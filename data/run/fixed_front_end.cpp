#include "data/run/fixed_front_end.hpp"

#include "dsp/error.hpp"
#include "dsp/mel.hpp"
#include "dsp/window.hpp"
#include "nn/layers/dft_melgram.hpp"
#include "nn/models/zoo.hpp"

#include <cmath>
#include <numbers>

namespace mtag::data {

int fill_fixed_front_end(nn::Module& model, int sample_rate) {
    int filled = 0;
    for (nn::DftMelgram* layer : nn::modules_of_type<nn::DftMelgram>(model)) {
        const nn::DftMelgramOptions& o = layer->options();
        const int n_dft = static_cast<int>(o.n_dft), bins = n_dft / 2 + 1, n_mels = static_cast<int>(o.n_mels);
        const std::vector<float> window = dsp::make_window(dsp::WindowKind::hann, n_dft, true);
        nn::Tensor real({n_dft, bins}), imag({n_dft, bins});
        for (int n = 0; n < n_dft; ++n)
            for (int k = 0; k < bins; ++k) {
                // n * k reduced mod n_dft (in 64 bits) keeps the angle exact in double for any n_dft.
                const std::int64_t turn = static_cast<std::int64_t>(n) * k % n_dft;
                const double angle = 2.0 * std::numbers::pi * static_cast<double>(turn) / n_dft;
                real.data()[n * bins + k] = static_cast<float>(std::cos(angle) * window[n]);
                imag.data()[n * bins + k] = static_cast<float>(std::sin(angle) * window[n]);
            }
        const dsp::FloatMatrix bank =
            dsp::mel_filterbank({.sample_rate = static_cast<double>(sample_rate), .n_fft = n_dft, .n_mels = n_mels});
        nn::Tensor mel({bins, n_mels});
        for (int m = 0; m < n_mels; ++m)
            for (int k = 0; k < bins; ++k) mel.data()[k * n_mels + m] = bank(m, k);
        layer->set_transform(real, imag, mel);
        ++filled;
    }
    return filled;
}

int preset_sample_rate(const nn::models::TaggingModel& model) {
    const nlohmann::json front_end = model.front_end();
    const auto rate = front_end.find("sample_rate");
    if (rate == front_end.end() || !rate->is_number_integer())
        throw Error("preset " + model.preset().name, "its front end names no sample_rate: " + front_end.dump());
    return rate->get<int>();
}

std::shared_ptr<nn::models::TaggingModel> build_new_model(const nlohmann::json& spec, std::int64_t n_tags,
                                                          int sample_rate) {
    auto model = nn::models::build_model(spec, n_tags);
    fill_fixed_front_end(*model, sample_rate > 0 ? sample_rate : preset_sample_rate(*model));
    return model;
}

}  // namespace mtag::data
