#pragma once
// Temporary names for atomic writes. Every output of mtag is written under a temporary name beside its
// final one and renamed into place when complete, so that nothing partial ever appears under the final
// name. The temporary name is the final one plus a suffix (".tmp-<pid>-<n>"), which fails with
// ENAMETOOLONG for a final name near NAME_MAX (255 bytes: a song title of 120 accented characters is 240).
// temporary_path() shortens such names instead: the stem is cut, and an FNV-1a hash of the whole name
// keeps two long names that share a beginning apart; the extension is kept, so that the cleanup of stale
// temporaries (matching "<ext><suffix>", e.g. ".npy.tmp-") still finds them.
#include <filesystem>
#include <string_view>

namespace mtag::dsp {

// Longest file name (one path component) in bytes on Linux file systems (NAME_MAX).
constexpr std::size_t name_max_bytes = 255;

// `path`'s folder / (prefix + `path`'s name + suffix), with the name shortened as described above when the
// result would exceed name_max_bytes. E.g. temporary_path("out/a.npy", ".tmp-12-0") is "out/a.npy.tmp-12-0".
std::filesystem::path temporary_path(const std::filesystem::path& path, std::string_view suffix,
                                     std::string_view prefix = {});

}  // namespace mtag::dsp
