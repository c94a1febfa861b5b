// Tests data/trainer's data parallelism and data/distributed/* under `mpirun -np 2` (tests/mpi_tests.cmake):
// 2 ranks x half batch train to the same weights as 1 process x full batch (a model without BatchNorm and
// dropout, equal and unequal shards), the weights are bit-identical on every rank, only rank 0 writes the
// run directory, and an interrupted data-parallel run resumes to the weights of an uninterrupted one.
// With BatchNorm, synchronised statistics (sync_batchnorm) reproduce single-process training too; local
// (per-shard) statistics do not.
// Each rank also trains the single-process reference itself (TrainerOptions::comm = null).
#include "data/distributed/communicator.hpp"
#include "data/distributed/grad_sync.hpp"
#include "data/train/trainer.hpp"
#include "dsp/audio_io.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>

using namespace mtag;
using namespace mtag::data;
namespace fs = std::filesystem;

namespace {

constexpr int k_rate = 8000;

dist::Communicator& world() { return dist::Communicator::world(); }

// A folder shared by all ranks: rank 0 wipes and creates it, the others wait.
fs::path shared_dir(const std::string& name) {
    const fs::path dir = fs::path(MTAG_TEST_TMP) / "mpi" / name;
    if (world().is_root()) {
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    world().barrier("test setup");
    return dir;
}

// 24 train + 8 valid clips of 0.5 s: tones and noise with random tags (the trainer tests' corpus, smaller).
// Rank 0 writes the audio; every rank builds the same Dataset.
Dataset corpus(const fs::path& dir) {
    Dataset d;
    d.format = "csv";
    d.source = dir;
    d.vocabulary = {"high", "low", "noise"};
    std::mt19937_64 rng(11);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    for (int i = 0; i < 32; ++i) {
        std::vector<std::uint8_t> tags(3, 0);
        while (std::count(tags.begin(), tags.end(), 1) == 0)
            for (auto& t : tags) t = static_cast<std::uint8_t>(rng() % 2);
        dsp::Audio audio;
        audio.sample_rate = k_rate;
        audio.channels = 1;
        audio.samples.assign(k_rate / 2, 0.0f);
        for (std::size_t n = 0; n < audio.samples.size(); ++n) {
            const double t = static_cast<double>(n) / k_rate;
            float v = 0;
            if (tags[0]) v += 0.3f * static_cast<float>(std::sin(2 * std::numbers::pi * 2500 * t));
            if (tags[1]) v += 0.3f * static_cast<float>(std::sin(2 * std::numbers::pi * 250 * t));
            if (tags[2]) v += 0.1f * gauss(rng);
            audio.samples[n] = v;
        }
        const fs::path path = dir / ("clip" + std::to_string(i) + ".wav");
        if (world().is_root()) dsp::save_audio(path, audio);
        Clip c;
        c.id = "clip" + std::to_string(i);
        c.audio_path = path;
        c.tags = tags;
        c.split = i < 24 ? Split::train : Split::valid;
        c.duration_seconds = 0.5;
        d.clips.push_back(c);
    }
    world().barrier("test corpus");
    return d;
}

// cnn1d without dropout, by default without BatchNorm: data parallelism must reproduce single-process training.
TrainConfig config(std::size_t batch_size, bool batch_norm = false) {
    nlohmann::json j = {{"batch_size", batch_size}, {"epochs", 3}, {"seed", 5}, {"threads", 1},
                        {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}},
                        {"evaluation", {{"eval_chunks", 2}}}};
    j["model"] = {{"preset", "cnn1d"}, {"n_mels", 16}, {"input_frames", 32}, {"channels", {8, 8}},
                  {"kernel_sizes", {3, 3}}, {"pools", {2, 1}}, {"dense", {16}}, {"dropout", 0.0},
                  {"batch_norm", batch_norm}};
    j["features"] = {{"kind", "logmel"}, {"sample_rate", k_rate}, {"n_fft", 256}, {"hop_length", 64},
                     {"n_mels", 16}, {"fmax", 4000.0}};
    TrainConfig c = TrainConfig::from_json(j);
    c.data.workers = 1;
    c.resolve();
    return c;
}

std::vector<float> flatten(nn::Module& model) {
    std::vector<float> v;
    for (nn::Parameter* p : model.parameters()) v.insert(v.end(), p->data(), p->data() + p->size());
    return v;
}

// Trains into `out`, stopping (as if interrupted) after `steps` batches; returns this rank's weights.
std::vector<float> train_steps(const Dataset& d, const TrainConfig& c, const fs::path& out, std::size_t steps,
                               dist::Communicator* comm, bool resume = false,
                               std::vector<float>* buffers = nullptr) {
    TrainerOptions o;
    o.out_dir = out;
    o.quiet = true;
    o.resume = resume;
    o.comm = comm;
    o.check_every = 1;
    o.bucket_bytes = 2048;  // several buckets even for this tiny model
    o.stop_after_batches = steps;
    std::vector<float> weights;
    o.on_finish = [&](nn::Module& m) {
        weights = flatten(m);
        if (buffers) {
            buffers->clear();
            for (nn::Buffer* b : m.buffers())
                if (b->name.find("running_") != std::string::npos)
                    buffers->insert(buffers->end(), b->value.data(), b->value.data() + b->value.size());
        }
    };
    train(c, d, o);
    return weights;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
    return m;
}

// Largest |a - b| / max(1, |a|): absolute for small values, relative for large running variances.
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]) / std::max(1.0, std::abs(static_cast<double>(a[i]))));
    return m;
}

}  // namespace

