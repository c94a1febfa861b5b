#include "dsp/spooled_input.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using mtag::dsp::is_stream_input;
using mtag::dsp::SpooledInput;

namespace {

// A scratch folder that is also $TMPDIR while the test runs, so the copies land where the test can see them.
struct ScratchTmp {
    fs::path dir;
    std::optional<std::string> old;
    explicit ScratchTmp(const std::string& name) : dir(fs::temp_directory_path() / name) {
        fs::remove_all(dir);
        fs::create_directories(dir / "spool");
        if (const char* t = std::getenv("TMPDIR")) old = t;
        ::setenv("TMPDIR", (dir / "spool").c_str(), 1);
    }
    ~ScratchTmp() {
        if (old) ::setenv("TMPDIR", old->c_str(), 1);
        else ::unsetenv("TMPDIR");
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    bool spool_empty() const { return fs::is_empty(dir / "spool"); }
};

// A pipe whose write end received `bytes` and was closed; its read end as /dev/fd/N.
struct FilledPipe {
    int fds[2] = {-1, -1};
    explicit FilledPipe(const std::string& bytes) {
        REQUIRE(::pipe(fds) == 0);
        REQUIRE(bytes.size() < 60000);  // within the pipe's buffer, so no writer thread is needed
        if (!bytes.empty()) REQUIRE(::write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
        ::close(fds[1]);
    }
    ~FilledPipe() { ::close(fds[0]); }
    fs::path path() const { return "/dev/fd/" + std::to_string(fds[0]); }
};

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("is_stream_input: '-', pipes and FIFOs are streams, files, folders and missing paths are not") {
    ScratchTmp tmp("mtag_test_stream_kinds");
    const fs::path file = tmp.dir / "a.wav", fifo = tmp.dir / "f.wav";
    std::ofstream(file) << "x";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    FilledPipe pipe("abc");
    CHECK(is_stream_input("-"));
    CHECK(is_stream_input(fifo));
    CHECK(is_stream_input(pipe.path()));
    CHECK_FALSE(is_stream_input(file));
    CHECK_FALSE(is_stream_input(tmp.dir));
    CHECK_FALSE(is_stream_input(tmp.dir / "missing.wav"));
}

TEST_CASE("SpooledInput: a pipe's bytes in a temporary file, named after the source, removed afterwards") {
    ScratchTmp tmp("mtag_test_spool_pipe");
    std::string bytes;
    for (int i = 0; i < 50000; ++i) bytes += static_cast<char>(i * 7 % 251);
    FilledPipe pipe(bytes);
    fs::path copy;
    {
        const SpooledInput spooled(pipe.path());
        copy = spooled.path();
        CHECK(spooled.source() == pipe.path().string());
        CHECK(spooled.name() == std::to_string(pipe.fds[0]));
        CHECK(copy.filename() == spooled.name());
        CHECK(read_all(copy) == bytes);
        CHECK_FALSE(tmp.spool_empty());
    }
    CHECK_FALSE(fs::exists(copy));
    CHECK(tmp.spool_empty());
}

TEST_CASE("SpooledInput: an empty stream, one over the size limit and a missing source are refused by name") {
    ScratchTmp tmp("mtag_test_spool_refused");
    {
        FilledPipe empty("");
        CHECK_THROWS_WITH(SpooledInput(empty.path()), Catch::Contains("'" + empty.path().string() + "'") &&
                                                          Catch::Contains("gave no bytes"));
    }
    {
        FilledPipe big(std::string(5000, 'x'));
        CHECK_THROWS_WITH(SpooledInput(big.path(), 4096), Catch::Contains("is longer than") &&
                                                              Catch::Contains("save it to a file"));
    }
    CHECK_THROWS_WITH(SpooledInput(tmp.dir / "missing"), Catch::Contains("cannot be opened"));
    CHECK(tmp.spool_empty());  // no copy left behind by a refusal
}

TEST_CASE("load_audio: a FIFO with no writer and '-' are refused at once, not opened (which would block)") {
    ScratchTmp tmp("mtag_test_spool_fifo");
    const fs::path fifo = tmp.dir / "f.wav";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(mtag::dsp::load_audio(fifo), Catch::Contains("not a regular file"));
    CHECK_THROWS_WITH(mtag::dsp::read_audio_info(fifo), Catch::Contains("not a regular file"));
    CHECK_THROWS_WITH(mtag::dsp::load_audio("-"), Catch::Contains("'-': is standard input"));
}
