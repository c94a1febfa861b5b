#include "data/sweep/folds.hpp"

#include "data/sweep/search_space.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

namespace mtag::data {

std::vector<int> assign_folds(const Dataset& dataset, std::size_t k, std::uint64_t seed) {
    const std::vector<std::size_t> train = dataset.indices(Split::train);
    if (k < 2) throw Error("--folds " + std::to_string(k), "cross-validation needs at least 2 folds");
    if (train.size() < k)
        throw Error("--folds " + std::to_string(k), "the training split has only " + std::to_string(train.size()) +
                                                        " clips; use at most that many folds");
    const std::vector<std::size_t> counts = dataset.tag_counts(Split::train);
    // Group key: (count of the clip's rarest tag, that tag); untagged clips last.
    std::map<std::pair<std::size_t, std::size_t>, std::vector<std::size_t>> groups;
    for (std::size_t c : train) {
        std::pair<std::size_t, std::size_t> key{std::numeric_limits<std::size_t>::max(), 0};
        const std::vector<std::uint8_t>& tags = dataset.clips[c].tags;
        for (std::size_t t = 0; t < tags.size(); ++t)
            if (tags[t] && counts[t] < key.first) key = {counts[t], t};
        groups[key].push_back(c);
    }
    std::vector<int> folds(dataset.clips.size(), -1);
    std::mt19937_64 rng(derive_seed(seed, 0x666f6c64 /* "fold" */));
    std::size_t next = 0;
    for (auto& [key, clips] : groups) {
        // Fisher-Yates with our own draws (std::shuffle's use of the generator differs between libraries).
        for (std::size_t i = clips.size(); i > 1; --i) std::swap(clips[i - 1], clips[rng() % i]);
        for (std::size_t c : clips) folds[c] = static_cast<int>(next++ % k);
    }
    return folds;
}

Dataset fold_dataset(const Dataset& dataset, const std::vector<int>& folds, int fold) {
    Dataset out = dataset;
    out.clips.clear();
    for (std::size_t i = 0; i < dataset.clips.size(); ++i) {
        Clip clip = dataset.clips[i];
        if (clip.split == Split::valid) continue;
        if (clip.split == Split::train) clip.split = folds[i] == fold ? Split::valid : Split::train;
        out.clips.push_back(std::move(clip));
    }
    return out;
}

FoldStatistics fold_statistics(const std::vector<double>& values) {
    FoldStatistics s;
    double sum = 0;
    for (double v : values)
        if (std::isfinite(v)) sum += v, ++s.count;
    s.missing = values.size() - s.count;
    if (s.count == 0) {
        s.mean = s.std_dev = std::nan("");
        return s;
    }
    s.mean = sum / static_cast<double>(s.count);
    double squares = 0;
    for (double v : values)
        if (std::isfinite(v)) squares += (v - s.mean) * (v - s.mean);
    s.std_dev = std::sqrt(squares / static_cast<double>(s.count));
    return s;
}

}  // namespace mtag::data
