#include "data/train/train_step.hpp"

#include "data/train/validation.hpp"
#include "dsp/error.hpp"

#include <cmath>
#include <iostream>

namespace mtag::data {

namespace {

bool all_gradients_finite(nn::Module& model) {
    for (nn::Parameter* p : model.parameters()) {
        if (!p->requires_grad) continue;
        const float* g = p->grad.data();
        for (std::int64_t i = 0; i < p->grad.shape().numel(); ++i)
            if (!std::isfinite(g[i])) return false;
    }
    return true;
}

// Every buffer (BatchNorm running statistics) before a step, so that a batch skipped for a non-finite loss
// leaves no trace in them: its forward pass already folded its (NaN) batch statistics in.
std::vector<nn::Tensor> snapshot_buffers(nn::Module& model) {
    std::vector<nn::Tensor> out;
    for (nn::Buffer* b : model.buffers()) out.push_back(b->value.clone());
    return out;
}

void restore_buffers(nn::Module& model, const std::vector<nn::Tensor>& saved) {
    const auto buffers = model.buffers();
    for (std::size_t i = 0; i < buffers.size() && i < saved.size(); ++i) buffers[i]->value.copy_from(saved[i]);
}

}  // namespace

TrainStep::TrainStep(nn::models::TaggingModel& model, nn::TrainingState& state, TrainStepOptions options,
                     dist::Communicator* comm, dist::GradientSynchronizer* sync)
    : m_model(model), m_state(state), m_options(std::move(options)), m_comm(comm), m_sync(sync),
      m_dropouts(nn::modules_of_type<nn::Dropout>(model)),
      m_bce(nn::BCEWithLogitsOptions{.pos_weight = {}, .label_smoothing = m_options.label_smoothing}),
      m_ce(nn::CrossEntropyOptions{.label_smoothing = m_options.label_smoothing}) {}

void TrainStep::seed_dropouts(std::int64_t epoch, std::size_t b) {
    for (std::size_t d = 0; d < m_dropouts.size(); ++d) {
        const std::uint64_t seed =
            example_seed(m_options.seed ^ 0x64726f70ULL, static_cast<std::uint64_t>(epoch), b * 64 + d);
        // Each rank draws its own masks (the same seed would repeat one mask pattern per shard).
        m_dropouts[d]->seed(m_comm ? example_seed(seed, static_cast<std::uint64_t>(m_comm->rank()),
                                                  static_cast<std::uint64_t>(m_comm->size()))
                                   : seed);
    }
}

std::pair<double, bool> TrainStep::forward_backward(const Batch& batch, std::int64_t epoch, std::size_t b) {
    const auto n = static_cast<std::int64_t>(batch.size());
    nn::Tensor x = nn::Tensor::from(m_model.input_shape(n), batch.inputs);
    if (m_options.batch_hook) m_options.batch_hook(epoch, b, x);
    seed_dropouts(epoch, b);
    const nn::Tensor y = m_model.forward(x);
    double loss;
    nn::Tensor grad;
    if (m_options.single_label) {
        loss = m_ce.forward(y, argmax_rows(batch.targets, m_options.n_tags));
        grad = m_ce.backward();
    } else {
        loss = m_bce.forward(y, nn::Tensor::from({n, static_cast<std::int64_t>(m_options.n_tags)}, batch.targets));
        grad = m_bce.backward();
    }
    const bool finite = std::isfinite(loss);
    // Synchronised BatchNorm: backward holds collectives, so every rank runs it (the step is skipped by all
    // when any loss is not finite).
    if (finite || (m_comm && m_options.sync_batchnorm)) {
        if (m_comm) {
            // d(mean over the global batch)/d(logits) = d(mean over the shard) * n_local / n_global.
            const float scale = static_cast<float>(batch.size()) / static_cast<float>(batch.global_size);
            float* g = grad.data();
            for (std::size_t i = 0; i < grad.size(); ++i) g[i] *= scale;
        }
        m_model.backward(grad);
    }
    return {m_comm ? loss * static_cast<double>(batch.size()) : loss, finite};
}

StepOutcome TrainStep::run(const Batch& batch, std::int64_t epoch, std::size_t b) {
    const std::size_t n_global = m_comm ? batch.global_size : batch.size();
    m_state.zero_grad();
    if (m_sync) m_sync->begin_step();
    const std::vector<nn::Tensor> saved_buffers =
        m_options.skip_non_finite ? snapshot_buffers(m_model) : std::vector<nn::Tensor>{};
    double loss = 0;
    bool finite = true;
    if (batch.size() > 0) std::tie(loss, finite) = forward_backward(batch, epoch, b);
    std::string what;  // why the step is not finite, for the message
    if (m_comm) {
        // The global mean loss, the non-finite count and the stop requests, agreed by all ranks.
        double shared[3] = {finite ? loss : 0.0, finite ? 0.0 : 1.0,
                            m_options.stop && m_options.stop->load() ? 1.0 : 0.0};
        const double blocked_before = m_comm->blocked_seconds();
        m_sync->finish();
        m_comm->allreduce_sum(std::span<double>(shared, 3), "loss all-reduce");
        m_comm_wait += m_comm->blocked_seconds() - blocked_before;
        m_stop_agreed = shared[2] > 0;
        loss = shared[0] / static_cast<double>(n_global);
        finite = shared[1] == 0 && std::isfinite(loss);
        if (!finite) what = "loss is not finite on " + std::to_string(static_cast<int>(shared[1])) + " rank(s)";
    } else if (!finite) {
        what = "loss is " + std::to_string(loss);
    }
    if (finite && !all_gradients_finite(m_model)) {
        finite = false;
        what = "loss is finite but a gradient is not";
    }
    if (!finite) {
        if (!m_options.skip_non_finite) throw_non_finite(what, epoch, b);
        restore_buffers(m_model, saved_buffers);
        if (!m_options.quiet)
            std::cerr << "warning: non-finite loss or gradient at epoch " << epoch + 1 << ", step " << m_state.step() + 1
                      << " (batch " << b << "): batch skipped\n";
        m_state.zero_grad();
        return {.skipped = true};
    }
    m_state.optimizer_step();
    if (m_comm && m_options.check_every > 0 && m_state.step() % static_cast<std::int64_t>(m_options.check_every) == 0)
        dist::check_parameters_agree(*m_comm, m_model, m_state.step());
    return {.skipped = false, .loss = loss, .examples = n_global};
}

void TrainStep::throw_non_finite(const std::string& what, std::int64_t epoch, std::size_t b) const {
    const std::string where = m_comm ? ", data-parallel over " + std::to_string(m_comm->size()) + " ranks" : "";
    throw NonFiniteLoss("training", what + " at epoch " + std::to_string(epoch + 1) + ", step " +
                                std::to_string(m_state.step() + 1) + " (batch " + std::to_string(b) + where +
                                "); stopped, keeping the last good checkpoint " + m_options.checkpoint.string() +
                                " and the best model. Lower the learning rate, set max_grad_norm, or set nan_policy "
                                "\"skip\"");
}

}  // namespace mtag::data
