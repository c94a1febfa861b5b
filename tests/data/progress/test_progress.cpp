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
