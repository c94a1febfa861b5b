#include "data/sets/csv.hpp"

#include "dsp/error.hpp"

#include <fstream>
#include <sstream>

namespace mtag::data {

std::vector<CsvRow> parse_csv(std::string_view text, const CsvOptions& options, const std::string& source) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    std::vector<CsvRow> rows;
    CsvRow row;
    std::string field;
    std::size_t line = 1;
    row.line = 1;
    bool in_quotes = false;
    bool after_quote = false;  // a quoted field just closed: only a delimiter or a line end may follow
    bool row_has_content = false;

    auto end_field = [&]() {
        row.fields.push_back(std::move(field));
        field.clear();
        after_quote = false;
    };
    auto end_row = [&]() {
        end_field();
        const bool empty = !row_has_content && row.fields.size() == 1 && row.fields[0].empty();
        if (!(empty && options.skip_empty_lines)) rows.push_back(std::move(row));
        row = CsvRow{};
        row.line = line;
        row_has_content = false;
    };

    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_quotes) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field.push_back('"');
                    ++i;
                } else {
                    in_quotes = false;
                    after_quote = true;
                }
            } else {
                if (c == '\n') ++line;
                field.push_back(c);
            }
            continue;
        }
        if (c == options.delimiter) {
            row_has_content = true;
            end_field();
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            ++line;
            end_row();
        } else if (after_quote) {
            throw Error(source + ":" + std::to_string(line), std::string("unexpected character '") + c +
                                                                 "' after a closing quote (a quote inside "
                                                                 "a quoted field must be doubled)");
        } else if (c == '"' && options.quoting && field.empty()) {
            in_quotes = true;
            row_has_content = true;
        } else {
            field.push_back(c);
            row_has_content = true;
        }
    }
    if (in_quotes)
        throw Error(source + ":" + std::to_string(row.line),
                    "a quoted field is never closed (missing '\"' before the end of the file)");
    if (row_has_content || !field.empty() || !row.fields.empty()) end_row();
    return rows;
}

std::vector<CsvRow> read_csv(const std::filesystem::path& path, const CsvOptions& options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("annotation file '" + path.string() + "'", "cannot be opened (does it exist?)");
    // One buffer of the file's size (a stringstream would hold the text twice: 100 MB for a 1e6-row manifest).
    std::error_code ec;
    const auto size = std::filesystem::is_regular_file(path, ec) ? std::filesystem::file_size(path, ec) : 0;
    std::string text;
    if (!ec && size > 0) {
        text.resize(size);
        in.read(text.data(), static_cast<std::streamsize>(size));
        text.resize(static_cast<std::size_t>(in.gcount()));
    } else {
        std::ostringstream buffer;  // a pipe or /dev/stdin: no size to read ahead
        buffer << in.rdbuf();
        text = std::move(buffer).str();
    }
    return parse_csv(text, options, path.string());
}

std::string csv_escape(std::string_view field, char delimiter) {
    if (field.find_first_of(std::string{delimiter, '"', '\n', '\r'}) == std::string_view::npos)
        return std::string(field);
    std::string out = "\"";
    for (char c : field) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

int column_index(const CsvRow& header, std::string_view name) {
    for (std::size_t i = 0; i < header.fields.size(); ++i) {
        std::string_view f = header.fields[i];
        while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
        while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
        if (f == name) return static_cast<int>(i);
    }
    return -1;
}

}  // namespace mtag::data
