#pragma once
// One file's chunk windows spread over several sessions: all cores on one long file.
//
// `mtag tag` runs one session per file in parallel when there are at least as many files as threads. With
// fewer files than threads, each file gets several sessions instead: the calling thread decodes the file
// (streamed, a few blocks ahead on the decoder's own thread) and cuts its windows into batches of the
// sessions' batch size; each session, on its own thread, featurises and scores whole batches as they come;
// the batches' rows are summed in chunk order (data::ChunkSums). The batches are the same consecutive
// windows a single session forms, so the result is bit-identical to Session::tag_file whatever the number
// of sessions (given one GEMM thread per session, which is how `mtag tag` runs them).
// Memory: at most 2 batches per session wait, plus the decoder's look-ahead.
#include "data/tag/tagger.hpp"

#include <filesystem>
#include <span>

namespace mtag::data {

// Tags one file with `sessions` (one thread each; the caller's thread decodes). One session: tag_file.
// Throws mtag::Error naming the file when it cannot be decoded; a session's error is rethrown here.
TagResult tag_file_parallel(std::span<Session* const> sessions, const std::filesystem::path& path,
                            const TagOptions& options);

}  // namespace mtag::data
