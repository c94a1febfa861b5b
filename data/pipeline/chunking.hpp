#pragma once
// Chunking clips into the model's fixed input length, along the time axis (waveform samples or
// feature frames; the functions only see lengths and offsets).
//
//  - Training: random crops, `train_crops` per clip per epoch, offsets uniform in [0, total - length].
//  - Evaluation: K evenly spaced chunks (the first at 0, the last ending at the clip's end; the
//    published MTAT evaluation uses 16) or all non-overlapping chunks (the tail shorter than a chunk is
//    dropped); the model's outputs are passed through sigmoid (multi-label) or softmax (single-label)
//    and averaged over the chunks.
//  - A clip shorter than one chunk is zero-padded at its end (one chunk at offset 0): the model sees
//    the whole clip followed by silence, the same choice as torch.nn.functional.pad(x, (0, n)). The
//    clip pipeline pads waveforms (data/clip_pipeline.hpp), so for log features the padding is the
//    front end's silence floor rather than zeros in the log domain.
// ref: Won et al. 2020, "Evaluation of CNN-based automatic music tagging models" (chunked evaluation)
#include "dsp/matrix.hpp"

#include <cstddef>
#include <random>
#include <span>
#include <vector>

namespace mtag::data {

enum class EvalChunking { evenly_spaced, non_overlapping };

struct ChunkOptions {
    std::size_t length = 0;       // chunk length in samples or frames (the model's input length)
    std::size_t train_crops = 1;  // random crops per clip per epoch
    EvalChunking eval = EvalChunking::evenly_spaced;
    std::size_t eval_chunks = 16;  // K for evenly_spaced; an upper bound for non_overlapping (0 = all)

    // Throws mtag::Error for a zero length, zero train crops, or evenly_spaced with zero chunks.
    void validate() const;
};

// `count` random crop offsets for a clip of `total` units; 0 when the clip is not longer than a chunk.
std::vector<std::size_t> random_crop_offsets(std::size_t total, std::size_t length, std::size_t count,
                                             std::mt19937_64& rng);

// Offsets of the evaluation chunks of a clip of `total` units (at least one).
std::vector<std::size_t> eval_chunk_offsets(std::size_t total, const ChunkOptions& options);

// Copies signal[offset, offset + out.size()) into `out`, zero-filling what lies past the end.
void copy_chunk(std::span<const float> signal, std::size_t offset, std::span<float> out);

// Copies the frames [offset, offset + out.cols) of a [bins, frames] matrix into `out` (already sized
// [bins, length]), zero-filling frames past the end.
void copy_chunk(const dsp::FloatMatrix& features, std::size_t offset, dsp::FloatMatrix& out);

enum class ChunkActivation { sigmoid, softmax };

// Averages per-chunk logits [chunks, n_outputs] (row-major) into one score per output, after the
// activation, as the clip-level prediction.
std::vector<float> average_chunk_scores(std::span<const float> logits, std::size_t chunks,
                                        ChunkActivation activation);

}  // namespace mtag::data
