#include "nn/safetensors.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/memory_stats.hpp"
#include "nn/storage_allocator.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

using namespace mtag::nn;
using Catch::Matchers::Contains;

namespace {

std::string image(const std::string& header, std::size_t data_bytes) {
    std::string s(8, '\0');
    const std::uint64_t n = header.size();
    std::memcpy(s.data(), &n, 8);
    return s + header + std::string(data_bytes, '\0');
}

void expect_error(const std::string& bytes, const std::string& fragment) {
    INFO(fragment);
    CHECK_THROWS_WITH(parse_safetensors(bytes, "test"), Contains(fragment));
}

}  // namespace

TEST_CASE("safetensors: round trip keeps names, shapes, values, int64 counters and metadata") {
    std::filesystem::create_directories(MTAG_TEST_TMP);
    const auto path = std::filesystem::path(MTAG_TEST_TMP) / "roundtrip.safetensors";
    const Tensor a = test::random_tensor({2, 3, 4, 5}, 1);
    const Tensor b = test::random_tensor({7}, 2);
    Tensor counter(Shape{});
    counter[0] = 123.0f;
    write_safetensors(path, {{"features.0.weight", a}, {"b", b}, {"bn.num_batches_tracked", counter, true}},
                      {{"k", "v"}});
    const SafetensorsFile f = read_safetensors(path);
    REQUIRE(f.tensors.size() == 3);
    const auto& ra = f.tensors.at("features.0.weight");
    CHECK(ra.dtype == "F32");
    CHECK(ra.value.shape() == a.shape());
    CHECK(std::memcmp(ra.value.data(), a.data(), a.size() * 4) == 0);
    CHECK(f.tensors.at("bn.num_batches_tracked").dtype == "I64");
    CHECK(f.tensors.at("bn.num_batches_tracked").value[0] == 123.0f);
    CHECK(f.tensors.at("bn.num_batches_tracked").shape.empty());
    CHECK(f.metadata.at("k") == "v");
    // The header is 8-byte aligned, as the reference writer does.
    std::ifstream in(path, std::ios::binary);
    std::uint64_t n = 0;
    in.read(reinterpret_cast<char*>(&n), 8);
    CHECK(n % 8 == 0);
}

TEST_CASE("safetensors: SafetensorsReader checks the header on opening and reads one tensor at a time") {
    std::filesystem::create_directories(MTAG_TEST_TMP);
    const auto path = std::filesystem::path(MTAG_TEST_TMP) / "reader.safetensors";
    const Tensor a = test::random_tensor({3, 4}, 3);
    const Tensor b = test::random_tensor({64, 64}, 4);
    Tensor counter(Shape{});
    counter[0] = 7.0f;
    write_safetensors(path, {{"a", a}, {"b", b}, {"n", counter, true}}, {{"producer", "test"}});
    SafetensorsReader reader(path);
    CHECK(reader.names() == std::vector<std::string>{"a", "b", "n"});
    CHECK(reader.contains("b"));
    CHECK_FALSE(reader.contains("c"));
    CHECK(reader.dtype("n") == "I64");
    CHECK(reader.shape("b") == b.shape());
    CHECK(reader.metadata().at("producer") == "test");
    CHECK_THROWS_WITH(reader.shape("c"), Contains("has no tensor 'c'"));
    // Out of order and twice: each read seeks to its own bytes, and reads only them.
    const std::size_t live = tensor_bytes_live();
    const SafetensorsTensor rb = reader.read("b");
    CHECK(tensor_bytes_live() - live == b.size() * 4);
    CHECK(std::memcmp(rb.value.data(), b.data(), b.size() * 4) == 0);
    CHECK(std::memcmp(reader.read("a").value.data(), a.data(), a.size() * 4) == 0);
    CHECK(reader.read("n").value[0] == 7.0f);
    CHECK(std::memcmp(reader.read("b").value.data(), b.data(), b.size() * 4) == 0);
    // A file cut short after it was opened: the read names the tensor; opening it again fails on the header.
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);
    CHECK_THROWS_WITH(reader.read("n"), Contains("bytes of tensor 'n' (file changed or read error)"));
    CHECK_THROWS_WITH(SafetensorsReader(path), Contains("beyond the data section"));
}

