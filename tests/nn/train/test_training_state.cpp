// nn/train/training_state: reload-best-and-decay with the Adam -> SGD switch, JSON log lines, and a
// resumed run that continues bit-identically.
#include "nn/train/training_state.hpp"

#include "nn/optim/adam.hpp"
#include "nn/schedule/cosine.hpp"
#include "nn/schedule/cyclic.hpp"
#include "nn/schedule/plateau.hpp"

#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <utility>

using namespace mtag;
using namespace mtag::nn;

namespace {

// A tiny model: two parameters whose gradients depend on their values and the batch index.
struct Model {
    Parameter w{"layer.weight", Shape{2, 3}};
    Parameter b{"layer.bias", Shape{3}, true};
    Buffer running{"layer.running_mean", Tensor(Shape{3}), false};  // like BatchNorm's, moved by forward
    explicit Model(float init) {
        for (std::size_t i = 0; i < w.size(); ++i) w.data()[i] = init + 0.1f * static_cast<float>(i);
        b.value.fill(-init);
        running.value.fill(init);
    }
    void gradients(int batch) {
        for (std::size_t i = 0; i < 3; ++i) running.value[i] = 0.9f * running.value[i] + 0.1f * w.data()[i];
        for (Parameter* p : {&w, &b})
            for (std::size_t i = 0; i < p->size(); ++i) {
                const float v = p->data()[i];
                p->grad_data()[i] =
                    v - 0.3f * static_cast<float>((batch + static_cast<int>(i)) % 5) + 0.05f * v * v * v;
            }
    }
    std::vector<float> values() const {
        std::vector<float> out(w.data(), w.data() + w.size());
        out.insert(out.end(), b.data(), b.data() + b.size());
        out.insert(out.end(), running.value.data(), running.value.data() + 3);
        return out;
    }
};

// Validation values that improve, stall, improve once more, then stall for good.
double val_loss(std::int64_t epoch) {
    static const double v[] = {1.0,  0.8,  0.7,  0.75, 0.72, 0.71, 0.65,
                               0.66, 0.67, 0.68, 0.69, 0.70, 0.71, 0.72};
    return v[epoch % 14];
}

std::unique_ptr<TrainingState> make_state(Model& m, bool with_schedule) {
    TrainingStateOptions o;
    o.monitor = "val_loss";
    o.early_stopping = {.mode = MonitorMode::min, .patience = with_schedule ? 20 : 2};
    o.max_grad_norm = 1.0;  // below the typical gradient norm (~2): clipping is exercised
    if (!with_schedule)
        o.reload_best = {.enabled = true, .lr_factor = 0.5, .max_reloads = 2, .switch_to_sgd_at = 1};
    std::unique_ptr<LrSchedule> sched;
    if (with_schedule) {
        o.schedule_unit = ScheduleUnit::batch;
        sched = std::make_unique<CosineAnnealing>(CosineAnnealingOptions{.lr = 0.02, .t_max = 40});
    }
    auto opt = std::make_unique<Adam>(std::vector<Parameter*>{&m.w, &m.b},
                                      AdamOptions{.lr = 0.02, .weight_decay = 1e-3});
    return std::make_unique<TrainingState>(std::move(opt), std::move(sched), o,
                                           std::vector<Buffer*>{&m.running});
}

void run_epochs(Model& m, TrainingState& st, std::int64_t until) {
    while (st.epoch() < until && !st.should_stop()) {
        for (int batch = 0; batch < 4; ++batch) {
            st.zero_grad();
            m.gradients(batch + 4 * static_cast<int>(st.epoch()));
            st.optimizer_step();
        }
        st.end_epoch({{"val_loss", val_loss(st.epoch())}, {"val_roc_auc", 0.5 + 0.01 * st.epoch()}});
    }
}

// Two checkpoints of one run: after 2 epochs and after 5.
std::pair<TrainingCheckpoint, TrainingCheckpoint> two_checkpoints() {
    Model m(0.5f);
    auto st = make_state(m, false);
    run_epochs(m, *st, 2);
    TrainingCheckpoint first = st->save();
    run_epochs(m, *st, 3);
    return {std::move(first), st->save()};
}

// An empty folder under the test scratch space.
std::filesystem::path empty_folder(const std::string& name) {
    const auto dir = std::filesystem::path(MTAG_TEST_TMP) / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("training_state: reload best and decay, switch Adam to SGD Nesterov, then stop",
          "[training_state]") {
    Model m(0.5f);
    auto st = make_state(m, false);
    run_epochs(m, *st, 30);
    // Epochs 0-2 improve, 3-4 stall -> reload 1 (switch to SGD); 5 and 6 improve; 7-8 stall -> reload 2;
    // 9-10 stall -> stop (max_reloads = 2).
    REQUIRE(st->should_stop());
    const auto& h = st->history();
    REQUIRE(h.size() == 11);
    auto has = [&](std::size_t e, const std::string& ev) {
        return std::find(h[e].events.begin(), h[e].events.end(), ev) != h[e].events.end();
    };
    CHECK(has(4, "reload_best"));
    CHECK(has(4, "switch_to_sgd"));
    CHECK(has(8, "reload_best"));
    CHECK_FALSE(has(8, "switch_to_sgd"));
    CHECK(has(10, "stop"));
    CHECK(st->optimizer().kind() == "sgd");
    CHECK(h[5].lr == Approx(1e-3));  // SGD's own rate after the switch
    CHECK(h[9].lr == Approx(5e-4));  // halved at the second reload
    CHECK(st->early_stopping().best() == 0.65);
}

TEST_CASE("training_state: restores the best weights when reloading", "[training_state]") {
    Model m(0.5f);
    auto st = make_state(m, false);
    std::vector<float> best;
    while (st->epoch() < 5) {
        for (int batch = 0; batch < 4; ++batch) {
            st->zero_grad();
            m.gradients(batch);
            st->optimizer_step();
        }
        const auto d = st->end_epoch({{"val_loss", val_loss(st->epoch())}});
        if (d.improved) best = m.values();
        if (d.reloaded) CHECK(m.values() == best);  // epoch 4: back to epoch 2's weights
    }
    CHECK(st->history().back().events.size() == 2);
}

TEST_CASE("training_state: one JSON log line per epoch", "[training_state]") {
    std::filesystem::create_directories(MTAG_TEST_TMP);
    const auto path = std::filesystem::path(MTAG_TEST_TMP) / "train_log.jsonl";
    std::filesystem::remove(path);
    Model m(0.5f);
    TrainingStateOptions o;
    o.monitor = "val_roc_auc";
    o.early_stopping = {.mode = MonitorMode::max, .patience = 5};
    o.log_path = path;
    TrainingState st(std::make_unique<Adam>(std::vector<Parameter*>{&m.w, &m.b}, AdamOptions{}), nullptr, o);
    for (int e = 0; e < 4; ++e)
        st.end_epoch({{"val_roc_auc", 0.6 + 0.05 * e}, {"train_loss", 1.0 / (e + 1)}});
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line);
        CHECK(j["epoch"] == n);
        CHECK(j["val_roc_auc"].get<double>() == Approx(0.6 + 0.05 * n));
        CHECK(j["events"][0] == "improved");
        CHECK(j["optimizer"] == "adam");
        ++n;
    }
    CHECK(n == 4);
    CHECK_THROWS_AS(st.end_epoch({{"val_loss", 1.0}}), Error);  // monitored metric missing
}

