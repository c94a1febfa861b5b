#include "nn/optim/factory.hpp"

#include "dsp/error.hpp"

namespace mtag::nn {

std::vector<std::string> optimizer_names() {
    return {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "adamw", "radam", "diffgrad", "adabelief"};
}

OptimizerConfig OptimizerConfig::named(const std::string& name) {
    OptimizerConfig c;
    c.name = name;
    if (name == "momentum") {
        c.sgd.momentum = 0.9;
    } else if (name == "nesterov") {
        c.sgd.momentum = 0.9;
        c.sgd.nesterov = true;
    } else if (name == "amsgrad") {
        c.adam.amsgrad = true;
    } else {
        bool known = false;
        for (const std::string& n : optimizer_names()) known = known || n == name;
        if (!known) {
            std::string list;
            for (const std::string& n : optimizer_names()) list += (list.empty() ? "" : ", ") + n;
            throw Error("optimizer 'name'", "got '" + name + "', expected one of " + list);
        }
    }
    return c;
}

namespace {

// Applies `f` to the options struct `name` selects.
template <class Config, class F>
decltype(auto) with_options(Config& c, F&& f) {
    const std::string& n = c.name;
    if (n == "sgd" || n == "momentum" || n == "nesterov") return f(c.sgd);
    if (n == "adagrad") return f(c.adagrad);
    if (n == "rmsprop") return f(c.rmsprop);
    if (n == "adam" || n == "amsgrad") return f(c.adam);
    if (n == "adamw") return f(c.adamw);
    if (n == "radam") return f(c.radam);
    if (n == "diffgrad") return f(c.diffgrad);
    if (n == "adabelief") return f(c.adabelief);
    throw Error("optimizer 'name'", "got '" + n + "'; see optimizer_names()");
}

}  // namespace

double OptimizerConfig::lr() const {
    return with_options(*this, [](const auto& o) { return o.lr; });
}

void OptimizerConfig::set_lr(double lr) {
    with_options(*this, [lr](auto& o) { o.lr = lr; });
}

double OptimizerConfig::weight_decay() const {
    return with_options(*this, [](const auto& o) { return o.weight_decay; });
}

WeightDecayMode OptimizerConfig::decay_mode() const {
    return with_options(*this, [](const auto& o) {
        if constexpr (requires { o.decay_mode; })
            return o.decay_mode;
        else
            return WeightDecayMode::decoupled;
    });
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& c, std::vector<ParamGroup> groups) {
    const std::string& n = c.name;
    if (n == "sgd" || n == "momentum" || n == "nesterov") return std::make_unique<Sgd>(std::move(groups), c.sgd);
    if (n == "adagrad") return std::make_unique<Adagrad>(std::move(groups), c.adagrad);
    if (n == "rmsprop") return std::make_unique<Rmsprop>(std::move(groups), c.rmsprop);
    if (n == "adam" || n == "amsgrad") return std::make_unique<Adam>(std::move(groups), c.adam);
    if (n == "adamw") return std::make_unique<AdamW>(std::move(groups), c.adamw);
    if (n == "radam") return std::make_unique<RAdam>(std::move(groups), c.radam);
    if (n == "diffgrad") return std::make_unique<DiffGrad>(std::move(groups), c.diffgrad);
    if (n == "adabelief") return std::make_unique<AdaBelief>(std::move(groups), c.adabelief);
    OptimizerConfig::named(n);  // throws listing the names
    throw Error("optimizer 'name'", "got '" + n + "'");
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& c, std::vector<Parameter*> fresh,
                                          std::vector<Parameter*> pretrained) {
    const double lr = c.lr();
    if (!(lr > 0)) throw Error("optimizer 'lr'", "got " + std::to_string(lr) + ", expected > 0");
    if (!(c.pretrained_lr_multiplier >= 0))
        throw Error("optimizer 'pretrained_lr_multiplier'", "got " + std::to_string(c.pretrained_lr_multiplier) + ", expected >= 0");
    std::vector<ParamGroup> groups;
    if (!pretrained.empty()) groups.push_back({std::move(pretrained), lr * c.pretrained_lr_multiplier, std::nullopt});
    if (!fresh.empty()) groups.push_back({std::move(fresh), std::nullopt, std::nullopt});
    if (groups.empty()) throw Error("optimizer", "no trainable parameters (everything frozen?)");
    return make_optimizer(c, std::move(groups));
}

}  // namespace mtag::nn
