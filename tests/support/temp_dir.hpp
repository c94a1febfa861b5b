#pragma once
// A fresh scratch folder per test under MTAG_TEST_TMP, removed when the test ends.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

namespace mtag::test {

class TempDir {
public:
    explicit TempDir(const std::string& name) {
        m_path = std::filesystem::path(MTAG_TEST_TMP) / name;
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    std::filesystem::path m_path;
};

}  // namespace mtag::test
