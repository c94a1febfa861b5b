#include "data/run/output_lock.hpp"

#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

using namespace mtag::data;
using Catch::Matchers::Contains;

namespace fs = std::filesystem;

// flock(2) locks belong to an open file description, so a second lock of the same file from this process
// conflicts exactly as another process's would: enough to test refusal and release without forking.
TEST_CASE("output lock: a held directory is refused naming it and the holder's pid, released with its holder") {
    const fs::path root = fs::path(MTAG_TEST_TMP) / "output_lock";
    fs::remove_all(root);
    const fs::path dir = root / "run dir";
    std::optional<OutputLock> first = OutputLock::in_directory(dir, "--out run dir", "mtag train");
    CHECK(fs::is_directory(dir));
    CHECK(first->file() == dir / ".mtag.lock");
    std::string content;
    std::getline(std::ifstream(first->file()), content);
    CHECK(content == std::to_string(::getpid()) + " mtag train");
    CHECK_THROWS_WITH(OutputLock::in_directory(dir, "--out run dir", "mtag train"),
                      Contains("--out run dir: is being written by another mtag process (pid " +
                               std::to_string(::getpid()) + ": mtag train, holding"));
    first.reset();  // closing the descriptor releases the lock; the file stays
    CHECK(fs::exists(dir / ".mtag.lock"));
    CHECK_NOTHROW(OutputLock::in_directory(dir, "--out run dir", "mtag extract"));
}

TEST_CASE("output lock: beside() locks PARENT/.NAME.mtag.lock for directories that appear by a rename") {
    const fs::path root = fs::path(MTAG_TEST_TMP) / "output_lock_beside";
    fs::remove_all(root);
    const OutputLock lock = OutputLock::beside(root / "models" / "crnn/", "--out crnn", "mtag model import");
    CHECK(lock.file() == root / "models" / ".crnn.mtag.lock");
    CHECK_FALSE(fs::exists(root / "models" / "crnn"));  // the directory itself is left to the writer
    CHECK_THROWS_AS(OutputLock::beside(root / "models" / "crnn", "--out crnn", "mtag model import"), mtag::Error);
    // A lock file that cannot be created is an error naming the directory, not a silent pass.
    fs::create_directories(root / "ro");
    fs::permissions(root / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    if (::geteuid() != 0)  // root ignores permissions
        CHECK_THROWS_WITH(OutputLock::in_directory(root / "ro", "--out ro", "mtag extract"), Contains("--out ro"));
    fs::permissions(root / "ro", fs::perms::owner_all);
}
