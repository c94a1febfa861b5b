// Tests dsp/npy: header layout byte for byte, round trips, memory maps and every rejected header.
#include "support/shared_fixture.hpp"
#include "dsp/error.hpp"
#include "dsp/npy.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace mtag::dsp;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::path(MTAG_TEST_TMP) / "npy";
    fs::create_directories(dir);
    return dir / name;
}

// Writes a raw .npy with a hand-made header dict (format 1.0) and `values` floats.
void write_raw(const fs::path& path, const std::string& dict, std::size_t values, int major = 1) {
    std::string header = dict;
    while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
    header.push_back('\n');
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY", 6);
    const char version[2] = {static_cast<char>(major), 0};
    out.write(version, 2);
    const char length[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
    out.write(length, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::vector<float> data(values, 1.5f);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(values * sizeof(float)));
}

}  // namespace

TEST_CASE("npy header matches numpy.save byte for byte") {
    const std::size_t shape[2] = {96, 1876};
    const std::string bytes = npy_header_bytes(shape);
    // What numpy.save writes for np.zeros((96, 1876), "<f4").
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (96, 1876), }";
    REQUIRE(bytes.size() % 64 == 0);
    REQUIRE(bytes.size() == 128);  // 10 + 63 chars + padding + '\n' rounds up to 128
    CHECK(bytes.compare(0, 6, "\x93NUMPY") == 0);
    CHECK(bytes[6] == 1);
    CHECK(bytes[7] == 0);
    CHECK(static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]) ==
          static_cast<int>(bytes.size()) - 10);
    CHECK(bytes.compare(10, dict.size(), dict) == 0);
    CHECK(bytes.back() == '\n');
    CHECK(bytes.find_first_not_of(' ', 10 + dict.size()) == bytes.size() - 1);

    const std::size_t one_d[1] = {5};
    CHECK(npy_header_bytes(one_d).find("'shape': (5,), }") != std::string::npos);
    CHECK(npy_header_bytes(std::span<const std::size_t>{}).find("'shape': (), }") != std::string::npos);
}

TEST_CASE("npy round trip of a matrix, in memory and memory-mapped") {
    FloatMatrix m(3, 4);
    for (std::size_t i = 0; i < m.size(); ++i) m.data[i] = static_cast<float>(i) * 0.25f - 1.0f;
    const fs::path path = scratch("round_trip.npy");
    save_npy(path, m);
    const NpyHeader header = read_npy_header(path);
    CHECK(header.descr == "<f4");
    CHECK_FALSE(header.fortran_order);
    CHECK(header.shape == std::vector<std::size_t>{3, 4});
    CHECK(header.data_offset % 64 == 0);
    CHECK(fs::file_size(path) == header.data_offset + 12 * sizeof(float));

    const FloatMatrix back = load_npy(path);
    CHECK(back.rows == 3);
    CHECK(back.cols == 4);
    CHECK(back.data == m.data);

    MappedNpy mapped(path);
    REQUIRE(mapped.shape() == std::vector<std::size_t>{3, 4});
    CHECK(std::equal(mapped.values().begin(), mapped.values().end(), m.data.begin()));
    CHECK(mapped.row(2)[3] == m(2, 3));
    CHECK_THROWS_AS(mapped.row(3), mtag::Error);
    MappedNpy moved = std::move(mapped);
    CHECK(moved.values()[5] == m.data[5]);

    // No temporary files are left next to the output.
    for (const auto& entry : fs::directory_iterator(path.parent_path()))
        CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("npy reads a format 2.0 file and an empty array") {
    const fs::path path = scratch("empty.npy");
    FloatMatrix empty(4, 0);
    save_npy(path, empty);
    const FloatMatrix back = load_npy(path);
    CHECK(back.rows == 4);
    CHECK(back.cols == 0);

    // Format 2.0: a 4-byte header length.
    const fs::path v2 = scratch("v2.npy");
    {
        std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
        while ((12 + dict.size() + 1) % 64 != 0) dict.push_back(' ');
        dict.push_back('\n');
        std::ofstream out(v2, std::ios::binary);
        out.write("\x93NUMPY\x02\x00", 8);
        const char length[4] = {static_cast<char>(dict.size()), 0, 0, 0};
        out.write(length, 4);
        out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
        const float values[4] = {1, 2, 3, 4};
        out.write(reinterpret_cast<const char*>(values), sizeof(values));
    }
    const FloatMatrix m = load_npy(v2);
    CHECK(m(1, 0) == 3.0f);
}

TEST_CASE("npy rejects wrong dtype, order, version, magic and size with got/expected") {
    const fs::path path = scratch("bad.npy");
    auto message = [&](auto&& f) {
        try {
            f();
        } catch (const mtag::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    write_raw(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 8);
    CHECK_THAT(message([&] { load_npy(path); }),
               Catch::Contains("'<f8'") && Catch::Contains("expected '<f4'"));
    write_raw(path, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", 4);
    CHECK_THAT(message([&] { read_npy_header(path); }), Catch::Contains("'>f4'"));
    write_raw(path, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 4);
    CHECK_THAT(message([&] { MappedNpy m(path); }), Catch::Contains("fortran_order"));
    write_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 4);
    CHECK_THAT(message([&] { load_npy(path); }), Catch::Contains("does not match shape (2, 3)"));
    write_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 4, 7);
    CHECK_THAT(message([&] { load_npy(path); }), Catch::Contains("version 7.0"));
    write_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 4);
    CHECK_THAT(message([&] { load_npy(path); }), Catch::Contains("malformed header"));
    write_raw(path, "{'descr': '<f4', 'shape': (2, 2), }", 4);
    CHECK_THAT(message([&] { load_npy(path); }), Catch::Contains("'fortran_order'"));
    write_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 1), }", 4);
    CHECK_THAT(message([&] { load_npy(path); }), Catch::Contains("expected 2-D"));
    {
        std::ofstream out(path, std::ios::binary);
        out << "PK\x03\x04 this is a zip file, not an npy file";
    }
    CHECK_THAT(message([&] { load_npy(path); }), Catch::Contains("magic"));
    CHECK_THAT(message([&] { load_npy(scratch("does_not_exist.npy")); }),
               Catch::Contains("cannot be opened"));
}

TEST_CASE("save_npy checks the shape against the values") {
    const std::vector<float> values(5);
    const std::size_t shape[2] = {2, 3};
    CHECK_THROWS_AS(save_npy(scratch("mismatch.npy"), values, shape), mtag::Error);
    CHECK_FALSE(fs::exists(scratch("mismatch.npy")));
}

TEST_CASE("npy reads a file numpy wrote (librosa STFT fixture, 3-D) through the memory map") {
    const fs::path path = fs::path(MTAG_SHARED_DIR) / "fixtures/librosa/core-stft-001.npy";
    if (!mtag::test::require_fixture(path, "the shared librosa fixtures")) return;
    const NpyHeader header = read_npy_header(path);
    CHECK(header.shape == std::vector<std::size_t>{65, 1579, 2});
    CHECK(header.data_offset == 128);
    MappedNpy mapped(path);
    // Bin 1, frame 2 as numpy prints it: [0.09316165 0.00274134] (real, imaginary).
    const std::size_t at = (1 * 1579 + 2) * 2;
    CHECK(mapped.values()[at] == Approx(0.09316165f).epsilon(1e-6));
    CHECK(mapped.values()[at + 1] == Approx(0.00274134f).epsilon(1e-5));
    // load_npy wants 2-D [bins, frames] and says so.
    CHECK_THROWS_WITH(load_npy(path), Catch::Contains("expected 2-D"));
}
