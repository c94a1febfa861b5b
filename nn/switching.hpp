#pragma once
// nn::Switching: the mixin of a layer whose forward pass makes a discrete choice per element: ReLU and
// LeakyReLU (x > 0), max pooling, global max pooling and Maxout (which input is the maximum). Such a layer is
// piecewise smooth; backward differentiates the piece that contains the last forward's input.
//
// freeze_switches(true) makes forward() reuse the choices recorded by the last forward pass made while not
// frozen (the ReLU mask, the argmax) instead of choosing again: the layer becomes the smooth function of that
// piece (ReLU: x -> mask * x, max pooling: x -> x[argmax]). A finite-difference check (nn/model_gradcheck)
// freezes the switches after its base forward/backward pass, so its perturbed forward passes differentiate the
// same function backward did, and a step that crosses a kink (two nearly equal maxima, an activation near 0)
// no longer spoils the difference quotient. A frozen layer needs the same input shape as the pass that recorded
// its choices (throws mtag::Error otherwise). Training and inference never freeze.
//
// Layers without a kink (Sigmoid, Tanh, BatchNorm, convolutions) are not Switching. ELU (alpha 1) is
// continuously differentiable and needs no freezing; Keras-1 hard-sigmoid gates inside GRU/LSTM are not frozen.
#include "nn/module.hpp"

#include <vector>

namespace mtag::nn {

class Switching {
  public:
    virtual ~Switching() = default;
    void freeze_switches(bool frozen) { m_switches_frozen = frozen; }
    bool switches_frozen() const { return m_switches_frozen; }

  private:
    bool m_switches_frozen = false;
};

// Freezes every Switching layer of a model for its lifetime (unfreezes them again on destruction, also when an
// exception leaves the scope). Construct it after the forward pass whose choices are to be kept.
class FrozenSwitches {
  public:
    explicit FrozenSwitches(Module& model) : m_layers(modules_of_type<Switching>(model)) {
        for (Switching* s : m_layers) s->freeze_switches(true);
    }
    ~FrozenSwitches() {
        for (Switching* s : m_layers) s->freeze_switches(false);
    }
    FrozenSwitches(const FrozenSwitches&) = delete;
    FrozenSwitches& operator=(const FrozenSwitches&) = delete;
    std::size_t size() const { return m_layers.size(); }

  private:
    std::vector<Switching*> m_layers;
};

}  // namespace mtag::nn
