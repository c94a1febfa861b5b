// Tests app/progress: the status text (done/total, rate, ETA) and that a disabled reporter stays silent.
#include "data/progress/progress.hpp"

#include <catch2/catch.hpp>

TEST_CASE("progress status counts files and estimates the remaining time") {
    mtag::data::Progress progress("extract", 10, false);
    CHECK_THAT(progress.status(), Catch::StartsWith("0/10 files") && Catch::Contains("ETA --:--"));
    progress.advance(3);
    CHECK_THAT(progress.status(), Catch::StartsWith("3/10 files") && Catch::Contains("files/s"));
    progress.advance(7);
    CHECK_THAT(progress.status(), Catch::StartsWith("10/10 files") && Catch::Contains("ETA 0:00"));
    progress.finish();
    progress.finish();  // idempotent
}

TEST_CASE("progress status carries the caller's note (train: loss, clips/s, run ETA)") {
    mtag::data::Progress progress("epoch 1/3", 4, false, 5.0, "steps");
    progress.advance();
    progress.set_note("loss 0.5000, 12.0 clips/s, run ETA 1m00s");
    CHECK_THAT(progress.status(), Catch::StartsWith("1/4 steps") && Catch::EndsWith(", loss 0.5000, 12.0 clips/s, run ETA 1m00s"));
    progress.finish(false);
    progress.finish();  // already finished: nothing more
}
