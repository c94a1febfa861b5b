#pragma once
// Inference mode (torch.inference_mode): forward passes that no backward pass will follow.
//
// Why: a layer's forward keeps what its backward needs (its input, a reused output buffer), in eval mode
// too, because eval-mode backward is legitimate (frozen BatchNorm while fine-tuning, gradient checks). For
// tagging, every layer then pinned its input and its output from one batch to the next: the whole
// network's activations stayed resident per session, twice over where a kept input stopped the producer
// from reusing its buffer. While an InferenceMode guard lives on a thread, layers forwarding on that thread
// keep nothing for backward and allocate their outputs afresh, so an activation is freed (back to the
// storage cache, nn/storage_allocator.hpp) as soon as the next layer has consumed it: a session's peak is
// the largest input + output pair, not the sum over layers. Results are bit-identical (same kernels, other
// buffers). A backward after such a forward throws mtag::Error. Like PyTorch's guard, it is per thread.
#include "nn/tensor.hpp"

namespace mtag::nn {

// True while an InferenceMode guard with on = true is the innermost one alive on the calling thread.
bool inference_mode();

// Switches inference mode on (or off) for the calling thread until destroyed; guards nest.
class InferenceMode {
  public:
    explicit InferenceMode(bool on = true);
    ~InferenceMode();
    InferenceMode(const InferenceMode&) = delete;
    InferenceMode& operator=(const InferenceMode&) = delete;

  private:
    bool m_previous;
};

class Module;

// Lends `input` to `layer`'s next forward call (while alive, on this thread, when `on`): a container that will
// not read `input` again lets that layer overwrite it. Chain, Sequential and the model's stage loop lend each
// layer after the first the tensor the previous one returned, which nobody else holds in inference mode:
// BatchNorm then normalises in place, one activation-sized buffer less at the peak (conv output + BN output
// was the largest pair). Only the named layer may take it: a container lent a tensor that hands it on to its
// own children (Residual, whose shortcut reads it again) does not lend it further.
class InputDonation {
  public:
    InputDonation(const Module& layer, const Tensor& input, bool on = true);
    ~InputDonation();
    InputDonation(const InputDonation&) = delete;
    InputDonation& operator=(const InputDonation&) = delete;

  private:
    const Module* m_previous_layer;
    const float* m_previous_data;
};

// True when `layer` may write its output over `input`: inference mode, `input` lent to `layer` (InputDonation)
// and its storage held by no one else.
bool may_overwrite_input(const Module& layer, const Tensor& input);

// A layer's output buffer: in inference mode a fresh tensor the layer does not keep (`cache` is dropped);
// otherwise `cache` reused from call to call (reuse_or_allocate).
Tensor output_buffer(Tensor& cache, const Shape& shape);

// What a layer keeps of `t` for backward: `t` itself, or nothing in inference mode.
inline Tensor saved_for_backward(const Tensor& t) { return inference_mode() ? Tensor() : t; }

// The message of a backward() that finds nothing saved: before forward(), twice, or after inference mode.
inline constexpr const char* nothing_saved_message =
    "backward() without a forward() that kept its input: called before forward(), twice for one forward, or "
    "after a forward in inference mode (nn::InferenceMode keeps nothing for backward)";

}  // namespace mtag::nn
