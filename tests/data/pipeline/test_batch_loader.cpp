#include "data/pipeline/batch_loader.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

using namespace mtag::data;

namespace {

Dataset make_dataset(std::size_t n) {
    Dataset d;
    d.vocabulary = {"a", "b"};
    for (std::size_t i = 0; i < n; ++i) {
        Clip c;
        c.id = std::to_string(i);
        c.tags = {static_cast<std::uint8_t>(i % 2), static_cast<std::uint8_t>(i % 3 == 0)};
        d.clips.push_back(c);
    }
    return d;
}

// Input [1, 3]: the clip index, the repeat and a value drawn from the example's seed; sleeps a random
// few microseconds so that worker scheduling varies from run to run.
void sample_fn(const Clip&, const SampleContext& context, Sample& out) {
    std::mt19937_64 rng(context.seed);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    out.input.resize(1, 3);
    out.input.data = {static_cast<float>(context.clip_index), static_cast<float>(context.repeat),
                      static_cast<float>(rng() % 1000)};
}

std::vector<Batch> run_epoch(BatchLoader& loader, std::uint64_t epoch) {
    loader.start_epoch(epoch);
    std::vector<Batch> out;
    while (auto batch = loader.next()) out.push_back(std::move(*batch));
    return out;
}

}  // namespace

TEST_CASE("batch_loader: epoch order is a seeded permutation that changes per epoch") {
    const auto a = epoch_order(100, 1, 5, 0, true);
    CHECK(a == epoch_order(100, 1, 5, 0, true));
    CHECK(a != epoch_order(100, 1, 5, 1, true));
    CHECK(a != epoch_order(100, 1, 6, 0, true));
    std::vector<std::size_t> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);
    const auto plain = epoch_order(4, 2, 5, 0, false);
    CHECK(plain == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("batch_loader: every clip exactly once per epoch, targets from the tags") {
    const Dataset d = make_dataset(60);
    std::vector<std::size_t> selection;
    for (std::size_t i = 0; i < 60; i += 2) selection.push_back(i);  // 30 clips
    BatchLoader loader(d, selection, sample_fn, {.batch_size = 7, .workers = 3, .prefetch = 2, .seed = 1});
    CHECK(loader.batches_per_epoch() == 5);
    for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
        const auto batches = run_epoch(loader, epoch);
        REQUIRE(batches.size() == 5);
        CHECK(batches.back().size() == 2);
        std::multiset<std::size_t> seen;
        for (std::size_t b = 0; b < batches.size(); ++b) {
            const Batch& batch = batches[b];
            CHECK(batch.index == b);
            CHECK(batch.epoch == epoch);
            CHECK(batch.bins == 1);
            CHECK(batch.frames == 3);
            for (std::size_t i = 0; i < batch.size(); ++i) {
                const std::size_t clip = batch.clip_indices[i];
                seen.insert(clip);
                CHECK(batch.inputs[i * 3] == static_cast<float>(clip));
                CHECK(batch.targets[i * 2] == static_cast<float>(d.clips[clip].tags[0]));
                CHECK(batch.targets[i * 2 + 1] == static_cast<float>(d.clips[clip].tags[1]));
            }
        }
        CHECK(seen == std::multiset<std::size_t>(selection.begin(), selection.end()));
    }
    BatchLoader dropping(d, selection, sample_fn, {.batch_size = 7, .workers = 2, .drop_last = true});
    CHECK(run_epoch(dropping, 0).size() == 4);
}

