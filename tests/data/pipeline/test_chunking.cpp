#include "data/pipeline/chunking.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

using namespace mtag::data;

TEST_CASE("chunking: random crops stay inside the clip and are seeded") {
    std::mt19937_64 a(9), b(9);
    const auto offsets = random_crop_offsets(1000, 100, 50, a);
    CHECK(offsets == random_crop_offsets(1000, 100, 50, b));
    bool moved = false;
    for (std::size_t o : offsets) {
        CHECK(o <= 900);
        moved = moved || o != offsets[0];
    }
    CHECK(moved);
    CHECK(random_crop_offsets(80, 100, 2, a) == std::vector<std::size_t>{0, 0});
}

TEST_CASE("chunking: evenly spaced and non-overlapping evaluation chunks") {
    ChunkOptions even{.length = 100, .eval = EvalChunking::evenly_spaced, .eval_chunks = 5};
    CHECK(eval_chunk_offsets(500, even) == std::vector<std::size_t>{0, 100, 200, 300, 400});
    CHECK(eval_chunk_offsets(300, even) == std::vector<std::size_t>{0, 50, 100, 150, 200});
    CHECK(eval_chunk_offsets(60, even) == std::vector<std::size_t>{0});
    even.eval_chunks = 1;
    CHECK(eval_chunk_offsets(300, even) == std::vector<std::size_t>{100});
    ChunkOptions tiles{.length = 100, .eval = EvalChunking::non_overlapping, .eval_chunks = 0};
    CHECK(eval_chunk_offsets(350, tiles) == std::vector<std::size_t>{0, 100, 200});
    tiles.eval_chunks = 2;
    CHECK(eval_chunk_offsets(350, tiles) == std::vector<std::size_t>{0, 100});
    CHECK_THROWS_AS(ChunkOptions{.length = 0}.validate(), mtag::Error);
}

TEST_CASE("chunking: short clips are zero-padded at the end") {
    const std::vector<float> signal = {1, 2, 3};
    std::vector<float> out(5, -1.0f);
    copy_chunk(signal, 0, out);
    CHECK(out == std::vector<float>{1, 2, 3, 0, 0});
    copy_chunk(signal, 2, out);
    CHECK(out == std::vector<float>{3, 0, 0, 0, 0});
    mtag::dsp::FloatMatrix m(2, 3);
    m.data = {1, 2, 3, 4, 5, 6};
    mtag::dsp::FloatMatrix chunk(2, 4);
    copy_chunk(m, 1, chunk);
    CHECK(chunk.data == std::vector<float>{2, 3, 0, 0, 5, 6, 0, 0});
}

TEST_CASE("chunking: clip score is the mean of per-chunk sigmoid or softmax outputs") {
    const std::vector<float> logits = {0.0f, 100.0f, 0.0f, -100.0f};  // 2 chunks x 2 outputs
    const auto sig = average_chunk_scores(logits, 2, ChunkActivation::sigmoid);
    CHECK(sig[0] == Approx(0.5));
    CHECK(sig[1] == Approx(0.5));
    const auto soft =
        average_chunk_scores(std::vector<float>{0.0f, 0.0f, 1000.0f, 0.0f}, 2, ChunkActivation::softmax);
    CHECK(soft[0] == Approx(0.75));
    CHECK(soft[1] == Approx(0.25));
    CHECK_THROWS(average_chunk_scores(std::vector<float>{1, 2, 3}, 2, ChunkActivation::sigmoid));
}
