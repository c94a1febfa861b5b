#include "data/pretrained/child_process.hpp"

#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

using namespace mtag;
using namespace mtag::data;

TEST_CASE("child process: returns the work's bytes, binary and large", "[child_process]") {
    std::string big(3 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
    CHECK(run_in_child_process([&] { return big; }) == big);
    CHECK(run_in_child_process([] { return std::string(); }).empty());
}

TEST_CASE("child process: an error thrown by the work is an mtag::Error with its message", "[child_process]") {
    CHECK_THROWS_AS(run_in_child_process([]() -> std::string { throw Error("file 'x'", "is bad"); }), Error);
    CHECK_THROWS_WITH(run_in_child_process([]() -> std::string { throw Error("file 'x'", "is bad"); }),
                      "file 'x': is bad");
}

TEST_CASE("child process: a crash or a hang of the work is ChildProcessFailed, the caller lives on",
          "[child_process]") {
    CHECK_THROWS_AS(run_in_child_process([]() -> std::string { std::abort(); }), ChildProcessFailed);
    CHECK_THROWS_WITH(run_in_child_process([]() -> std::string { std::_Exit(7); }),
                      Catch::Contains("exited with status 7"));
    CHECK_THROWS_WITH(run_in_child_process(
                          []() -> std::string {
                              std::this_thread::sleep_for(std::chrono::seconds(30));
                              return "late";
                          },
                          std::chrono::seconds(1)),
                      Catch::Contains("sent nothing for 1 s"));
}
