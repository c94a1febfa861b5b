#include "data/pretrained/child_process.hpp"

#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
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

TEST_CASE("child process: the child holds none of the parent's descriptors but stdio", "[child_process]") {
    // An output folder's lock is such a descriptor: held by an orphaned child, it would refuse a rerun.
    int held[2];
    REQUIRE(::pipe(held) == 0);
    const std::string seen = run_in_child_process([&] {
        return std::to_string(::fcntl(held[0], F_GETFD) == -1 && errno == EBADF) +
               std::to_string(::fcntl(2, F_GETFD) != -1);
    });
    CHECK(seen == "11");
    CHECK(::fcntl(held[0], F_GETFD) != -1);  // the parent's own stay open
    ::close(held[0]);
    ::close(held[1]);
}

TEST_CASE("child process: the child dies with its parent", "[child_process]") {
    // A parent process P runs a child that reports its pid (in a file: it keeps no inherited descriptor) and
    // then waits long; P is killed with SIGKILL, as `kill -9` during `mtag model fetch` would; the child must
    // be gone (or a zombie) soon after.
    const std::string pid_file = "/tmp/mtag_child_process_test_" + std::to_string(::getpid()) + ".pid";
    std::remove(pid_file.c_str());
    const pid_t p = ::fork();
    REQUIRE(p >= 0);
    if (p == 0) {
        try {
            run_in_child_process([&] {
                { std::ofstream(pid_file + ".tmp") << ::getpid() << "\n"; }
                std::rename((pid_file + ".tmp").c_str(), pid_file.c_str());
                std::this_thread::sleep_for(std::chrono::seconds(60));
                return std::string("late");
            });
        } catch (...) {
        }
        std::_Exit(0);
    }
    pid_t child = 0;
    for (int i = 0; i < 200 && child == 0; ++i) {
        std::ifstream in(pid_file);
        if (!(in >> child)) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::remove(pid_file.c_str());
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
    REQUIRE(child > 0);
    auto alive = [&] {  // running or sleeping, not a zombie and not gone
        std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
        std::string pid, name, state;
        if (!(stat >> pid >> name >> state)) return false;
        return state != "Z" && state != "X";
    };
    for (int i = 0; i < 100 && alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const bool still_alive = alive();
    if (still_alive) ::kill(child, SIGKILL);
    CHECK_FALSE(still_alive);
}
