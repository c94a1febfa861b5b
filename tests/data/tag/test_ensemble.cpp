#include "data/tag/ensemble.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

using namespace mtag::data;
using Catch::Matchers::Contains;

TEST_CASE("ensemble: identical members give the member bit for bit, scores average, embeddings concatenate") {
    TagResult a;
    a.duration_seconds = 2;
    a.chunks = 3;
    a.scores = {0.1f, 0.7f, 0.333333343f};
    a.embedding = {1, 2};
    const TagResult same = combine_results({a, a}, {"a", "a_copy"});
    CHECK(same.scores == a.scores);
    const TagResult one = combine_results({a}, {"a"});
    CHECK(one.scores == a.scores);
    CHECK(one.embedding == a.embedding);

    TagResult b = a;
    b.scores = {0.3f, 0.1f, 0.0f};
    b.embedding = {5};
    const TagResult mixed = combine_results({a, b}, {"a", "b"});
    CHECK(mixed.scores[0] == Approx(0.2f));
    CHECK(mixed.scores[1] == Approx(0.4f));
    CHECK(mixed.embedding == std::vector<float>{1, 2, 5});
    CHECK(mixed.duration_seconds == 2);
}

TEST_CASE("ensemble: taggrams of members that cut the file differently are an error naming them") {
    TagResult a, b;
    a.chunks = 2;
    a.scores = {0.5f};
    a.taggram = {0.1f, 0.2f};
    b = a;
    b.chunks = 3;
    b.taggram = {0.1f, 0.2f, 0.3f};
    CHECK_THROWS_WITH(combine_results({a, b}, {"run_a", "run_b"}), Contains("'run_a' and 'run_b'") && Contains("2 and 3"));
    b = a;
    b.taggram = {0.3f, 0.4f};
    CHECK(combine_results({a, b}, {"a", "b"}).taggram[1] == Approx(0.3f));
}