TEST_CASE("training_state: a resumed run continues bit-identically", "[training_state]") {
    for (const bool with_schedule : {false, true}) {
        INFO("schedule " << with_schedule);
        Model ref(0.5f);
        auto ref_state = make_state(ref, with_schedule);
        run_epochs(ref, *ref_state, 12);

        // Interrupted at epoch 6 (after the Adam -> SGD switch in the reload variant), saved through
        // JSON text, resumed into a fresh model with different initial values.
        Model first(0.5f);
        auto st = make_state(first, with_schedule);
        run_epochs(first, *st, 6);
        const TrainingCheckpoint saved = st->save();
        // Through the checkpoint file (safetensors + JSON metadata).
        std::filesystem::create_directories(MTAG_TEST_TMP);
        const auto path = std::filesystem::path(MTAG_TEST_TMP) / "training_state.safetensors";
        save_checkpoint(saved, path);
        const TrainingCheckpoint copy = load_checkpoint(path);
        CHECK(copy.tensors.size() == saved.tensors.size());
        Model resumed(-2.0f);
        auto st2 = make_state(resumed, with_schedule);
        st2->load(copy);
        CHECK(st2->epoch() == 6);
        run_epochs(resumed, *st2, 12);

        CHECK(resumed.values() == ref.values());
        CHECK(st2->optimizer().kind() == ref_state->optimizer().kind());
        CHECK(st2->history().size() == ref_state->history().size());
        CHECK(st2->last_log_line() == ref_state->last_log_line());
        if (with_schedule) CHECK(st2->schedule()->lr() == ref_state->schedule()->lr());
    }
}

TEST_CASE("training_state: options and checkpoints are validated", "[training_state]") {
    Model m(0.5f);
    TrainingStateOptions o;
    o.reload_best = {.enabled = true, .max_reloads = 2, .switch_to_sgd_at = 1};
    auto adam = [&] { return std::make_unique<Adam>(std::vector<Parameter*>{&m.w, &m.b}, AdamOptions{}); };
    CHECK_THROWS_AS(TrainingState(adam(), std::make_unique<CosineAnnealing>(CosineAnnealingOptions{}), o),
                    Error);
    o.reload_best.switch_to_sgd_at = 3;
    CHECK_THROWS_AS(TrainingState(adam(), nullptr, o), Error);
    TrainingStateOptions per_batch;
    per_batch.schedule_unit = ScheduleUnit::batch;
    CHECK_THROWS_AS(TrainingState(adam(), std::make_unique<ReduceOnPlateau>(ReduceOnPlateauOptions{}), per_batch),
                    Error);
    TrainingState ok(adam(), nullptr, TrainingStateOptions{});
    auto ck = ok.save();
    ck.tensors[0].second = Tensor(Shape{7});
    CHECK_THROWS_WITH(ok.load(ck), Catch::Contains("expected [2, 3]"));
}

