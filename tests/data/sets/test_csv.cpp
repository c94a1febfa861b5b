#include "data/sets/csv.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

using namespace mtag::data;

TEST_CASE("csv: quoted fields keep commas, quotes and line breaks") {
    const auto rows =
        parse_csv("path,tags,split\n\"a, b.wav\",\"x;y\",train\n\"say \"\"hi\"\"\",\"two\nlines\",test\n");
    REQUIRE(rows.size() == 3);
    CHECK(rows[1].fields == std::vector<std::string>{"a, b.wav", "x;y", "train"});
    CHECK(rows[2].fields[0] == "say \"hi\"");
    CHECK(rows[2].fields[1] == "two\nlines");
    CHECK(rows[2].line == 3);
}

TEST_CASE("csv: CRLF, BOM, empty fields, blank lines and no final newline") {
    const auto rows = parse_csv(
        "\xEF\xBB\xBF"
        "a,b,c\r\n1,,3\r\n\r\n,,\r\nlast,row,x");
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].fields[0] == "a");
    CHECK(rows[1].fields == std::vector<std::string>{"1", "", "3"});
    CHECK(rows[2].fields == std::vector<std::string>{"", "", ""});
    CHECK(rows[2].line == 4);
    CHECK(rows[3].fields[2] == "x");
}

TEST_CASE("csv: tab-separated with every field quoted (MTAT style)") {
    const auto rows = parse_csv("\"clip_id\"\t\"no voice\"\t\"mp3_path\"\n\"2\"\t\"0\"\t\"f/a-b, c.mp3\"\n",
                                {.delimiter = '\t'});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].fields[1] == "no voice");
    CHECK(rows[1].fields[2] == "f/a-b, c.mp3");
}

TEST_CASE("csv: unquoted TSV treats quotes literally") {
    const auto rows = parse_csv("a\t\"b\tc\n", {.delimiter = '\t', .quoting = false});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].fields == std::vector<std::string>{"a", "\"b", "c"});
}

TEST_CASE("csv: malformed quoting is an error naming the line") {
    CHECK_THROWS_WITH(parse_csv("a,b\n\"open,2\n", {}, "m.csv"),
                      Catch::Contains("m.csv:2") && Catch::Contains("never closed"));
    CHECK_THROWS_WITH(parse_csv("\"a\"x,b\n", {}, "m.csv"), Catch::Contains("m.csv:1"));
}

TEST_CASE("csv: escape round-trips through the parser") {
    const std::vector<std::string> fields = {"plain", "with,comma", "with \"quote\"", "multi\nline", ""};
    std::string line;
    for (const auto& f : fields) {
        if (!line.empty()) line += ",";
        line += csv_escape(f);
    }
    const auto rows = parse_csv(line + "\n", {.skip_empty_lines = false});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].fields == fields);
    CHECK(column_index(parse_csv(" path , tags\n")[0], "tags") == 1);
}
