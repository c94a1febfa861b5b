// TrainingState; see training_state.hpp.
#include "nn/train/training_state.hpp"

#include "dsp/error.hpp"
#include "nn/safetensors.hpp"
#include "nn/schedule/plateau.hpp"
#include "nn/schedule/warmup.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <zlib.h>

namespace mtag::nn {
namespace {

constexpr const char* kFormat = "mtag.training_state";
constexpr const char* kChecksum = "mtag.checksum";

// CRC-32 (zlib) of what a checkpoint means: the state JSON, then every tensor in name order as its name,
// shape and float32 bytes. Computed from the values rather than the file's bytes, so the reader checks
// exactly what it is about to use: a flipped byte in the data, in a tensor's name, shape or offsets, or
// in the state JSON changes it; a truncated file or a broken header already fails the safetensors reader.
std::string checkpoint_checksum(const std::string& state,
                                std::vector<std::pair<std::string, const Tensor*>> tensors) {
    std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    uLong crc = crc32(0L, Z_NULL, 0);
    auto add = [&crc](const void* bytes, std::size_t n) {
        const auto* p = static_cast<const Bytef*>(bytes);
        while (n > 0) {  // zlib takes uInt lengths
            const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
            crc = crc32(crc, p, chunk);
            p += chunk;
            n -= chunk;
        }
    };
    add(state.data(), state.size());
    for (const auto& [name, t] : tensors) {
        add(name.c_str(), name.size() + 1);
        const std::int64_t rank = t->rank();
        add(&rank, sizeof rank);
        for (int d = 0; d < t->rank(); ++d) {
            const std::int64_t dim = t->shape()[d];
            add(&dim, sizeof dim);
        }
        if (t->size() > 0) add(t->data(), t->size() * sizeof(float));
    }
    char text[16];
    std::snprintf(text, sizeof text, "crc32:%08lx", static_cast<unsigned long>(crc & 0xffffffffUL));
    return text;
}

nlohmann::json number_or_null(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

const Tensor& find_tensor(const TrainingCheckpoint& c, const std::string& name) {
    for (const auto& [n, t] : c.tensors)
        if (n == name) return t;
    throw Error("training checkpoint", "tensor '" + name + "' missing");
}

// Tensors whose names start with prefix, prefix removed.
std::vector<std::pair<std::string, Tensor>> with_prefix(const TrainingCheckpoint& c,
                                                        const std::string& prefix) {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto& [n, t] : c.tensors)
        if (n.rfind(prefix, 0) == 0) out.emplace_back(n.substr(prefix.size()), t);
    return out;
}

}  // namespace

std::filesystem::path previous_checkpoint_path(const std::filesystem::path& path) {
    return path.string() + ".prev";
}

void save_checkpoint(const TrainingCheckpoint& checkpoint, const std::filesystem::path& path) {
    std::vector<SafetensorsEntry> entries;
    std::vector<std::pair<std::string, const Tensor*>> named;
    for (const auto& [name, t] : checkpoint.tensors) {
        entries.push_back({name, t, false});
        named.emplace_back(name, &t);
    }
    const std::string state = checkpoint.scalars.dump();
    const auto tmp = std::filesystem::path(path.string() + ".tmp");
    write_safetensors(tmp, entries, {{kFormat, state}, {kChecksum, checkpoint_checksum(state, named)}});
    // The checkpoint being replaced becomes the previous one (load_checkpoint's fallback) through a hard link,
    // so "<path>" names a complete checkpoint at every moment: the old one until the last rename replaces it
    // atomically. A file system without hard links gets a rename instead; a kill between the two renames then
    // leaves only "<path>.prev", which a resume also finds.
    std::error_code ec;
    if (std::filesystem::exists(path)) {
        const auto prev = previous_checkpoint_path(path);
        const auto link = std::filesystem::path(prev.string() + ".tmp");
        std::filesystem::remove(link, ec);
        std::filesystem::create_hard_link(path, link, ec);
        if (!ec) {
            std::filesystem::rename(link, prev, ec);
            // A run killed between the two renames left "<path>.prev" as a second name of "<path>"; POSIX
            // rename() between two names of one file succeeds and does nothing, which would leave the link.
            std::error_code ignored;
            if (!ec) std::filesystem::remove(link, ignored);
        } else {
            std::filesystem::rename(path, prev, ec);
        }
        if (ec)
            throw Error("training checkpoint '" + path.string() + "'",
                        "cannot keep it as the previous checkpoint: " + ec.message());
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error("training checkpoint '" + path.string() + "'", "cannot replace it: " + ec.message());
}

TrainingCheckpoint load_checkpoint(const std::filesystem::path& path) {
    SafetensorsFile file = read_safetensors(path);
    const auto it = file.metadata.find(kFormat);
    if (it == file.metadata.end())
        throw Error(
            "training checkpoint '" + path.string() + "'",
            std::string("has no __metadata__ entry '") + kFormat + "'; not written by save_checkpoint");
    // Checkpoints written before the checksum existed have none and are accepted as they are; any other
    // metadata entry is a damaged name (a flipped byte in "mtag.checksum" must not pass as an old file).
    for (const auto& [key, value] : file.metadata)
        if (key != kFormat && key != kChecksum)
            throw Error("training checkpoint '" + path.string() + "'",
                        "is corrupted: unexpected __metadata__ entry '" + key + "'");
    if (const auto sum = file.metadata.find(kChecksum); sum != file.metadata.end()) {
        std::vector<std::pair<std::string, const Tensor*>> named;
        for (const auto& [name, t] : file.tensors) named.emplace_back(name, &t.value);
        const std::string actual = checkpoint_checksum(it->second, named);
        if (actual != sum->second)
            throw Error("training checkpoint '" + path.string() + "'",
                        "is corrupted: checksum " + actual + " does not match the stored " + sum->second);
    }
    TrainingCheckpoint c;
    try {
        c.scalars = nlohmann::json::parse(it->second);
    } catch (const nlohmann::json::exception& e) {
        throw Error("training checkpoint '" + path.string() + "'",
                    std::string("malformed state JSON: ") + e.what());
    }
    for (auto& [name, t] : file.tensors) c.tensors.emplace_back(name, std::move(t.value));
    return c;
}

TrainingState::TrainingState(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<LrSchedule> schedule,
                             TrainingStateOptions options, std::vector<Buffer*> buffers)
    : m_o(std::move(options)),
      m_optimizer(std::move(optimizer)),
      m_schedule(std::move(schedule)),
      m_params(m_optimizer ? m_optimizer->parameters() : std::vector<Parameter*>{}),
      m_buffers(std::move(buffers)),
      m_early(m_o.early_stopping, m_params, m_buffers),
      m_base_lr(m_optimizer ? m_optimizer->lr() : 0),
      m_optimizer_lr(m_base_lr),
      m_unit(m_o.schedule_unit) {
    if (!m_optimizer) throw Error("TrainingState", "needs an optimizer (got null)");
    if (m_o.monitor.empty())
        throw Error("TrainingState option monitor", "is empty; name the metric to monitor");
    const auto& r = m_o.reload_best;
    if (r.enabled) {
        if (!(r.lr_factor > 0 && r.lr_factor <= 1))
            throw Error("TrainingState option reload_best.lr_factor",
                        "got " + std::to_string(r.lr_factor) + ", expected in (0, 1]");
        if (r.max_reloads < 0) throw Error("TrainingState option reload_best.max_reloads", "must be >= 0");
        if (r.switch_to_sgd_at < 0 || r.switch_to_sgd_at > r.max_reloads)
            throw Error("TrainingState option reload_best.switch_to_sgd_at",
                        "got " + std::to_string(r.switch_to_sgd_at) + ", expected 0 (never) .. max_reloads");
        if (r.switch_to_sgd_at > 0 && m_schedule)
            throw Error("TrainingState",
                        "reload_best.switch_to_sgd_at needs a constant rate (no schedule): the "
                        "schedule was built for the first optimizer");
        if (r.switch_to_sgd_at > 0) Sgd(m_optimizer->param_groups(), r.sgd);  // validate the SGD options now
    }
    if (m_schedule && m_o.schedule_unit == ScheduleUnit::batch) {
        const LrSchedule* s = m_schedule.get();
        while (const auto* w = dynamic_cast<const Warmup*>(s)) s = &w->inner();
        if (dynamic_cast<const ReduceOnPlateau*>(s))
            throw Error("TrainingState option schedule_unit",
                        "reduce-on-plateau needs a monitored value: step it per epoch, not per batch");
    }
    if (m_o.max_grad_norm < 0)
        throw Error("TrainingState option max_grad_norm", "must be >= 0 (0 = no clipping)");
    m_o.regularization.validate();
    if (m_o.max_grad_norm > 0 && !(m_o.regularization.clip_grad_norm > 0))
        m_o.regularization.clip_grad_norm = m_o.max_grad_norm;
    apply_lr();
}

double TrainingState::target_lr() const {
    return (m_schedule ? m_schedule->lr() : m_base_lr) * m_lr_scale;
}

void TrainingState::apply_lr() {
    m_optimizer->set_lr(target_lr());
    if (m_schedule)
        if (const auto m = m_schedule->momentum()) m_optimizer->set_momentum(*m);
}

void TrainingState::optimizer_step() {
    const RegularizationOptions& r = m_o.regularization;
    if (r.any()) {
        m_last_grad_norm = regularize_gradients(m_params, r);
    }
    m_optimizer->step();
    if (r.max_norm > 0) apply_max_norm(m_params, r.max_norm);
    ++m_step;
    if (m_schedule && m_unit == ScheduleUnit::batch) {
        m_schedule->step();
        apply_lr();
    }
}

void TrainingState::enter_phase(std::size_t k, bool reload) {
    const TrainingPhase& p = m_o.phases.at(k - 1);
    if (reload && p.reload_best) m_early.restore_best();
    m_early.reset_patience();
    if (p.optimizer) {
        // Same groups (rate ratios kept, e.g. the fine-tuning multiplier), the new optimizer's own weight decay.
        OptimizerConfig config = *p.optimizer;
        if (p.lr > 0) config.set_lr(p.lr);
        auto groups = m_optimizer->param_groups();
        for (auto& g : groups) {
            g.lr = config.lr() * (*g.lr / m_optimizer_lr);
            g.weight_decay.reset();
        }
        m_optimizer = make_optimizer(config, std::move(groups));
        m_optimizer_lr = m_base_lr = config.lr();
    } else if (p.lr > 0) {
        m_base_lr = p.lr;
    }
    m_lr_scale = 1;
    ScheduleContext context = m_o.schedule_context;
    context.lr = m_base_lr;
    m_schedule = make_schedule(p.schedule, context);
    m_unit = effective_unit(p.schedule);
    m_phase = k;
    m_phase_epochs = 0;
    apply_lr();
}

void TrainingState::switch_to_sgd() {
    // Same groups (rate ratios kept), SGD's own weight decay for all of them.
    auto groups = m_optimizer->param_groups();
    const double old_lr = m_base_lr;  // group rates were set relative to this
    for (auto& g : groups) {
        g.lr = m_o.reload_best.sgd.lr * (*g.lr / old_lr);
        g.weight_decay.reset();
    }
    m_optimizer = std::make_unique<Sgd>(std::move(groups), m_o.reload_best.sgd);
    m_base_lr = m_o.reload_best.sgd.lr;
    m_lr_scale = 1;
    m_switched = true;
}

EpochDecision TrainingState::end_epoch(const std::map<std::string, double>& metrics) {
    const auto it = metrics.find(m_o.monitor);
    if (it == metrics.end())
        throw Error("TrainingState::end_epoch", "metrics lack the monitored '" + m_o.monitor + "'");
    if (m_stopped)
        throw Error("TrainingState::end_epoch",
                    "training already stopped at epoch " + std::to_string(m_epoch - 1));
    const double value = it->second;
    EpochRecord rec{m_epoch, m_step, m_optimizer->lr(), m_optimizer->kind(), metrics, {}};
    EpochDecision d;
    d.improved = m_early.update(value);
    if (d.improved) rec.events.push_back("improved");
    if (m_schedule && m_unit == ScheduleUnit::epoch) {
        m_schedule->step(value);
        apply_lr();
    }
    ++m_phase_epochs;
    if (m_phase < m_o.phases.size()) {
        // The next phase's trigger; early stopping waits for the last phase.
        const TrainingPhase& next = m_o.phases[m_phase];
        const bool fire = next.trigger == PhaseTrigger::epochs ? m_phase_epochs >= next.after
                                                               : m_early.bad_epochs() >= next.after;
        if (fire) {
            enter_phase(m_phase + 1, true);
            d.phase_changed = true;
            if (next.reload_best) d.reloaded = true;
            rec.events.push_back("phase " + std::to_string(m_phase));
        }
    } else if (m_early.should_stop()) {
        const auto& r = m_o.reload_best;
        if (r.enabled && m_reloads < r.max_reloads) {
            m_early.restore_best();
            m_early.reset_patience();
            ++m_reloads;
            m_lr_scale *= r.lr_factor;
            d.reloaded = true;
            rec.events.push_back("reload_best");
            if (r.switch_to_sgd_at == m_reloads) {
                switch_to_sgd();
                d.switched_optimizer = true;
                rec.events.push_back("switch_to_sgd");
            }
            apply_lr();
        } else {
            m_early.restore_best();
            m_stopped = d.stop = true;
            rec.events.push_back("stop");
        }
    }
    ++m_epoch;
    m_history.push_back(rec);
    m_last_line = log_line(rec);
    if (!m_o.log_path.empty()) {
        std::ofstream log(m_o.log_path, std::ios::app);
        if (!log)
            throw Error("training log '" + m_o.log_path.string() + "'", "cannot be opened for appending");
        log << m_last_line << '\n';
    }
    return d;
}

std::string TrainingState::log_line(const EpochRecord& r) const {
    nlohmann::json j;
    j["epoch"] = r.epoch;
    j["step"] = r.step;
    j["lr"] = r.lr;
    for (const auto& [k, v] : r.metrics) j[k] = number_or_null(v);
    j["best"] = number_or_null(m_early.best());
    j["best_epoch"] = m_early.best_epoch();
    j["bad_epochs"] = m_early.bad_epochs();
    j["optimizer"] = r.optimizer;
    j["events"] = r.events;
    return j.dump();
}

TrainingCheckpoint TrainingState::save() const {
    TrainingCheckpoint c;
    auto& s = c.scalars;
    s["format"] = kFormat;
    s["version"] = 1;
    s["epoch"] = m_epoch;
    s["step"] = m_step;
    s["reloads"] = m_reloads;
    s["switched_to_sgd"] = m_switched;
    s["stopped"] = m_stopped;
    s["base_lr"] = m_base_lr;
    s["lr_scale"] = m_lr_scale;
    s["phase"] = m_phase;
    s["phase_epochs"] = m_phase_epochs;
    s["monitor"] = m_o.monitor;
    const OptimizerState os = m_optimizer->state();
    s["optimizer"] = os.scalars;
    s["schedule"] = m_schedule ? m_schedule->state() : nlohmann::json(nullptr);
    s["early_stopping"] = m_early.state();
    for (const auto& r : m_history) {
        nlohmann::json m;
        for (const auto& [k, v] : r.metrics) m[k] = number_or_null(v);
        s["history"].push_back(
            {{"epoch", r.epoch}, {"step", r.step}, {"lr", r.lr}, {"optimizer", r.optimizer}, {"metrics", m}, {"events", r.events}});
    }
    for (const Parameter* p : m_params) c.tensors.emplace_back("param." + p->name, p->value.clone());
    for (const Buffer* b : m_buffers) c.tensors.emplace_back("buffer." + b->name, b->value.clone());
    for (auto& [n, t] : m_early.best_weights()) c.tensors.emplace_back("best." + n, t);
    for (const auto& [n, t] : os.tensors) c.tensors.emplace_back("optimizer." + n, t);
    return c;
}

void TrainingState::load(const TrainingCheckpoint& c) {
    const auto& s = c.scalars;
    if (s.value("format", std::string()) != kFormat)
        throw Error("training checkpoint", "format is '" + s.value("format", std::string("<none>")) +
                                               "', expected '" + kFormat + "'");
    if (s.at("monitor").get<std::string>() != m_o.monitor)
        throw Error("training checkpoint",
                    "monitors '" + s.at("monitor").get<std::string>() + "', expected '" + m_o.monitor + "'");
    // Rebuild the optimizer and schedule of the phase the run was in (their kinds), then load their state.
    const std::size_t phase = s.value("phase", std::size_t{0});
    if (phase > m_o.phases.size())
        throw Error("training checkpoint", "was in phase " + std::to_string(phase) + ", but the config has only " +
                                               std::to_string(m_o.phases.size()) + " phases");
    for (std::size_t k = m_phase + 1; k <= phase; ++k) enter_phase(k, false);
    if (s.at("schedule").is_null() != (m_schedule == nullptr))
        throw Error("training checkpoint", std::string("was saved ") + (m_schedule ? "without" : "with") +
                                               " a schedule, this state has " +
                                               (m_schedule ? "one" : "none"));
    // Check every parameter tensor before touching anything.
    std::vector<const Tensor*> values;
    for (const Parameter* p : m_params) {
        const Tensor& t = find_tensor(c, "param." + p->name);
        if (!(t.shape() == p->value.shape()))
            throw Error("training checkpoint", "tensor 'param." + p->name + "' has shape " + t.shape().str() +
                                                   ", expected " + p->value.shape().str());
        values.push_back(&t);
    }
    std::vector<const Tensor*> buffer_values;
    for (const Buffer* b : m_buffers) {
        const Tensor& t = find_tensor(c, "buffer." + b->name);
        if (!(t.shape() == b->value.shape()))
            throw Error("training checkpoint", "tensor 'buffer." + b->name + "' has shape " +
                                                   t.shape().str() + ", expected " + b->value.shape().str());
        buffer_values.push_back(&t);
    }
    if (s.at("switched_to_sgd").get<bool>() && !m_switched) switch_to_sgd();
    m_optimizer->load_state({s.at("optimizer"), with_prefix(c, "optimizer.")});
    if (m_schedule) m_schedule->load_state(s.at("schedule"));
    m_early.load_state(s.at("early_stopping"), with_prefix(c, "best."));
    for (std::size_t i = 0; i < m_params.size(); ++i) m_params[i]->value.copy_from(*values[i]);
    for (std::size_t i = 0; i < m_buffers.size(); ++i) m_buffers[i]->value.copy_from(*buffer_values[i]);
    m_epoch = s.at("epoch").get<std::int64_t>();
    m_step = s.at("step").get<std::int64_t>();
    m_reloads = s.at("reloads").get<std::int64_t>();
    m_switched = s.at("switched_to_sgd").get<bool>();
    m_stopped = s.at("stopped").get<bool>();
    m_base_lr = s.at("base_lr").get<double>();
    m_lr_scale = s.at("lr_scale").get<double>();
    m_phase_epochs = s.value("phase_epochs", std::int64_t{0});
    m_history.clear();
    if (s.contains("history") && !s["history"].is_null())
        for (const auto& h : s["history"]) {
            EpochRecord r;
            r.epoch = h.at("epoch");
            r.step = h.at("step");
            r.lr = h.at("lr");
            r.optimizer = h.value("optimizer", std::string());
            for (const auto& [k, v] : h.at("metrics").items())
                r.metrics[k] = v.is_null() ? std::nan("") : v.get<double>();
            r.events = h.at("events").get<std::vector<std::string>>();
            m_history.push_back(std::move(r));
        }
    apply_lr();  // the rate (and cycled momentum) the uninterrupted run would use next
}

}  // namespace mtag::nn
