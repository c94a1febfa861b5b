#pragma once
// Every optimizer of nn/optim by name, with all its options: the typed form of a training config's
// "optimizer" section and the one place that turns it into an Optimizer (used by the trainer, by
// `mtag bench optim` and by the tests alike).
//
// Names (PyTorch's classes, plus the common SGD variants under their textbook names):
//   sgd       plain SGD (torch.optim.SGD, momentum 0)      momentum  SGD with momentum 0.9 (and dampening)
//   nesterov  SGD with Nesterov momentum 0.9               adagrad   Duchi et al. 2011
//   rmsprop   RMSProp (momentum, centered)                 adam      Kingma & Ba 2015
//   amsgrad   Adam with AMSGrad (Reddi et al. 2018)        adamw     decoupled decay (Loshchilov & Hutter 2019)
//   radam     Liu et al. 2020                              diffgrad  Dubey et al. 2019
//   adabelief Zhuang et al. 2020
// Each name's options and defaults are those of its options struct (SgdOptions, AdamOptions, ...);
// visit() lists them, so parsing, writing and the README's reference all come from one list.
#include "nn/optim/adabelief.hpp"
#include "nn/optim/adagrad.hpp"
#include "nn/optim/adam.hpp"
#include "nn/optim/diffgrad.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/optim/radam.hpp"
#include "nn/optim/rmsprop.hpp"
#include "nn/optim/sgd.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mtag::nn {

// The names of WeightDecayMode as config values.
inline std::vector<std::pair<WeightDecayMode, const char*>> weight_decay_mode_names() {
    return {{WeightDecayMode::l2, "l2"}, {WeightDecayMode::l1, "l1"}, {WeightDecayMode::decoupled, "decoupled"}};
}

struct OptimizerConfig {
    std::string name = "adam";
    // The options of each class; only the one `name` selects is used (and visited).
    SgdOptions sgd;
    AdagradOptions adagrad;
    RmspropOptions rmsprop;
    AdamOptions adam;
    AdamWOptions adamw;
    RAdamOptions radam;
    DiffGradOptions diffgrad;
    AdaBeliefOptions adabelief;
    // Fine-tuning: parameters that came from --init-from train at lr * this.
    double pretrained_lr_multiplier = 1.0;

    // The defaults of `name` (e.g. "nesterov": SGD with momentum 0.9, nesterov true); throws mtag::Error
    // listing the names for an unknown one.
    static OptimizerConfig named(const std::string& name);

    // The base learning rate and weight decay of the selected class.
    double lr() const;
    void set_lr(double lr);
    double weight_decay() const;
    // How the selected class applies weight_decay (adamw: always decoupled).
    WeightDecayMode decay_mode() const;

    // Visits "name" first (a reader that changes it resets every option to that name's defaults), then
    // the selected class's options, then pretrained_lr_multiplier. V provides
    // field(key, value&, doc) and choice(key, enum&, names, doc).
    template <class V>
    void visit(V& v);
};

// "sgd", "momentum", ... in a stable order.
std::vector<std::string> optimizer_names();

// Builds the optimizer over explicit parameter groups (their own lr / weight decay kept).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::vector<ParamGroup> groups);
// Builds the optimizer over the trainable parameters: `pretrained` ones get lr * pretrained_lr_multiplier
// (fine-tuning), `fresh` ones the base rate. Throws mtag::Error naming the option when invalid or when
// there is nothing to train.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::vector<Parameter*> fresh,
                                          std::vector<Parameter*> pretrained = {});

// ---------------------------------------------------------------------------------------------------------------

namespace detail {

template <class V, class O>
void visit_common(V& v, O& o) {
    v.field("lr", o.lr, "learning rate");
    v.field("weight_decay", o.weight_decay, "weight decay coefficient");
    if constexpr (requires { o.decay_mode; })  // AdamW's decay is always decoupled
        v.choice("decay_mode", o.decay_mode, weight_decay_mode_names(),
                 "how weight_decay enters: added to the gradient (l2, torch), as its sign (l1), or shrinking the weights (decoupled, AdamW)");
    v.field("decay_bias_and_norm", o.decay_bias_and_norm,
            "also decay biases and BatchNorm scales (torch decays everything; mtag excludes them by default)");
}

template <class V, class O>
void visit_adam_like(V& v, O& o) {
    v.field("betas", o.betas, "coefficients of the running averages of the gradient and its square");
    v.field("eps", o.eps, "term added to the denominator for numerical stability");
}

}  // namespace detail

template <class V>
void OptimizerConfig::visit(V& v) {
    std::string n = name;
    v.field("name", n, "sgd | momentum | nesterov | adagrad | rmsprop | adam | amsgrad | adamw | radam | diffgrad | adabelief");
    if (n != name) *this = named(n);
    if (name == "sgd" || name == "momentum" || name == "nesterov") {
        detail::visit_common(v, sgd);
        v.field("momentum", sgd.momentum, "momentum factor");
        v.field("dampening", sgd.dampening, "dampening of the momentum buffer (0 for Nesterov)");
        v.field("nesterov", sgd.nesterov, "Nesterov momentum (Sutskever et al. 2013)");
    } else if (name == "adagrad") {
        detail::visit_common(v, adagrad);
        v.field("lr_decay", adagrad.lr_decay, "rate decay: lr / (1 + (t-1) lr_decay)");
        v.field("initial_accumulator_value", adagrad.initial_accumulator_value, "starting sum of squared gradients");
        v.field("eps", adagrad.eps, "term added to the denominator");
    } else if (name == "rmsprop") {
        detail::visit_common(v, rmsprop);
        v.field("alpha", rmsprop.alpha, "smoothing constant of the squared-gradient average");
        v.field("eps", rmsprop.eps, "term added to the denominator");
        v.field("momentum", rmsprop.momentum, "momentum factor");
        v.field("centered", rmsprop.centered, "normalise by the estimated variance (Graves 2013)");
    } else if (name == "adam" || name == "amsgrad") {
        detail::visit_common(v, adam);
        detail::visit_adam_like(v, adam);
        v.field("amsgrad", adam.amsgrad, "use the maximum of the second-moment estimates (Reddi et al. 2018)");
    } else if (name == "adamw") {
        detail::visit_common(v, adamw);
        detail::visit_adam_like(v, adamw);
        v.field("amsgrad", adamw.amsgrad, "use the maximum of the second-moment estimates");
    } else if (name == "radam") {
        detail::visit_common(v, radam);
        detail::visit_adam_like(v, radam);
    } else if (name == "diffgrad") {
        detail::visit_common(v, diffgrad);
        detail::visit_adam_like(v, diffgrad);
    } else {
        detail::visit_common(v, adabelief);
        detail::visit_adam_like(v, adabelief);
    }
    v.field("pretrained_lr_multiplier", pretrained_lr_multiplier,
            "fine-tuning: rate multiplier of the parameters loaded by --init-from");
}

}  // namespace mtag::nn
