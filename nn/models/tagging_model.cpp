#include "nn/models/tagging_model.hpp"

#include "dsp/error.hpp"
#include "nn/inference_mode.hpp"
#include "nn/init.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/linear.hpp"
#include "nn/models/blocks.hpp"
#include "nn/profile.hpp"

namespace mtag::nn::models {

TaggingModel::TaggingModel(PresetInfo info, nlohmann::json options, std::int64_t n_tags, Shape view)
    : m_info(std::move(info)), m_options(std::move(options)), m_n_tags(n_tags), m_view(view) {
    if (n_tags < 1)
        throw Error("model " + m_info.name, "n_tags = " + std::to_string(n_tags) + ", expected >= 1");
}

void TaggingModel::add_stage(const std::string& name, std::shared_ptr<Module> module, int block) {
    if (m_output) throw Error("model " + m_info.name, "stage '" + name + "' added after the output layer");
    if (block < 0) block = std::max(0, m_block_count - 1);
    register_module(name, module);
    m_stages.push_back({name, std::move(module), block});
    m_block_count = std::max(m_block_count, block + 1);
}

void TaggingModel::set_output(const std::string& name, std::int64_t embedding_size) {
    m_output_name = name;
    m_embedding_size = embedding_size;
    m_output = register_module(name, std::make_shared<Linear>(LinearOptions{embedding_size, m_n_tags}));
}

void TaggingModel::add_classifier_head(std::int64_t features, std::int64_t dense, double dropout, int block,
                                       int dropout_block, const ActivationSpec& activation) {
    if (dense > 0) {
        const std::int64_t wide = dense * activation.width();
        add_stage("dense1", std::make_shared<Linear>(LinearOptions{features, wide}), block);
        add_stage("bn", std::make_shared<BatchNorm1d>(BatchNormOptions{.num_features = wide}), block);
        add_stage(activation.name(), make_activation(activation), block);
        features = dense;
    }
    if (dropout > 0)
        add_stage("dropout", std::make_shared<Dropout>(DropoutOptions{dropout, 1}), dropout_block);
    set_output(dense > 0 ? "dense2" : "dense", features);
}

namespace {
// Reseeds every dropout layer below `m` from `seed` (one stream per layer, in tree order).
void seed_dropouts(Module& m, std::uint64_t seed, std::uint64_t& counter) {
    if (auto* d = dynamic_cast<Dropout*>(&m)) d->seed(seed * 1000003ULL + ++counter);
    for (const auto& [name, child] : m.children()) seed_dropouts(*child, seed, counter);
}
}  // namespace

init::InitSpec TaggingModel::init_spec() const {
    return m_options.contains("init") ? m_options["init"].get<init::InitSpec>() : init::InitSpec{};
}

void TaggingModel::initialize(std::uint64_t seed) {
    init::initialize(*this, init_spec().options(seed));
    std::uint64_t counter = 0;
    seed_dropouts(*this, seed, counter);
}

void TaggingModel::reset_output(std::int64_t n_tags, std::uint64_t seed) {
    if (n_tags < 1)
        throw Error("model " + m_info.name,
                    "reset_output: n_tags = " + std::to_string(n_tags) + ", expected >= 1");
    auto layer = std::make_shared<Linear>(LinearOptions{m_embedding_size, n_tags});
    init::initialize(*layer, init_spec().options(seed));
    m_output = replace_module(m_output_name, std::shared_ptr<Module>(layer));
    m_n_tags = n_tags;
}

bool TaggingModel::batch_dependent() const {
    for (const Stage& s : m_stages)
        for (BatchNormBase* bn : modules_of_type<BatchNormBase>(*s.module))
            if (bn->options().use_batch_stats_in_eval) return true;
    return false;
}

std::vector<Parameter*> TaggingModel::feature_parameters() {
    std::vector<Parameter*> out;
    for (Stage& s : m_stages)
        for (Parameter* p : s.module->parameters()) out.push_back(p);
    return out;
}

std::vector<std::string> TaggingModel::block_stages(int b) const {
    std::vector<std::string> out;
    for (const Stage& s : m_stages)
        if (s.block == b) out.push_back(s.name);
    return out;
}

void TaggingModel::freeze_blocks(int n) {
    if (n < 0 || n > m_block_count)
        throw Error("model " + m_info.name, "cannot freeze " + std::to_string(n) + " blocks: it has " +
                                                std::to_string(m_block_count) + " (0.." +
                                                std::to_string(m_block_count) + " allowed)");
    for (Stage& s : m_stages) s.module->freeze(s.block < n);
    m_frozen_blocks = n;
}

void TaggingModel::route_input_grads() {
    bool needed = input_grad();  // does anything below stage i need d loss / d (input of stage i)?
    for (Stage& s : m_stages) {
        s.module->set_input_grad(needed);
        if (!needed)
            for (Parameter* p : s.module->parameters())
                if (p->requires_grad) {
                    needed = true;
                    break;
                }
    }
}

Tensor TaggingModel::features_forward(const Tensor& x, const Observer& observe) {
    route_input_grads();
    Tensor h = x;
    for (Stage& s : m_stages) {
        const InputDonation lent(*s.module, h, &s != &m_stages.front());  // h is reassigned: never read again
        h = profiled(*s.module, h, false);
        if (observe) observe(s, h);
    }
    return h;
}

Tensor TaggingModel::features_backward(const Tensor& grad) {
    Tensor g = grad;
    for (std::size_t i = m_stages.size(); i-- > 0;) {
        if (!g.defined()) break;
        g = backward_stage(i, g);
    }
    return g;
}

Tensor TaggingModel::backward_stage(std::size_t i, const Tensor& grad) {
    Tensor g = profiled(*m_stages[i].module, grad, true);
    if (m_backward_observer) m_backward_observer(*m_stages[i].module);
    return g;
}

namespace {
Tensor view_input(const Tensor& input, const Shape& per_sample, const std::string& model) {
    // Compare the dims after the batch with the per-sample shape, ignoring leading 1s on both sides:
    // (N, 128, T), (N, 1, 128, T) fit {1, 128, -1}; (N, 96, T) does not, even when the sizes divide.
    std::vector<std::int64_t> want, got;
    for (int i = 0; i < per_sample.rank(); ++i)
        if (!(want.empty() && per_sample[i] == 1)) want.push_back(per_sample[i]);
    for (int i = 1; i < input.rank(); ++i)
        if (!(got.empty() && input.dim(i) == 1)) got.push_back(input.dim(i));
    bool fits = input.rank() >= 2 && input.dim(0) >= 1 && got.size() == want.size();
    for (std::size_t k = 0; fits && k < want.size(); ++k)
        fits = got[k] >= 1 && (want[k] < 0 || want[k] == got[k]);
    if (!fits)
        throw Error("model " + model, "input shape " + input.shape().str() + " does not fit (N, " +
                                          per_sample.str() + ") (-1 = any length; leading 1s optional)");
    Shape full{input.dim(0)};
    for (int i = 0; i < per_sample.rank(); ++i) full = full.appended(per_sample[i]);
    return input.view(full);
}
}  // namespace

Tensor TaggingModel::embed(const Tensor& input) {
    m_input_shape = input.shape();
    return features_forward(view_input(input, m_view, m_info.name), {});
}

Tensor TaggingModel::forward(const Tensor& input) {
    const Tensor e = embed(input);
    m_output->set_input_grad(true);
    return profiled(*m_output, e, false);
}

Tensor TaggingModel::backward(const Tensor& grad_output) {
    Tensor go = profiled(*m_output, grad_output, true);
    if (m_backward_observer) m_backward_observer(*m_output);
    Tensor g = features_backward(go);
    if (!g.defined() || !input_grad()) return {};
    return g.view(m_input_shape);
}

Shape TaggingModel::input_shape(std::int64_t batch) const {
    if (m_options.contains("input_samples")) return {batch, m_options["input_samples"].get<std::int64_t>()};
    return {batch, m_options.at("n_mels").get<std::int64_t>(),
            m_options.at("input_frames").get<std::int64_t>()};
}

std::int64_t TaggingModel::chunk_samples() const {
    if (m_options.contains("input_samples")) return m_options["input_samples"].get<std::int64_t>();
    // Centred frames (librosa/torchaudio center=True): frames = 1 + samples / hop.
    return (m_options.at("input_frames").get<std::int64_t>() - 1) *
           m_info.front_end.at("hop_length").get<std::int64_t>();
}

double TaggingModel::chunk_seconds() const {
    return static_cast<double>(chunk_samples()) / m_info.front_end.at("sample_rate").get<double>();
}

nlohmann::json TaggingModel::front_end() const {
    nlohmann::json f = m_info.front_end;
    if (m_options.contains("n_mels") && f.contains("n_mels")) f["n_mels"] = m_options["n_mels"];
    return f;
}

nlohmann::json TaggingModel::config() const {
    return {{"type", type()},
            {"preset", m_info.name},
            {"family", m_info.family},
            {"n_tags", m_n_tags},
            {"options", m_options},
            {"front_end", front_end()},
            {"chunk_samples", chunk_samples()}};
}

std::vector<LayerSummary> TaggingModel::summarize(std::int64_t batch) {
    const bool was_training = is_training();
    eval();
    const bool grads = input_grad();
    set_input_grad(false);
    std::vector<LayerSummary> rows;
    const Tensor x = Tensor::zeros(input_shape(batch));
    const Tensor e =
        features_forward(view_input(x, m_view, m_info.name), [&](const Stage& s, const Tensor& out) {
            rows.push_back({s.name, describe(*s.module), out.shape(), s.module->parameter_count(), s.block});
        });
    const Tensor y = m_output->forward(e);
    rows.push_back({m_output_name, describe(*m_output), y.shape(), m_output->parameter_count(), -1});
    set_input_grad(grads);
    train(was_training);
    if (m_frozen_blocks > 0) freeze_blocks(m_frozen_blocks);
    return rows;
}

nlohmann::json sota_tagging_front_end(int n_mels) {
    return {{"kind", "logmel"},  {"sample_rate", 16000}, {"n_fft", 512},    {"hop_length", 256},
            {"n_mels", n_mels},  {"fmin", 0.0},          {"fmax", 8000.0},  {"htk", true},
            {"mel_norm", "none"}, {"power", 2.0},        {"pad_mode", "reflect"}, {"log", "db"},
            {"ref", 1.0},        {"amin", 1e-10},        {"top_db", -1.0}};
}

nlohmann::json sota_tagging_recipe() {
    return {{"optimizer", "adam"},
            {"lr", 1e-4},
            {"weight_decay", 1e-4},
            {"batch_size", 16},
            {"epochs", 200},
            {"then",
             "after 80 epochs: reload best, SGD lr 1e-3 momentum 0.9 nesterov weight_decay 1e-4; "
             "lr 1e-4 after 20 more epochs, 1e-5 after 20 more (reload best at each switch)"},
            {"source", "sota-music-tagging-models training/solver.py, main.py"}};
}

}  // namespace mtag::nn::models
