#include "dsp/temporary_path.hpp"

#include <cstdint>
#include <string>

namespace mtag::dsp {

namespace {

// FNV-1a, 64 bits, as 16 hex digits: stable across runs and builds.
std::string fnv1a_hex(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    static const char* digits = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = digits[h & 15];
    return out;
}

// Cuts `s` to at most `bytes`, never inside a UTF-8 sequence (continuation bytes are 10xxxxxx), so that the
// shortened name stays valid text in listings.
std::string utf8_prefix(const std::string& s, std::size_t bytes) {
    if (s.size() <= bytes) return s;
    std::size_t n = bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

}  // namespace

std::filesystem::path temporary_path(const std::filesystem::path& path, std::string_view suffix,
                                     std::string_view prefix) {
    const std::string name = path.filename().string();
    std::string temporary;
    if (prefix.size() + name.size() + suffix.size() <= name_max_bytes) {
        temporary.append(prefix).append(name).append(suffix);
    } else {
        const std::string ext = path.extension().string();
        const std::string stem = name.substr(0, name.size() - ext.size());
        const std::string hash = fnv1a_hex(name);
        const std::size_t fixed = prefix.size() + 1 + hash.size() + ext.size() + suffix.size();
        const std::size_t room = fixed < name_max_bytes ? name_max_bytes - fixed : 0;
        temporary.append(prefix).append(utf8_prefix(stem, room)).append("~").append(hash).append(ext).append(suffix);
    }
    return path.parent_path() / temporary;
}

}  // namespace mtag::dsp