TEST_CASE("mpi: the job has two ranks") {
    REQUIRE(dist::Communicator::built_with_mpi());
    REQUIRE(world().size() == 2);
}

TEST_CASE("mpi: 2 ranks x half batch train like 1 process x full batch, weights identical on all ranks") {
    const fs::path dir = shared_dir("equivalence");
    const Dataset d = corpus(dir);
    // 8: equal shards of 4; 7: unequal shards (4 + 3, and a last batch of 3 split 2 + 1).
    for (std::size_t batch : {std::size_t{8}, std::size_t{7}}) {
        CAPTURE(batch);
        const TrainConfig c = config(batch);
        const std::string tag = std::to_string(batch);
        // The reference: this rank alone, full batches (each rank trains its own copy).
        const std::vector<float> single =
            train_steps(d, c, dir / ("single" + tag + "-rank" + std::to_string(world().rank())), 5, nullptr);
        const std::vector<float> parallel = train_steps(d, c, dir / ("parallel" + tag), 5, &world());
        REQUIRE(!parallel.empty());
        const double diff = max_abs_diff(single, parallel);
        CAPTURE(diff);
        CHECK(diff <= 1e-5);
        // The training moved the weights (the comparison is not vacuous).
        const std::vector<float> initial = train_steps(d, c, dir / ("initial" + tag + "-rank" + std::to_string(world().rank())), 0, nullptr);
        CHECK(max_abs_diff(initial, parallel) > 1e-4);
        // Bit-identical weights on every rank.
        const std::string bytes(reinterpret_cast<const char*>(parallel.data()), parallel.size() * sizeof(float));
        const std::vector<std::string> all = world().allgather(bytes, "test weights gather");
        for (const std::string& other : all) CHECK(other == all[0]);
        // Only rank 0 wrote the run directory: one checkpoint, one config, no per-rank files.
        world().barrier("test check");
        CHECK(fs::exists(dir / ("parallel" + tag) / "checkpoint.safetensors"));
        CHECK(fs::exists(dir / ("parallel" + tag) / "config.json"));
    }
}

TEST_CASE("mpi: an interrupted data-parallel run resumes to the uninterrupted weights") {
    const fs::path dir = shared_dir("resume");
    const Dataset d = corpus(dir);
    const TrainConfig c = config(8);
    const std::vector<float> straight = train_steps(d, c, dir / "straight", 5, &world());
    train_steps(d, c, dir / "resumed", 2, &world());  // interrupted after 2 steps, checkpoint written
    const std::vector<float> resumed = train_steps(d, c, dir / "resumed", 3, &world(), true);
    CHECK(max_abs_diff(straight, resumed) <= 1e-6);
}

