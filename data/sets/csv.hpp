#pragma once
// An RFC 4180 reader for the CSV and TSV annotation files of the datasets: quoted fields may hold the
// delimiter, line breaks and doubled quotes ("a ""b"""), rows end in LF or CRLF, a UTF-8 BOM is skipped.
// ref: RFC 4180, Common Format and MIME Type for Comma-Separated Values (CSV) Files
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mtag::data {

struct CsvOptions {
    char delimiter = ',';  // '\t' for TSV
    bool quoting = true;   // false: '"' is an ordinary character (MTG-Jamendo's TSVs are unquoted)
    bool skip_empty_lines = true;
};

// One record and the 1-based line on which it starts (for messages like "file.csv:17").
struct CsvRow {
    std::vector<std::string> fields;
    std::size_t line = 0;
};

// Parses CSV text. Throws mtag::Error naming `source` and the line for an unterminated quoted field
// or a character after a closing quote.
std::vector<CsvRow> parse_csv(std::string_view text, const CsvOptions& options = {},
                              const std::string& source = "csv text");

// Reads and parses a file; throws mtag::Error when it cannot be read.
std::vector<CsvRow> read_csv(const std::filesystem::path& path, const CsvOptions& options = {});

// Quotes a field for writing when it contains the delimiter, a quote or a line break.
std::string csv_escape(std::string_view field, char delimiter = ',');

// Index of `name` in a header row (exact match after trimming spaces), or -1.
int column_index(const CsvRow& header, std::string_view name);

}  // namespace mtag::data
