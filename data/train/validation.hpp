#pragma once
// Validation of `mtag train` after each epoch: K evaluation chunks per clip, their sigmoid (multi-label)
// or softmax (single-label) outputs averaged per clip (data/pipeline/chunking.hpp), then val_loss,
// roc_auc_macro, pr_auc_macro and, for single-label data, accuracy. Clips the loader left out (unreadable
// files) are left out of the metrics too.
#include "data/distributed/communicator.hpp"
#include "data/pipeline/batch_loader.hpp"
#include "data/sets/dataset.hpp"
#include "nn/models/tagging_model.hpp"

#include <map>
#include <string>
#include <vector>

namespace mtag::data {

// The row-wise argmax of a row-major [rows, cols] matrix (single-label targets from one-hot rows).
std::vector<std::int64_t> argmax_rows(std::span<const float> values, std::size_t cols);

// One process: runs `loader` (shuffle off, K repeats per clip) through `model` in eval mode.
std::map<std::string, double> validate(nn::models::TaggingModel& model, BatchLoader& loader, const Dataset& dataset,
                                       const std::vector<std::size_t>& clips, bool single, std::size_t n_tags);

// Data-parallel: each rank runs its shard of every batch, the logits are gathered on every rank in the order
// one process would produce them and the per-batch losses computed from them, so every rank gets the same
// metrics a single process would (up to float rounding of the forward passes). `chunks` = K.
std::map<std::string, double> validate_distributed(nn::models::TaggingModel& model, BatchLoader& loader,
                                                   const Dataset& dataset, const std::vector<std::size_t>& clips,
                                                   std::size_t chunks, bool single, std::size_t n_tags,
                                                   std::size_t batch_size, dist::Communicator& comm);

}  // namespace mtag::data
