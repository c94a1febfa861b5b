#pragma once
// TaggingModel: what every preset of nn/models is (cnn1d, fcn4/fcn5, short_chunk_cnn/_resnet,
// sample_cnn/_se): a chain of named stages grouped into "blocks", then one output Linear that gives
// LOGITS (N, n_tags) -- the sigmoid belongs to the loss (BCE with logits) and to the tagger.
//
// Input: a batch as the data layer stacks it, (N, n_mels, frames) for spectrogram models (dsp's
// [bins, frames] layout per clip) or (N, samples) for waveform models; 4-D (N, 1, n_mels, frames) and
// 3-D (N, 1, samples) are accepted too. The model views it as its first layer needs (no copy).
//
// Beyond forward/backward a TaggingModel gives the penultimate-layer embedding (`mtag tag
// --embeddings`), re-creates its output layer for another tag vocabulary (fine-tuning), freezes its
// first N blocks (`--freeze N`; frozen BatchNorm layers stay in eval mode) and states its preset's
// front end, chunk length, default optimizer recipe and source.
#include "nn/init.hpp"
#include "nn/models/activation_spec.hpp"
#include "nn/module.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

// What a preset states besides its layers.
struct PresetInfo {
    std::string name;      // "short_chunk_cnn"
    std::string family;    // "short_chunk"
    std::string citation;  // paper and reference code
    // Front end as FeatureConfig JSON keys (kind, sample_rate, n_fft, hop_length, n_mels, fmin, fmax,
    // htk, mel_norm, power, pad_mode, log, ...), or {"kind": "waveform", "sample_rate": ...}.
    nlohmann::json front_end;
    // Default training recipe of the paper / reference code: optimizer, lr, schedule, batch size, epochs.
    nlohmann::json optimizer;
};

// Won et al. 2020 (github.com/minzwon/sota-music-tagging-models), shared by their re-implementations of the
// FCN and short-chunk models: the log-mel front end at 16 kHz (n_fft 512, hop 256, htk mel without norm,
// power dB without top_db) with n_mels bands, and the training recipe of training/solver.py.
nlohmann::json sota_tagging_front_end(int n_mels);
nlohmann::json sota_tagging_recipe();

// One row of `mtag model show`.
struct LayerSummary {
    std::string name;         // dotted stage name ("layer3")
    std::string description;  // "Conv2d 128->256 k3x3 s1x1 p1x1, BatchNorm2d(256), ReLU, MaxPool2d(2x2)"
    Shape output;             // output shape for the summarised input
    std::size_t parameters = 0;
    int block = -1;  // block index (for --freeze), -1 for the output layer
};