TEST_CASE("training_state: a cycling schedule drives the optimizer's momentum (Adam beta1)",
          "[training_state]") {
    // Adam with OneCycleLr(cycle_momentum) must take the same steps as Adam whose lr and beta1 are set
    // by hand to the schedule's values before every step.
    Model a(0.5f), b(0.5f);
    TrainingStateOptions o;
    o.schedule_unit = ScheduleUnit::batch;
    o.early_stopping.patience = 100;
    TrainingState st(std::make_unique<Adam>(std::vector<Parameter*>{&a.w, &a.b}, AdamOptions{}),
                     std::make_unique<OneCycleLr>(OneCycleLrOptions{.max_lr = 0.05, .total_steps = 20}), o);
    OneCycleLr sched(OneCycleLrOptions{.max_lr = 0.05, .total_steps = 20});
    Adam manual(std::vector<Parameter*>{&b.w, &b.b}, AdamOptions{});
    for (int t = 0; t < 20; ++t) {
        a.gradients(t);
        b.gradients(t);
        st.optimizer_step();
        manual.set_lr(sched.lr());
        manual.set_momentum(*sched.momentum());
        manual.step();
        sched.step();
    }
    CHECK(a.values() == b.values());
    // A cycling schedule with an optimizer that has no momentum is refused when first applied.
    Model c(0.5f);
    CHECK_THROWS_AS(TrainingState(std::make_unique<Sgd>(std::vector<Parameter*>{&c.w}, SgdOptions{}),
                                  std::make_unique<CyclicLr>(CyclicLrOptions{}), TrainingStateOptions{}),
                    Error);
}

TEST_CASE("training_state: a save after a kill between its two renames leaves no link behind",
          "[training_state]") {
    const auto [first, second] = two_checkpoints();
    const auto path = empty_folder("checkpoint_relink") / "checkpoint.safetensors";
    const auto previous = previous_checkpoint_path(path);
    save_checkpoint(second, path);
    // The kill left "<path>.prev" as a second name of "<path>": POSIX rename() between two names of one
    // file does nothing, so the next save must remove its link itself.
    std::filesystem::create_hard_link(path, previous);
    save_checkpoint(first, path);
    CHECK(load_checkpoint(previous).scalars == second.scalars);
    CHECK(load_checkpoint(path).scalars == first.scalars);
    CHECK_FALSE(std::filesystem::exists(previous.string() + ".tmp"));
    CHECK(std::filesystem::hard_link_count(previous) == 1);
}

TEST_CASE("training_state: a corrupted checkpoint is detected by its checksum, the replaced one is kept",
          "[training_state]") {
    const auto [first, second] = two_checkpoints();
    const auto path = empty_folder("checkpoint_checksum") / "checkpoint.safetensors";
    save_checkpoint(first, path);
    CHECK_FALSE(std::filesystem::exists(previous_checkpoint_path(path)));
    save_checkpoint(second, path);
    // The replaced checkpoint is kept as "<path>.prev" and is the first one.
    REQUIRE(std::filesystem::exists(previous_checkpoint_path(path)));
    CHECK(load_checkpoint(previous_checkpoint_path(path)).scalars == first.scalars);
    CHECK(load_checkpoint(path).scalars == second.scalars);
    // The previous checkpoint is a hard link made under a temporary name and renamed: nothing of it is left.
    CHECK_FALSE(std::filesystem::exists(previous_checkpoint_path(path).string() + ".tmp"));
    CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));

    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::uint64_t header = 0;
    for (int i = 7; i >= 0; --i) header = header * 256 + static_cast<unsigned char>(bytes[i]);
    REQUIRE(8 + header < bytes.size());
    auto write = [&](const std::string& b) { std::ofstream(path, std::ios::binary | std::ios::trunc) << b; };
    SECTION("truncated") {
        write(bytes.substr(0, bytes.size() - 5));
        CHECK_THROWS_WITH(load_checkpoint(path), Catch::Contains("checkpoint.safetensors"));
    }
    SECTION("a flipped byte in the data") {
        std::string b = bytes;
        b[8 + header + (bytes.size() - 8 - header) / 2] ^= 0x10;
        write(b);
        CHECK_THROWS_WITH(load_checkpoint(path), Catch::Contains("is corrupted: checksum"));
    }
    SECTION("a flipped byte in the header (inside the state JSON, still valid JSON)") {
        std::string b = bytes;
        const auto at = b.find("val_loss");
        REQUIRE(at != std::string::npos);
        REQUIRE(at < 8 + header);
        b[at] = 'V';
        write(b);
        CHECK_THROWS_WITH(load_checkpoint(path), Catch::Contains("is corrupted: checksum"));
    }
    SECTION("every single flipped byte of the header is detected") {
        for (std::size_t i = 0; i < 8 + header; i += 7) {
            std::string b = bytes;
            b[i] ^= 0x01;
            write(b);
            INFO("byte " << i);
            CHECK_THROWS_AS(load_checkpoint(path), Error);
        }
    }
}
