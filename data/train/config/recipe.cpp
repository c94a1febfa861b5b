#include "data/train/config/recipe.hpp"

#include "dsp/error.hpp"
#include "nn/models/zoo.hpp"

namespace mtag::data {

namespace {

bool cites(const nlohmann::json& recipe, const std::string& source) {
    return recipe.value("source", std::string()).find(source) != std::string::npos;
}

nn::OptimizerConfig sgd_nesterov(double lr, double weight_decay) {
    nn::OptimizerConfig o = nn::OptimizerConfig::named("nesterov");
    o.sgd.lr = lr;
    o.sgd.weight_decay = weight_decay;
    return o;
}

// Won et al. 2020: Adam (lr 1e-4, L2 1e-4) until epoch 80; then, reloading the best model each time, SGD
// lr 1e-3 Nesterov momentum 0.9 weight decay 1e-4, lr 1e-4 after 20 more epochs and 1e-5 after 20 more.
// ref: sota-music-tagging-models training/solver.py opt_schedule (drop_counter 80, 20, 20).
std::vector<nn::TrainingPhase> won2020_phases() {
    nn::TrainingPhase sgd{.trigger = nn::PhaseTrigger::epochs, .after = 80, .optimizer = sgd_nesterov(1e-3, 1e-4)};
    nn::TrainingPhase drop1{.trigger = nn::PhaseTrigger::epochs, .after = 20, .lr = 1e-4};
    nn::TrainingPhase drop2{.trigger = nn::PhaseTrigger::epochs, .after = 20, .lr = 1e-5};
    return {sgd, drop1, drop2};
}

// Lee et al. 2017 (and Kim et al. 2018): one Keras fit per rate 0.01, 0.002, 4e-4, 8e-5, 1.6e-5, each ended by
// EarlyStopping on validation loss after `patience` epochs, the next starting from the best weights with a
// fresh SGD (Nesterov momentum 0.9, Keras decay 1e-6 per step).
// ref: sampleCNN run_pubtaga_endToEnd_cnn_novalidgen.py (options.lr, lrdecay, patience 3); resemul train.py.
std::vector<nn::TrainingPhase> lee2017_phases(std::int64_t patience, double decay_per_step, double weight_decay) {
    std::vector<nn::TrainingPhase> phases;
    for (double lr : {0.002, 4e-4, 8e-5, 1.6e-5}) {
        nn::TrainingPhase p{.trigger = nn::PhaseTrigger::plateau, .after = patience,
                            .optimizer = sgd_nesterov(lr, weight_decay)};
        if (decay_per_step > 0) {
            p.schedule = nn::ScheduleConfig::named("inverse_time");
            p.schedule.unit = nn::ScheduleUnit::batch;
            p.schedule.inverse_time.k = decay_per_step;
        }
        phases.push_back(p);
    }
    return phases;
}

}  // namespace

Recipe preset_recipe(const std::string& preset) {
    const nn::models::PresetInfo info = nn::models::preset_info(preset);
    const nlohmann::json& r = info.optimizer;
    const std::string where = "recipe of preset " + preset;
    Recipe out;
    out.features = FrontEndConfig::from_json(info.front_end, where + " front end");
    // The model's n_mels decides the front end's bins.
    const nlohmann::json options = nn::models::preset_options(preset);
    if (!out.features.is_waveform() && options.contains("n_mels")) {
        dsp::FeatureConfig f = out.features.features();
        f.n_mels = options["n_mels"].get<int>();
        out.features = f;
    }
    try {
        out.optimizer = nn::OptimizerConfig::named(r.value("optimizer", std::string("adam")));
        out.optimizer.set_lr(r.value("lr", out.optimizer.lr()));
        if (out.optimizer.name == "sgd") {
            out.optimizer.sgd.weight_decay = r.value("weight_decay", 0.0);
            out.optimizer.sgd.momentum = r.value("momentum", 0.0);
            out.optimizer.sgd.nesterov = r.value("nesterov", false);
            if (out.optimizer.sgd.nesterov) out.optimizer.name = "nesterov";
            else if (out.optimizer.sgd.momentum > 0) out.optimizer.name = "momentum";
        } else if (out.optimizer.name == "adam") {
            out.optimizer.adam.weight_decay = r.value("weight_decay", 0.0);
        } else {
            throw Error(where, "optimizer '" + out.optimizer.name + "' has no recipe mapping (adam or sgd)");
        }
        out.batch_size = r.value("batch_size", std::size_t{16});
        out.epochs = r.value("epochs", std::int64_t{20});
        // Keras SGD's `decay`: lr / (1 + decay * iterations), i.e. inverse-time decay per optimizer step.
        const double decay = r.value("decay_per_step", 0.0);
        if (decay > 0) {
            out.schedule = nn::ScheduleConfig::named("inverse_time");
            out.schedule.unit = nn::ScheduleUnit::batch;
            out.schedule.inverse_time.k = decay;
        }
        if (cites(r, "sota-music-tagging-models training/solver.py")) {
            out.phases = won2020_phases();
            out.patience = 0;  // a fixed number of epochs, no early stopping
        } else if (cites(r, "jongpillee/sampleCNN")) {
            out.phases = lee2017_phases(3, decay, r.value("weight_decay", 0.0));
            out.patience = 3;
        } else if (cites(r, "tae-jun/resemul")) {
            out.phases = lee2017_phases(2, decay, r.value("weight_decay", 0.0));
            out.patience = 2;
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed: ") + e.what());
    }
    return out;
}

}  // namespace mtag::data
