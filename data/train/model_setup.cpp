#include "data/train/model_setup.hpp"

#include "data/run/fixed_front_end.hpp"
#include "data/run/model_card.hpp"
#include "dsp/error.hpp"
#include "nn/models/zoo.hpp"

#include <iostream>
#include <map>
#include <set>

namespace mtag::data {

std::vector<nn::Parameter*> transfer_weights(nn::Module& from, nn::Module& to, const std::string& skip_prefix) {
    std::map<std::string, nn::Tensor*> source;
    for (nn::Parameter* p : from.parameters()) source[p->name] = &p->value;
    for (nn::Buffer* b : from.buffers()) source[b->name] = &b->value;
    auto skipped = [&](const std::string& name) { return !skip_prefix.empty() && name.rfind(skip_prefix + ".", 0) == 0; };
    std::vector<nn::Parameter*> copied;
    for (nn::Parameter* p : to.parameters()) {
        auto it = source.find(p->name);
        if (skipped(p->name) || it == source.end()) continue;
        if (!(it->second->shape() == p->value.shape()))
            throw Error("--init-from", "parameter '" + p->name + "' has shape " + it->second->shape().str() + ", expected " +
                                           p->value.shape().str() + " (same preset and options needed)");
        p->value.copy_from(*it->second);
        copied.push_back(p);
    }
    for (nn::Buffer* b : to.buffers()) {
        auto it = source.find(b->name);
        if (!skipped(b->name) && it != source.end() && it->second->shape() == b->value.shape()) b->value.copy_from(*it->second);
    }
    return copied;
}

TrainingModel setup_model(const TrainConfig& config, const std::vector<std::string>& tags,
                          const std::filesystem::path& init_from, int freeze, bool quiet) {
    TrainingModel out;
    out.spec = config.model.spec(config.seed);
    out.model = build_new_model(out.spec, static_cast<std::int64_t>(tags.size()), config.features.sample_rate());
    std::vector<nn::Parameter*> loaded;
    if (!init_from.empty()) {
        RunModel base = load_run(init_from);
        const bool same_vocab = base.card.tags == tags;
        loaded = transfer_weights(*base.model, *out.model, same_vocab ? std::string() : out.model->output_name());
        if (!quiet)
            std::cerr << "init from " << init_from.string() << ": " << loaded.size() << " tensors loaded"
                      << (same_vocab ? "" : ", output layer re-created for the new vocabulary") << "\n";
    }
    if (freeze > 0) out.model->freeze_blocks(freeze);
    // Training never reads d loss / d input: skip the first layer's input gradient (the work `mtag bench
    // train` already leaves out), which a fixed front end such as DftMelgram cannot give at all.
    out.model->set_input_grad(false);
    out.model->train();
    const std::set<nn::Parameter*> from_base(loaded.begin(), loaded.end());
    for (nn::Parameter* p : out.model->parameters()) {
        if (!p->requires_grad) continue;
        (from_base.count(p) ? out.pretrained : out.fresh).push_back(p);
    }
    return out;
}

}  // namespace mtag::data
