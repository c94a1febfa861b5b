#pragma once
// TrainingState: everything a training loop carries from epoch to epoch besides the model and the data
// order: the optimizer, the learning-rate schedule, early stopping (with best weights), the
// "reload best and decay" recipe, the recipe's later phases (nn/train/phase.hpp: a new optimizer, rate or
// schedule when a trigger fires), and the metric history. It saves and restores all of it as one
// checkpoint (JSON scalars + named tensors) and logs one JSON line per epoch.
//
// Reload best and decay (ref: Won et al. 2020, "Evaluation of CNN-based Automatic Music Tagging
// Models", training recipe; Pons et al. 2018): when the monitored value has not improved for
// `patience` epochs, restore the best weights, multiply the rate by lr_factor and carry on; on the
// reload numbered switch_to_sgd_at, replace the optimizer (Adam) by SGD with Nesterov momentum. After
// max_reloads reloads the next plateau stops training (and the best weights are restored).
#include "nn/optim/optimizer.hpp"
#include "nn/optim/sgd.hpp"
#include "nn/schedule/lr_schedule.hpp"
#include "nn/train/early_stopping.hpp"
#include "nn/train/phase.hpp"
#include "nn/train/regularization.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn {

struct ReloadBestOptions {
    bool enabled = false;
    double lr_factor = 0.1;
    std::int64_t max_reloads = 3;
    std::int64_t switch_to_sgd_at = 0;  // 1-based reload number; 0 = never switch
    SgdOptions sgd{.lr = 1e-3, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
};

struct TrainingStateOptions {
    std::string monitor = "val_loss";     // key of the metrics passed to end_epoch()
    EarlyStoppingOptions early_stopping;  // mode (min for a loss, max for ROC-AUC), patience, min_delta
    ReloadBestOptions reload_best;
    ScheduleUnit schedule_unit = ScheduleUnit::epoch;  // when the schedule steps
    double max_grad_norm = 0;                          // > 0: clip gradients by global norm before each step
    // Later phases of the recipe (nn/train/phase.hpp), in order; their schedules are built for this run
    // (context.lr is each phase's rate). While phases remain, early stopping does not stop the run.
    std::vector<TrainingPhase> phases;
    ScheduleContext schedule_context;
    // Penalties, clipping and max-norm around each step (nn/train/regularization.hpp); its
    // clip_grad_norm, when set, takes precedence over max_grad_norm.
    RegularizationOptions regularization;
    std::filesystem::path log_path;                    // JSON lines, appended; empty: no file
};

// One epoch of history.
struct EpochRecord {
    std::int64_t epoch = 0;
    std::int64_t step = 0;  // optimizer steps taken when the epoch ended
    double lr = 0;          // base rate used during the epoch
    std::string optimizer;  // kind of the optimizer that trained the epoch
    std::map<std::string, double> metrics;
    std::vector<std::string> events;  // "improved", "reload_best", "switch_to_sgd", "stop"
};

// What end_epoch() decided.
struct EpochDecision {
    bool improved = false;
    bool reloaded = false;
    bool switched_optimizer = false;
    bool phase_changed = false;  // a phase of options.phases began (events: "phase N")
    bool stop = false;
};

// A full checkpoint: scalars (counters, options, history, optimizer/schedule scalars) and tensors
// named "param.<name>" (current weights), "buffer.<name>" (current buffers), "best.<name>"
// (early-stopping snapshot of both) and
// "optimizer.<name>.<buffer>", ready for a safetensors writer.
struct TrainingCheckpoint {
    nlohmann::json scalars;
    std::vector<std::pair<std::string, Tensor>> tensors;
};

// Writes a checkpoint as one safetensors file: the tensors under their names, the scalars as JSON in
// __metadata__["mtag.training_state"] and a CRC-32 of both in __metadata__["mtag.checksum"]. Written to
// "<path>.tmp" first; the checkpoint it replaces is kept as previous_checkpoint_path(path)
// ("<path>.prev"), then the new one is renamed over `path`.
void save_checkpoint(const TrainingCheckpoint& checkpoint, const std::filesystem::path& path);
// Reads a file written by save_checkpoint: the safetensors reader validates the file, then the checksum
// is verified; a corrupted checkpoint throws mtag::Error naming the file.
TrainingCheckpoint load_checkpoint(const std::filesystem::path& path);
// Where save_checkpoint keeps the checkpoint it replaced: "<path>.prev".
std::filesystem::path previous_checkpoint_path(const std::filesystem::path& path);

class TrainingState {
  public:
    // `schedule` may be null (constant rate); it must be null when reload_best switches to SGD.
    // `buffers` (Module::buffers(): BatchNorm running statistics) join the parameters in the best
    // snapshot and in checkpoints, so that reloading and resuming restore them too.
    TrainingState(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<LrSchedule> schedule,
                  TrainingStateOptions options, std::vector<Buffer*> buffers = {});

    // Regularises (penalties and clipping; see regularization.hpp), steps the optimizer, applies
    // the max-norm constraint, and steps a per-batch schedule.
    void optimizer_step();
    void zero_grad() { m_optimizer->zero_grad(); }
    // Records the epoch's metrics (must contain options.monitor), steps a per-epoch schedule (with the
    // monitored value), runs early stopping / reload-best, writes one JSON log line.
    EpochDecision end_epoch(const std::map<std::string, double>& metrics);

    bool should_stop() const { return m_stopped; }
    Optimizer& optimizer() { return *m_optimizer; }
    LrSchedule* schedule() { return m_schedule.get(); }
    const EarlyStopping& early_stopping() const { return m_early; }
    const std::vector<EpochRecord>& history() const { return m_history; }
    std::int64_t epoch() const { return m_epoch; }
    // 0 while the initial optimizer and schedule train; k once options.phases[k-1] has begun.
    std::size_t phase() const { return m_phase; }
    std::int64_t step() const { return m_step; }
    // Global gradient norm before the last clipping (0 when clipping is off).
    double last_grad_norm() const { return m_last_grad_norm; }
    // The JSON line written for the last epoch.
    const std::string& last_log_line() const { return m_last_line; }

    TrainingCheckpoint save() const;
    // Restores everything save() wrote, the parameters' values included; the object must have been
    // built with the same kinds of optimizer (the pre-switch one) and schedule and the same parameters.
    void load(const TrainingCheckpoint& checkpoint);

  private:
    double target_lr() const;
    void apply_lr();
    void switch_to_sgd();
    // Begins options.phases[k-1]: optional reload of the best weights, new optimizer or rate, the phase's schedule.
    void enter_phase(std::size_t k, bool reload);
    std::string log_line(const EpochRecord& r) const;

    TrainingStateOptions m_o;
    std::unique_ptr<Optimizer> m_optimizer;
    std::unique_ptr<LrSchedule> m_schedule;
    std::vector<Parameter*> m_params;
    std::vector<Buffer*> m_buffers;
    EarlyStopping m_early;
    double m_base_lr;       // rate without a schedule (the optimizer's, or the SGD's after a switch)
    double m_lr_scale = 1;  // product of the reload decays
    double m_optimizer_lr;  // the current optimizer's rate at construction (its groups' rates are relative to it)
    ScheduleUnit m_unit;    // when the current schedule steps
    std::size_t m_phase = 0;
    std::int64_t m_phase_epochs = 0;  // epochs trained in the current phase
    std::int64_t m_epoch = 0, m_step = 0, m_reloads = 0;
    bool m_switched = false, m_stopped = false;
    double m_last_grad_norm = 0;
    std::vector<EpochRecord> m_history;
    std::string m_last_line;
};

}  // namespace mtag::nn