TEST_CASE("batch_loader: batches are identical for any worker count, shuffles differ per epoch") {
    const Dataset d = make_dataset(40);
    std::vector<std::size_t> all(40);
    for (std::size_t i = 0; i < 40; ++i) all[i] = i;
    BatchLoader one(d, all, sample_fn, {.batch_size = 8, .workers = 1, .seed = 3});
    BatchLoader four(d, all, sample_fn, {.batch_size = 8, .workers = 4, .prefetch = 3, .seed = 3});
    const auto a = run_epoch(one, 2);
    const auto b = run_epoch(four, 2);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].clip_indices == b[i].clip_indices);
        CHECK(a[i].inputs == b[i].inputs);
    }
    const auto c = run_epoch(one, 3);
    CHECK(c[0].clip_indices != a[0].clip_indices);
    BatchLoader ordered(d, all, sample_fn, {.batch_size = 8, .workers = 2, .shuffle = false});
    const auto o = run_epoch(ordered, 0);
    CHECK(o[0].clip_indices == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("batch_loader: repeats give each clip several examples with distinct repeat indices") {
    const Dataset d = make_dataset(5);
    BatchLoader loader(d, {0, 1, 2, 3, 4}, sample_fn, {.batch_size = 4, .workers = 2, .repeats = 3});
    std::multiset<std::pair<std::size_t, int>> seen;
    for (const Batch& batch : run_epoch(loader, 0))
        for (std::size_t i = 0; i < batch.size(); ++i)
            seen.insert({batch.clip_indices[i], static_cast<int>(batch.inputs[i * 3 + 1])});
    CHECK(seen.size() == 15);
    for (std::size_t clip = 0; clip < 5; ++clip)
        for (int r = 0; r < 3; ++r) CHECK(seen.count({clip, r}) == 1);
}

TEST_CASE("batch_loader: the prefetch window bounds the work ahead of a slow consumer") {
    const Dataset d = make_dataset(200);
    std::vector<std::size_t> all(200);
    for (std::size_t i = 0; i < 200; ++i) all[i] = i;
    std::atomic<int> produced{0};
    BatchLoader loader(d, all,
                       [&](const Clip& c, const SampleContext& ctx, Sample& out) {
                           sample_fn(c, ctx, out);
                           ++produced;
                       },
                       {.batch_size = 4, .workers = 3, .prefetch = 2});
    loader.start_epoch(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(produced.load() <= 2 * 4);  // never more than prefetch batches ahead
    REQUIRE(loader.next());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(produced.load() <= 3 * 4);
    // Restarting mid-epoch gives a full fresh epoch.
    CHECK(run_epoch(loader, 1).size() == 50);
}

TEST_CASE("batch_loader: failing clips are left out, reported once per epoch, deterministically") {
    Dataset d = make_dataset(40);
    for (std::size_t i = 0; i < d.clips.size(); ++i) d.clips[i].audio_path = std::to_string(i) + ".wav";
    auto failing = [](const Clip& c, const SampleContext& ctx, Sample& out) {
        if (c.id == "7") throw mtag::Error("audio file '7.wav'", "cannot be decoded");
        if (c.id == "22") throw mtag::Error("audio file '22.wav'", "does not exist");
        sample_fn(c, ctx, out);
    };
    std::vector<std::size_t> all(d.clips.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    auto epoch_of = [&](int workers) {
        BatchLoader loader(d, all, failing, {.batch_size = 4, .workers = workers, .repeats = 2, .seed = 3});
        std::vector<Batch> batches = run_epoch(loader, 1);
        return std::make_pair(std::move(batches), loader.epoch_failures());
    };
    const auto [batches, failures] = epoch_of(3);
    std::size_t examples = 0;
    for (const Batch& b : batches) {
        CHECK(b.size() > 0);
        CHECK(b.inputs.size() == b.size() * 3);
        CHECK(b.targets.size() == b.size() * 2);
        for (std::size_t c : b.clip_indices) CHECK((c != 7 && c != 22));
        examples += b.size();
    }
    CHECK(examples == 2 * 38);  // two repeats of every other clip
    // Each failing clip once, although both of its repeats failed, with its path and reason.
    REQUIRE(failures.size() == 2);
    std::set<std::size_t> failed{failures[0].clip_index, failures[1].clip_index};
    CHECK(failed == std::set<std::size_t>{7, 22});
    for (const ClipFailure& f : failures) {
        CHECK(f.path == std::to_string(f.clip_index) + ".wav");
        CHECK_THAT(f.reason, Catch::Contains(f.clip_index == 7 ? "cannot be decoded" : "does not exist"));
    }
    // Same batches and report with one worker.
    const auto [batches1, failures1] = epoch_of(1);
    REQUIRE(batches1.size() == batches.size());
    for (std::size_t i = 0; i < batches.size(); ++i) {
        CHECK(batches1[i].clip_indices == batches[i].clip_indices);
        CHECK(batches1[i].inputs == batches[i].inputs);
    }
    REQUIRE(failures1.size() == 2);
    CHECK(failures1[0].clip_index == failures[0].clip_index);
}

TEST_CASE("batch_loader: an epoch in which every clip fails is an error naming a clip") {
    const Dataset d = make_dataset(5);
    BatchLoader loader(d, {0, 1, 2, 3, 4},
                       [](const Clip& c, const SampleContext&, Sample&) {
                           throw mtag::Error("audio file '" + c.id + ".wav'", "is truncated");
                       },
                       {.batch_size = 2, .workers = 2});
    loader.start_epoch(0);
    CHECK_THROWS_WITH(loader.next(), Catch::Contains("every clip failed (5 clips)") && Catch::Contains("is truncated"));
    CHECK(loader.epoch_failures().size() == 5);
}

TEST_CASE("batch_loader: with skip_failures off a failing clip is an error from next(), bad options are rejected") {
    const Dataset d = make_dataset(10);
    BatchLoader loader(d, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                       [](const Clip& c, const SampleContext& ctx, Sample& out) {
                           if (c.id == "7") throw mtag::Error("audio file '7.wav'", "cannot be decoded");
                           sample_fn(c, ctx, out);
                       },
                       {.batch_size = 2, .workers = 2, .shuffle = false, .skip_failures = false});
    loader.start_epoch(0);
    CHECK_THROWS_WITH(
        [&] {
            while (loader.next()) {
            }
        }(),
        Catch::Contains("7.wav"));
    CHECK_THROWS_AS(BatchLoader(d, {}, sample_fn, {}), mtag::Error);
    CHECK_THROWS_AS(BatchLoader(d, {0}, sample_fn, {.batch_size = 0}), mtag::Error);
    CHECK_THROWS_AS(BatchLoader(d, {99}, sample_fn, {}), mtag::Error);
    BatchLoader shapes(
        d, {0, 1},
        [](const Clip& c, const SampleContext&, Sample& out) { out.input.resize(1, c.id == "0" ? 3 : 4); },
        {.batch_size = 2, .workers = 1, .shuffle = false});
    shapes.start_epoch(0);
    CHECK_THROWS_WITH(shapes.next(), Catch::Contains("shaped [1, 4]"));
}