class TaggingModel : public Module {
  public:
    // Logits (N, n_tags).
    Tensor forward(const Tensor& input) override;
    // Gradient w.r.t. the input in the caller's input shape (empty when input gradients are off or
    // the first blocks are frozen).
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "TaggingModel"; }
    // {"type": "TaggingModel", "preset": ..., "family": ..., "n_tags": ..., "options": {every option}}:
    // enough for nn::build_module to rebuild the same architecture from model.json.
    nlohmann::json config() const override;

    // Penultimate-layer features (the output layer's input), (N, embedding_size()). In eval mode
    // dropout is the identity, so this is exactly what the output layer sees at inference.
    Tensor embed(const Tensor& input);
    std::int64_t embedding_size() const { return m_embedding_size; }
    std::int64_t n_tags() const { return m_n_tags; }
    // Replaces the output layer by a new one for `n_tags` tags, initialised from `seed` with the model's
    // init scheme (fine-tuning on another vocabulary). The rest of the model is untouched.
    void reset_output(std::int64_t n_tags, std::uint64_t seed);
    // The output layer's parameters, and all the others: optimizer groups for fine-tuning (a learning-rate
    // multiplier on the pretrained part, a fresh head at the base rate).
    std::vector<Parameter*> output_parameters() { return m_output->parameters(); }
    std::vector<Parameter*> feature_parameters();
    // The output layer's name ("dense", "dense2").
    const std::string& output_name() const { return m_output_name; }

    // Number of blocks --freeze counts: the feature blocks, plus the hidden dense head as one last block
    // when the model has one. The output layer is never a block.
    int block_count() const { return m_block_count; }
    // Stage names of block b.
    std::vector<std::string> block_stages(int b) const;
    // Freezes blocks 0..n-1 (parameters get no gradient, BN uses running statistics) and unfreezes the
    // rest; n = 0 unfreezes everything. Throws when n > block_count().
    void freeze_blocks(int n);
    int frozen_blocks() const { return m_frozen_blocks; }

    // True when an example's output depends on the other examples of its batch even in eval mode (Keras 1
    // mode-2 BatchNorm): inference must then run one example per forward pass.
    bool batch_dependent() const;

    // The preset's native input for a batch: (batch, n_mels, frames) or (batch, samples).
    Shape input_shape(std::int64_t batch = 1) const;
    // Samples of audio one input chunk covers at front_end()["sample_rate"].
    std::int64_t chunk_samples() const;
    double chunk_seconds() const;
    // The preset's front end with the model's n_mels (FeatureConfig JSON keys), chunk length included.
    nlohmann::json front_end() const;
    const PresetInfo& preset() const { return m_info; }
    // The full (validated) option set of the family, as JSON.
    const nlohmann::json& options() const { return m_options; }

    // Called during backward() right after each stage (and the output layer) finished its backward, i.e. when
    // that module's parameter gradients are final: lets data-parallel training start all-reducing them while
    // earlier stages still compute (data/distributed/grad_sync.hpp). Empty = no calls.
    using BackwardObserver = std::function<void(Module&)>;
    void set_backward_observer(BackwardObserver observer) { m_backward_observer = std::move(observer); }

    // Initialises every parameter from `seed` with the init scheme of options()["init"] (an nn::init::InitSpec:
    // weights by the scheme, biases 0 or torch's U(+-1/sqrt(fan_in)), BatchNorm 1 and 0).
    void initialize(std::uint64_t seed);
    // The init scheme of options()["init"] (he_normal when absent).
    init::InitSpec init_spec() const;

    // Runs a zero input of input_shape(batch) (or `input` if given) in eval mode and lists every stage
    // with its output shape and parameter count; restores the previous mode.
    std::vector<LayerSummary> summarize(std::int64_t batch = 1);

  protected:
    // `view`: per-sample shape the first stage wants, one dim may be -1 (e.g. {1, n_mels, -1}).
    TaggingModel(PresetInfo info, nlohmann::json options, std::int64_t n_tags, Shape view);

    // Appends a stage; block >= 0 numbers the block it belongs to (stages of one block are frozen
    // together), -1 marks a parameter-free stage that joins the block before it.
    void add_stage(const std::string& name, std::shared_ptr<Module> module, int block);
    // Creates the output Linear (embedding_size -> n_tags); call once after the stages.
    void set_output(const std::string& name, std::int64_t embedding_size);
    // The classifier head after global pooling (ref: sota-music-tagging-models model.py, ShortChunkCNN
    // and SampleCNN): when dense > 0, dense1 (features -> dense), bn (BatchNorm1d), relu in block
    // `block`; then dropout (if > 0) in `dropout_block`; then the output Linear, "dense2" after a
    // hidden layer, else "dense". Call once, after the pooling stage. `activation` replaces the ReLU (the
    // stage is named after it; a maxout makes dense1 and bn `pieces` times wider).
    void add_classifier_head(std::int64_t features, std::int64_t dense, double dropout, int block,
                             int dropout_block, const ActivationSpec& activation = {});

    struct Stage {
        std::string name;
        std::shared_ptr<Module> module;
        int block = 0;
    };
    const std::vector<Stage>& stages() const { return m_stages; }
    // The features path; models with taps or skips (sample_cnn_se's multi-level aggregation) override
    // both. `observe` (may be empty) is told each stage's output, for summarize().
    using Observer = std::function<void(const Stage&, const Tensor&)>;
    virtual Tensor features_forward(const Tensor& x, const Observer& observe);
    virtual Tensor features_backward(const Tensor& grad);
    // Sets input_grad on each stage: off for frozen stages and for the first trainable one when the
    // caller needs no input gradient. Call at the start of features_forward.
    void route_input_grads();
    // Runs stage i's backward and tells the backward observer; overrides of features_backward use it too.
    Tensor backward_stage(std::size_t i, const Tensor& grad);

  private:
    PresetInfo m_info;
    nlohmann::json m_options;
    std::int64_t m_n_tags;
    Shape m_view;
    std::vector<Stage> m_stages;
    int m_block_count = 0;
    int m_frozen_blocks = 0;
    std::string m_output_name;
    std::shared_ptr<Module> m_output;
    std::int64_t m_embedding_size = 0;
    Shape m_input_shape;  // the caller's shape of the last forward input
    BackwardObserver m_backward_observer;
};

}  // namespace mtag::nn::models
