#pragma once
// Checkpoint averaging (ref: Vaswani et al. 2017, "the last 5 checkpoints averaged"; fairseq's
// scripts/average_checkpoints.py; the checkpoint form of torch.optim.swa_utils' SWA): the epoch checkpoints a
// run kept (config keep_checkpoints, RUN/checkpoints/epoch_NNNN.safetensors) are averaged tensor by tensor into
// one model directory with the run's card. As fairseq does, every float tensor is averaged, BatchNorm running
// statistics included (no update_bn pass over the data); integer buffers (num_batches_tracked) come from the
// newest checkpoint.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace mtag::data {

struct AveragedCheckpoints {
    std::vector<std::int64_t> epochs;  // 1-based epochs averaged, oldest first
};

// The epoch checkpoints of `run_dir`, oldest first (empty when none were kept).
std::vector<std::int64_t> kept_epochs(const std::filesystem::path& run_dir);

// Averages the last `last` kept epochs of `run_dir` (all when fewer; throws mtag::Error when none, naming
// keep_checkpoints) into `out_dir` (model.json + model.safetensors, written through temporary names).
AveragedCheckpoints average_checkpoints(const std::filesystem::path& run_dir, std::size_t last,
                                        const std::filesystem::path& out_dir);

}  // namespace mtag::data