TEST_CASE("safetensors: every malformed file is rejected with a got/expected message") {
    const std::string ok = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    CHECK_NOTHROW(parse_safetensors(image(ok, 8), "test"));
    expect_error(std::string(5, '\0'), "truncated: 5 bytes");
    expect_error(image(ok, 4), "beyond the data section");  // truncated data
    std::string huge = image(ok, 8);
    const std::uint64_t big = safetensors_max_header + 1;
    std::memcpy(huge.data(), &big, 8);
    expect_error(huge, "exceeds the limit");
    std::string longer = image(ok, 8);
    const std::uint64_t too_long = 1000;
    std::memcpy(longer.data(), &too_long, 8);
    expect_error(longer, "truncated: header length 1000");
    expect_error(image("{\"w\": [1, 2", 0), "malformed JSON header");
    expect_error(image("[1, 2]", 0), "not a JSON object");
    expect_error(image(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4),
                 "dtype F16, expected F32");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
                 "negative dimension");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                 "cover 8 bytes, expected 12");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "end before begin");
    expect_error(
        image(
            R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            12),
        "overlapping");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "hole");
    expect_error(image(ok, 12), "data section has 12 bytes, tensors cover 8");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[2]}})", 8), "dtype, shape and data_offsets");
    expect_error(image(R"({"__metadata__":{"a":1}})", 0), "not a string");
    CHECK_THROWS_AS(read_safetensors("/nonexistent/x.safetensors"), mtag::Error);
}

// Crafted files from elsewhere: every size is checked against the file before anything is allocated.
TEST_CASE("safetensors: forged sizes fail before allocating (huge header, past EOF, overflow, overlap)") {
    // A header length near 2^64 and one past the end of a 16-byte file, through the file reader: both refused
    // from the 8-byte prefix and the file size.
    std::filesystem::create_directories(MTAG_TEST_TMP);
    const auto path = std::filesystem::path(MTAG_TEST_TMP) / "forged.safetensors";
    auto write = [&](const std::string& bytes) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    };
    std::string huge(16, '\0');
    const std::uint64_t near_max = ~std::uint64_t{0} - 7;
    std::memcpy(huge.data(), &near_max, 8);
    write(huge);
    CHECK_THROWS_WITH(read_safetensors(path), Contains("exceeds the limit"));
    const std::uint64_t past_eof = safetensors_max_header - 1;
    std::memcpy(huge.data(), &past_eof, 8);
    write(huge);
    CHECK_THROWS_WITH(read_safetensors(path), Contains("but the file has only 8 bytes after it"));

    // Offsets past the end of the file, negative and non-integer offsets.
    expect_error(image(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8), "beyond the data section of 8");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,0]}})", 8),
                 "end before begin");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8), "non-negative integers");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}})", 8), "non-negative integers");

    // dtype x shape products that wrap around 64 bits: [2^32, 2^32] x 4 bytes is 2^66, which wraps to 0 and
    // would match data_offsets [0, 0]; 2^40 per dimension over four dimensions; and 2^62 F32 values.
    expect_error(image(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0),
                 "more elements than 64 bits");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776,1099511627776,1099511627776],"data_offsets":[0,0]}})", 0),
                 "more elements than 64 bits");
    expect_error(image(R"({"w":{"dtype":"I64","shape":[2305843009213693952],"data_offsets":[0,0]}})", 0),
                 "implausibly large");
    expect_error(image(R"({"w":{"dtype":"F32","shape":[1099511627776,4194304],"data_offsets":[0,0]}})", 0),
                 "more elements than 64 bits");
    // A zero dimension makes any other dimension harmless (an empty tensor of 0 bytes).
    CHECK_NOTHROW(parse_safetensors(image(R"({"w":{"dtype":"F32","shape":[0,4294967296],"data_offsets":[0,0]}})", 0), "test"));

    // 2,000 entries that all claim the same 64 KiB: rejected as overlapping before any tensor is allocated
    // (under a 1 MiB budget, copying them would need 125 MiB).
    std::string many = "{";
    for (int i = 0; i < 2000; ++i)
        many += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
                R"(":{"dtype":"F32","shape":[16384],"data_offsets":[0,65536]})";
    many += "}";
    {
        AllocationBudget budget(1 << 20, "test budget");
        CHECK_THROWS_WITH(parse_safetensors(image(many, 65536), "test"), Contains("overlapping data_offsets"));
    }

    // A shape nested 100,000 arrays deep: an error message, not a stack overflow while printing it.
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    expect_error(image(R"({"w":{"dtype":"F32","shape":[)" + deep + R"(],"data_offsets":[0,0]}})", 0),
                 "shape a nested array has a non-integer");
}

TEST_CASE("safetensors: only a regular file is read (a FIFO or a folder would be read without end)") {
    std::filesystem::create_directories(MTAG_TEST_TMP);
    const auto fifo = std::filesystem::path(MTAG_TEST_TMP) / "weights.fifo";
    std::filesystem::remove(fifo);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(read_safetensors(fifo), Contains("is not a regular file"));
    CHECK_THROWS_WITH(read_safetensors(MTAG_TEST_TMP), Contains("is not a regular file"));
    std::filesystem::remove(fifo);
}
