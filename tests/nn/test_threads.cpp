#include "nn/threads.hpp"

#include "nn/gradcheck.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/pool.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <stdexcept>

using namespace mtag::nn;

TEST_CASE("threads: parallel_for covers every index once, rethrows, and runs nested calls serially") {
    for (int budget : {1, 2, 3}) {
        set_thread_budget(budget);
        CHECK(thread_budget() == budget);
        std::vector<std::atomic<int>> hits(1000);
        parallel_for(1000, 7, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
            parallel_for(3, 1, [](std::int64_t, std::int64_t) {});  // nested: serial, no deadlock
        });
        for (auto& h : hits) REQUIRE(h == 1);
        CHECK_THROWS_AS(parallel_for(100, 1,
                                     [](std::int64_t b, std::int64_t e) {
                                         if (b <= 60 && 60 < e) throw std::runtime_error("boom");
                                     }),
                        std::runtime_error);
    }
    set_thread_budget(1);
}

TEST_CASE("threads: back-to-back small jobs run each chunk exactly once (a late worker never joins the next job)") {
    // Many short jobs in a row: a worker waking after a job has finished must not claim chunks of the
    // next one against a stale counter (that once ran a chunk twice and let the caller return early).
    set_thread_budget(3);
    std::vector<std::atomic<int>> hits(64);
    bool exact = true;
    for (int job = 0; job < 20000 && exact; ++job) {
        for (auto& h : hits) h.store(0);
        parallel_for(64, 1, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
        });
        for (auto& h : hits) exact = exact && h.load() == 1;
    }
    set_thread_budget(1);
    CHECK(exact);
}

TEST_CASE("threads: BatchNorm, pooling and activations are bit-identical with 1 and 2 threads") {
    const Tensor x = test::random_tensor({3, 16, 20, 37}, 1, -3.0f, 3.0f);
    auto run = [&](int budget) {
        set_thread_budget(budget);
        BatchNorm2d bn({.num_features = 16});
        MaxPool2d pool({.kernel_size = {2, 3}, .ceil_mode = true});
        ELU elu;
        Tensor y = elu.forward(pool.forward(bn.forward(x)));
        Tensor g = bn.backward(pool.backward(elu.backward(y)));
        std::vector<float> out(y.span().begin(), y.span().end());
        out.insert(out.end(), g.span().begin(), g.span().end());
        out.insert(out.end(), bn.running_var().span().begin(), bn.running_var().span().end());
        out.insert(out.end(), bn.weight()->grad.span().begin(), bn.weight()->grad.span().end());
        return out;
    };
    const auto one = run(1);
    const auto two = run(2);
    set_thread_budget(1);
    REQUIRE(one.size() == two.size());
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}