TEST_CASE("mpi: the gradient buckets follow the backward order and sum over ranks") {
    // Two parameters in two buckets; each rank's gradient is rank + 1, so the sum is 3 on every rank.
    struct Two : nn::Module {
        Two() {
            register_parameter("a", {3});
            register_parameter("b", {5});
        }
        nn::Tensor forward(const nn::Tensor& x) override { return x; }
        nn::Tensor backward(const nn::Tensor& g) override { return g; }
        std::string type() const override { return "Two"; }
    } m;
    dist::GradientSynchronizer sync(world(), m.parameters(), {.bucket_bytes = 5 * sizeof(float)});
    REQUIRE(sync.bucket_count() == 2);
    for (nn::Parameter* p : m.parameters())
        for (std::size_t i = 0; i < p->size(); ++i) p->grad_data()[i] = static_cast<float>(world().rank() + 1);
    sync.begin_step();
    sync.on_module_done(m);
    CHECK(sync.overlapped_buckets() == 2);  // both started before finish()
    sync.finish();
    for (nn::Parameter* p : m.parameters())
        for (std::size_t i = 0; i < p->size(); ++i) CHECK(p->grad_data()[i] == 3.0f);
}

TEST_CASE("mpi: diverged weights are reported") {
    struct One : nn::Module {
        One() { register_parameter("w", {4}); }
        nn::Tensor forward(const nn::Tensor& x) override { return x; }
        nn::Tensor backward(const nn::Tensor& g) override { return g; }
        std::string type() const override { return "One"; }
    } m;
    dist::check_parameters_agree(world(), m, 1);  // zeros everywhere: agree
    m.parameters()[0]->data()[0] = static_cast<float>(world().rank());
    CHECK_THROWS_WITH(dist::check_parameters_agree(world(), m, 7), Catch::Contains("differ between ranks"));
}

TEST_CASE("mpi: synchronised BatchNorm: 2 ranks x half batch train like 1 process x full batch") {
    const fs::path dir = shared_dir("sync_bn");
    const Dataset d = corpus(dir);
    // 8: equal shards of 4 (3 batches per epoch); 5: unequal shards 3 + 2 (and a last batch of 4 as 2 + 2).
    // No batch has fewer than 2 examples per rank, so the data-parallel runs skip none.
    for (std::size_t batch : {std::size_t{8}, std::size_t{5}}) {
        CAPTURE(batch);
        TrainConfig c = config(batch, true);
        // SGD, not Adam: the conv biases before a BatchNorm have a zero gradient up to rounding, and Adam's
        // per-parameter normalisation turns that rounding noise into lr-sized steps (PyTorch alike), which
        // would hide the comparison. SGD keeps equal-up-to-rounding gradients equal-up-to-rounding weights.
        c.optimizer = nn::OptimizerConfig::named("momentum");
        c.optimizer.sgd.lr = 0.05;
        const std::string tag = std::to_string(batch);
        std::vector<float> single_buffers, sync_buffers, local_buffers;
        const std::vector<float> single = train_steps(
            d, c, dir / ("single" + tag + "-rank" + std::to_string(world().rank())), 5, nullptr, false, &single_buffers);
        c.sync_batchnorm = true;
        const std::vector<float> synced = train_steps(d, c, dir / ("sync" + tag), 5, &world(), false, &sync_buffers);
        c.sync_batchnorm = false;
        const std::vector<float> local = train_steps(d, c, dir / ("local" + tag), 5, &world(), false, &local_buffers);
        REQUIRE(!single_buffers.empty());  // the model has BatchNorm running statistics
        REQUIRE(!synced.empty());
        // Synchronised: the weights and the running mean/var are those of one process with whole batches.
        const double weight_diff = max_rel_diff(single, synced);
        const double buffer_diff = max_rel_diff(single_buffers, sync_buffers);
        CAPTURE(weight_diff, buffer_diff);
        CHECK(weight_diff <= 1e-5);
        CHECK(buffer_diff <= 1e-5);
        // Local statistics (the default) normalise each shard by itself: clearly different training, so
        // the comparison above can fail.
        const double local_weight_diff = max_rel_diff(single, local);
        const double local_buffer_diff = max_rel_diff(single_buffers, local_buffers);
        CAPTURE(local_weight_diff, local_buffer_diff);
        CHECK(local_weight_diff > 1e-3);
        CHECK(local_buffer_diff > 1e-4);
        // Bit-identical weights and running statistics on every rank.
        std::vector<float> state = synced;
        state.insert(state.end(), sync_buffers.begin(), sync_buffers.end());
        const std::string bytes(reinterpret_cast<const char*>(state.data()), state.size() * sizeof(float));
        const std::vector<std::string> all = world().allgather(bytes, "test state gather");
        for (const std::string& other : all) CHECK(other == all[0]);
    }
}
