#pragma once
// BatchNorm1d / BatchNorm2d with PyTorch semantics: training normalises with the batch mean and the
// BIASED batch variance, and updates running_mean/running_var with momentum 0.1 using the UNBIASED
// variance (n/(n-1)); eval (or a frozen layer) normalises with the running statistics. eps 1e-5.
// Parameters weight (gamma, init 1) and bias (beta, init 0); buffers running_mean (0), running_var (1),
// num_batches_tracked (int64 in files). ref: torch.nn.BatchNorm2d; Ioffe & Szegedy 2015.
//
// Two options for models imported from Keras 1 (ref: Keras 1.2 normalization.py BatchNormalization):
// - axis: the dim holding the features (default 1, PyTorch's channels). Dims before it are reduced like
//   the batch, dims after it like the spatial ones; negative counts from the end. Keras's axis=k is the
//   same k (its inference (x - mean) / sqrt(var + eps) * gamma + beta equals PyTorch's with running_var =
//   Keras's "running_std", which holds a variance); its eps default is 1e-3 and its momentum m is
//   PyTorch's 1 - m. Example, the CRNN's first BN over each time position of (N, 1, 96, 1440):
//   BatchNorm2d({.num_features = 1440, .eps = 1e-3, .axis = 3}).
// - use_batch_stats_in_eval: eval mode normalises with the current batch's own (biased) statistics and
//   back-propagates through them, as in training, without touching the running statistics (Keras 1
//   mode=2, used by Choi's compact convnet). Training is unchanged (running statistics are updated but
//   never used). track_running_stats = false behaves the same in eval but has no buffers to load.
//
// Synchronised statistics (torch.nn.SyncBatchNorm): with a StatReducer set, training sums the per-channel
// statistics over all data-parallel ranks, so K ranks with shards of a batch normalise exactly as one
// process with the whole batch. Forward: [count, sum_c...] is reduced, then the squared deviations about
// the GLOBAL mean (the same two passes as one process); the unbiased running variance uses the global
// count. Backward: [sum_g_c..., sum_gx_c...] is reduced before forming dx; the weight/bias gradients keep
// the LOCAL sums (the gradient synchroniser sums those over ranks). Every rank must call forward/backward
// on every BN layer in the same order (each call is a collective); eval mode never calls the reducer.
#include "nn/layers/activation.hpp"
#include "nn/module.hpp"

#include <functional>
#include <memory>
#include <span>

namespace mtag::nn {

struct BatchNormOptions {
    std::int64_t num_features = 1;
    double eps = 1e-5;
    double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch
    bool affine = true;
    bool track_running_stats = true;
    std::int64_t axis = 1;                 // the features' dim (see above); 1 = channels
    bool use_batch_stats_in_eval = false;  // Keras 1 mode=2 (see above)
};

// Shared implementation over (N, C, S) with S the product of the spatial dims.
class BatchNormBase : public Module {
  public:
    Tensor backward(const Tensor& grad_output) override;
    nlohmann::json config() const override;
    const BatchNormOptions& options() const { return m_options; }
    Parameter* weight() { return m_weight; }
    Parameter* bias() { return m_bias; }
    Tensor& running_mean() { return m_running_mean->value; }
    Tensor& running_var() { return m_running_var->value; }

    // In-place sum over ranks of a vector of doubles (a collective every rank calls in the same order).
    using StatReducer = std::function<void(std::span<double>)>;
    // Sets (or, with an empty function, clears) the reducer that makes training statistics global.
    void set_stat_reducer(StatReducer reducer) { m_reducer = std::move(reducer); }
    bool synchronized() const { return static_cast<bool>(m_reducer); }

    // Fusion with the activation that follows (nn/models/blocks.hpp's Chain sets it): forward applies
    // `activation` to each block of the output right after normalising it, while the block is still in
    // cache, where the two layers apart read and write the whole output twice more. The activation keeps
    // what its backward needs, as if its own forward had run. Only where the activation accepts the
    // layout (Activation::fuses_after); fused_activation_applied() tells whether the last forward did.
    void fuse_activation(const std::shared_ptr<Activation>& activation) { m_fused = activation; }
    bool fused_activation_applied() const { return m_fused_applied; }

  protected:
    BatchNormBase(const BatchNormOptions& options);
    // Normalises over every dim but the feature axis; throws unless input.rank() is one of `ranks` and
    // the feature axis holds num_features. `layout` names the expected input in the message ("(N, C, H, W)").
    Tensor normalize(const Tensor& input, std::initializer_list<int> ranks, const std::string& layout);

    BatchNormOptions m_options;

  private:
    Parameter* m_weight = nullptr;
    Parameter* m_bias = nullptr;
    Buffer* m_running_mean = nullptr;
    Buffer* m_running_var = nullptr;
    Buffer* m_num_batches = nullptr;
    // The last input (shared, not copied: x-hat is recomputed in backward, so BN holds no extra activation);
    // released by backward, so the layer before may reuse its buffer for the next batch.
    Tensor m_input;
    std::weak_ptr<Activation> m_fused;  // the next layer of the same Chain, which owns both
    bool m_fused_applied = false;
    Tensor m_mean;     // (C) mean used by the last forward
    Tensor m_inv_std;  // (C) 1/sqrt(var + eps) used by the last forward
    bool m_used_batch_stats = false;
    Tensor m_output;  // eval mode only: the output buffer reused from batch to batch
    Shape m_input_shape;
    StatReducer m_reducer;       // empty = local batch statistics
    std::vector<double> m_stats;  // reducer scratch: forward [count, sums | sq], backward [sum_g, sum_gx]
    std::vector<float> m_mean_f;  // forward: the batch mean per channel, as float (the deviations' centre)
    std::vector<float> m_coef;    // per-channel coefficients of the elementwise passes
    bool m_synced = false;        // the last forward reduced its statistics (so backward must too)
    double m_count = 0;           // values per channel behind the last training statistics (global when synced)
};

// Over (N, C) or (N, C, L).
class BatchNorm1d : public BatchNormBase {
  public:
    explicit BatchNorm1d(const BatchNormOptions& options) : BatchNormBase(options) {}
    Tensor forward(const Tensor& input) override;
    std::string type() const override { return "BatchNorm1d"; }
};

// Over (N, C, H, W).
class BatchNorm2d : public BatchNormBase {
  public:
    explicit BatchNorm2d(const BatchNormOptions& options) : BatchNormBase(options) {}
    Tensor forward(const Tensor& input) override;
    std::string type() const override { return "BatchNorm2d"; }
};

}  // namespace mtag::nn
