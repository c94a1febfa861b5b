// End to end with the engine: a Linear tagger trained by BCE-with-logits through TrainingState (Adam,
// cosine schedule, early stopping on validation ROC-AUC), evaluated with nn/metrics.
#include "nn/layers/linear.hpp"
#include "nn/loss.hpp"
#include "nn/metrics.hpp"
#include "nn/optim/adam.hpp"
#include "nn/schedule/cosine.hpp"
#include "nn/train/training_state.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace mtag::nn;

TEST_CASE("training_loop: a linear tagger learns separable tags through TrainingState", "[training_state]") {
    constexpr int features = 12, tags = 4, train_clips = 256, val_clips = 128, batch = 32;
    std::mt19937_64 rng(11);
    std::normal_distribution<float> n01(0, 1);
    std::vector<float> truth(tags * features);
    for (float& v : truth) v = n01(rng);
    auto make = [&](int clips, Tensor& x, Tensor& y) {
        x = Tensor(Shape{clips, features});
        y = Tensor(Shape{clips, tags});
        for (int c = 0; c < clips; ++c) {
            for (int f = 0; f < features; ++f) x.at(c, f) = n01(rng);
            for (int t = 0; t < tags; ++t) {
                float s = 0.2f;
                for (int f = 0; f < features; ++f) s += truth[t * features + f] * x.at(c, f);
                y.at(c, t) = s > 0 ? 1.0f : 0.0f;
            }
        }
    };
    Tensor xtr, ytr, xval, yval;
    make(train_clips, xtr, ytr);
    make(val_clips, xval, yval);

    Linear model(LinearOptions{.in_features = features, .out_features = tags});
    for (Parameter* p : model.parameters())
        for (std::size_t i = 0; i < p->size(); ++i) p->data()[i] = 0.01f * n01(rng);
    TrainingStateOptions o;
    o.monitor = "val_roc_auc";
    o.early_stopping = {.mode = MonitorMode::max, .patience = 5};
    TrainingState st(std::make_unique<Adam>(model.parameters(), AdamOptions{.lr = 0.05}),
                     std::make_unique<CosineAnnealing>(CosineAnnealingOptions{.lr = 0.05, .t_max = 30}), o,
                     model.buffers());
    BCEWithLogitsLoss loss;
    double first_val_loss = 0, val_loss = 0;
    while (st.epoch() < 30 && !st.should_stop()) {
        model.train();
        double train_loss = 0;
        for (int b = 0; b < train_clips / batch; ++b) {
            st.zero_grad();
            const Tensor logits = model.forward(xtr.slice(b * batch, (b + 1) * batch));
            train_loss += loss.forward(logits, ytr.slice(b * batch, (b + 1) * batch));
            model.backward(loss.backward());
            st.optimizer_step();
        }
        model.eval();
        const Tensor logits = model.forward(xval);
        val_loss = loss.forward(logits, yval);
        if (st.epoch() == 0) first_val_loss = val_loss;
        const auto m = tagging_metrics({logits.span(), val_clips, tags}, {yval.span(), val_clips, tags});
        st.end_epoch({{"train_loss", train_loss / (train_clips / batch)},
                      {"val_loss", val_loss},
                      {"val_roc_auc", m.macro_roc_auc},
                      {"val_pr_auc", m.macro_average_precision}});
    }
    const auto& last = st.history().back();
    INFO(st.last_log_line());
    CHECK(st.early_stopping().best() > 0.98);
    CHECK(last.metrics.at("val_pr_auc") > 0.95);
    CHECK(val_loss < 0.5 * first_val_loss);
    CHECK(st.step() == st.epoch() * (train_clips / batch));
}
