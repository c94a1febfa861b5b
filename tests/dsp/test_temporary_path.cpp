#include "dsp/temporary_path.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using mtag::dsp::name_max_bytes;
using mtag::dsp::temporary_path;

TEST_CASE("temporary_path: the final name plus the suffix when it fits") {
    CHECK(temporary_path("out/a b.npy", ".tmp-12-0") == std::filesystem::path("out/a b.npy.tmp-12-0"));
    CHECK(temporary_path("x.wav", ".tmp.7", ".") == std::filesystem::path(".x.wav.tmp.7"));
}

TEST_CASE("temporary_path: a name near NAME_MAX is shortened to fit, keeping its extension and staying distinct") {
    std::string stem;
    for (int i = 0; i < 122; ++i) stem += "\xc3\xa9";  // 122 x "é": 244 bytes
    const std::string a = stem + "\xc3\xa9.npy", b = stem + "yy.npy";
    REQUIRE(a.size() == 250);
    const auto ta = temporary_path(std::filesystem::path("dir") / a, ".tmp-123456-7");
    const auto tb = temporary_path(std::filesystem::path("dir") / b, ".tmp-123456-7");
    CHECK(ta.parent_path() == "dir");
    CHECK(ta.filename().string().size() <= name_max_bytes);
    CHECK(ta != tb);
    // The cleanup of stale temporaries matches "<ext><suffix>".
    CHECK(ta.filename().string().find(".npy.tmp-123456-7") != std::string::npos);
    // Never cut inside a UTF-8 sequence: the name before "~" ends on a whole character.
    const std::string name = ta.filename().string();
    const std::size_t tilde = name.find('~');
    REQUIRE(tilde != std::string::npos);
    CHECK((static_cast<unsigned char>(name[tilde - 1]) & 0xC0) != 0xC0);
    // The file system accepts it.
    const auto dir = std::filesystem::path(MTAG_TEST_TMP) / "temporary_path";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / ta.filename()) << "x";
    CHECK(std::filesystem::exists(dir / ta.filename()));
}
