#pragma once
// Fixtures that live outside the repository (../shared, a system soundfont): a test may skip with a
// warning on a developer's machine that lacks them, but under CI (CI=true) a missing fixture fails the
// test, so a suite that silently skipped its reference checks can never pass there.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace mtag::test {

inline bool running_in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

// True when `path` exists. Otherwise: FAIL under CI=true, else WARN and return false (the caller returns).
inline bool require_fixture(const std::filesystem::path& path, const std::string& what) {
    if (std::filesystem::exists(path)) return true;
    if (running_in_ci()) FAIL(what << " is missing at " << path.string() << " (CI=true: fixtures must be present)");
    WARN("skipped: " << what << " not found at " << path.string());
    return false;
}

}  // namespace mtag::test
