#pragma once
// K-fold cross-validation on the training split (sklearn.model_selection.StratifiedKFold's idea, for
// multi-label data too): every training clip gets one of K folds; run k trains on the other folds and
// validates on fold k. The dataset's own valid split is not used by fold runs (its clips are left out, so no
// clip is seen twice), and the test split is left untouched for the final evaluation.
//
// Assignment: each clip is grouped by its rarest tag (in the training split; clips without tags form one
// group), groups are dealt rarest first, each group's clips in a seeded random order, round-robin over the
// folds with one counter running through all groups. So fold sizes differ by at most one clip and every tag
// is spread over the folds as evenly as its rarest-tag group allows. Deterministic for a seed and clip order.
#include "data/sets/dataset.hpp"

#include <cstdint>
#include <vector>

namespace mtag::data {

// The fold (0..k-1) of every clip of `dataset` (same order as dataset.clips); -1 for clips outside the
// training split. Throws mtag::Error when k < 2 or the training split has fewer than k clips.
std::vector<int> assign_folds(const Dataset& dataset, std::size_t k, std::uint64_t seed);

// The dataset of fold run `fold`: the training clips of `fold` become the valid split, the other training
// clips stay in train, the original valid clips are removed, the test clips are kept as they are.
Dataset fold_dataset(const Dataset& dataset, const std::vector<int>& folds, int fold);

// Mean and standard deviation of fold values (numpy's std, ddof = 0, what `scores.std()` of
// sklearn's cross_val_score prints); non-finite values are left out and counted.
struct FoldStatistics {
    double mean = 0, std_dev = 0;
    std::size_t count = 0;    // finite values
    std::size_t missing = 0;  // folds without a finite value
};
FoldStatistics fold_statistics(const std::vector<double>& values);

}  // namespace mtag::data
