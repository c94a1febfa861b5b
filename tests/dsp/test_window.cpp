#include "dsp/error.hpp"
#include "dsp/window.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

using namespace mtag::dsp;

TEST_CASE("window: periodic Hann is 0.5 - 0.5 cos(2 pi n / N)", "[window]") {
    const int n = 16;
    const auto w = make_window(WindowKind::hann, n);
    REQUIRE(w.size() == 16);
    for (int i = 0; i < n; ++i)
        CHECK(w[i] == Approx(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / n)).margin(1e-7));
    CHECK(w[0] == 0.0f);
    CHECK(w[8] == 1.0f);     // the peak is at N/2 for a periodic window
    CHECK(w[15] > 0.0f);     // and the last sample is not zero
}

TEST_CASE("window: symmetric Hann ends at zero and is mirror-symmetric", "[window]") {
    const auto w = make_window(WindowKind::hann, 9, false);
    CHECK(w.front() == 0.0f);
    CHECK(w.back() == Approx(0.0).margin(1e-7));
    CHECK(w[4] == 1.0f);
    for (int i = 0; i < 9; ++i) CHECK(w[i] == Approx(w[8 - i]).margin(1e-7));
}

TEST_CASE("window: periodic window of N is the symmetric window of N+1 without its last sample", "[window]") {
    for (WindowKind kind : {WindowKind::hann, WindowKind::hamming, WindowKind::blackman}) {
        const auto p = make_window(kind, 32, true);
        const auto s = make_window(kind, 33, false);
        for (int i = 0; i < 32; ++i) CHECK(p[i] == Approx(s[i]).margin(1e-7));
    }
}

TEST_CASE("window: Hamming, Blackman and rectangular values", "[window]") {
    const int n = 8;
    const auto hm = make_window(WindowKind::hamming, n);
    const auto bl = make_window(WindowKind::blackman, n);
    const auto rc = make_window(WindowKind::rectangular, n);
    for (int i = 0; i < n; ++i) {
        const double x = 2.0 * std::numbers::pi * i / n;
        CHECK(hm[i] == Approx(0.54 - 0.46 * std::cos(x)).margin(1e-7));
        CHECK(bl[i] == Approx(0.42 - 0.5 * std::cos(x) + 0.08 * std::cos(2 * x)).margin(1e-7));
        CHECK(rc[i] == 1.0f);
    }
    CHECK(hm[0] == Approx(0.08f));
    CHECK(bl[0] == Approx(0.0).margin(1e-7));
    CHECK(make_window(WindowKind::hann, 1) == std::vector<float>{1.0f});  // scipy: a 1-sample window is [1]
}

TEST_CASE("window: names parse, unknown names throw", "[window]") {
    CHECK(parse_window_kind("hann") == WindowKind::hann);
    CHECK(parse_window_kind("hamming") == WindowKind::hamming);
    CHECK(parse_window_kind("blackman") == WindowKind::blackman);
    CHECK(parse_window_kind("ones") == WindowKind::rectangular);
    CHECK(parse_window_kind("rectangular") == WindowKind::rectangular);
    CHECK(window_name(parse_window_kind("blackman")) == "blackman");
    CHECK_THROWS_AS(parse_window_kind("kaiser"), mtag::Error);
    CHECK_THROWS_AS(make_window(WindowKind::hann, 0), mtag::Error);
}
