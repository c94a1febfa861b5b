#include "data/train/trainer.hpp"

#include "data/pipeline/batch_loader.hpp"
#include "data/pipeline/clip_pipeline.hpp"
#include "data/pipeline/waveform_cache.hpp"
#include "data/distributed/grad_sync.hpp"
#include "data/train/epoch_report.hpp"
#include "data/train/model_setup.hpp"
#include "data/train/run_checkpoint.hpp"
#include "data/train/train_step.hpp"
#include "data/train/training_statistics.hpp"
#include "data/train/validation.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/error.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/model_io.hpp"
#include "nn/threads.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>

namespace mtag::data {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One run of `mtag train`; run() reads as the list of its steps.
class Trainer {
  public:
    Trainer(const TrainConfig& config, const Dataset& dataset, const TrainerOptions& options);
    TrainResult run();

  private:
    void prepare_output() const;
    void check_data();                 // splits, task, metric
    void plan_threads();
    void describe_run();               // the model card: preset, front end, tags, chunking
    void fit_or_resume_statistics();
    NormalizationOptions normalization_options() const;  // the config's normalization and whitening
    void make_loaders();
    void make_training_state();
    void restore_position();
    void start_data_parallel();
    bool train_epoch();                // false when interrupted (checkpoint saved)
    bool finish_epoch(Clock::time_point t_epoch, std::size_t epoch_examples);  // true: stop the run
    void save_state(std::int64_t next_epoch, std::size_t next_batch) const;
    nlohmann::json training_summary(const std::map<std::string, double>& metrics) const;
    TrainResult interrupted(std::size_t batch);
    TrainResult finish();

    const TrainConfig& m_config;
    const Dataset& m_dataset;
    const TrainerOptions& m_options;
    const Clock::time_point m_start = Clock::now();
    // Data parallelism (see the header): null for one process, whatever the build.
    dist::Communicator* m_comm;
    int m_rank = 0, m_ranks = 1;
    bool m_root = true, m_quiet = false;  // progress lines from rank 0 only
    fs::path m_checkpoint_path;
    std::vector<std::size_t> m_train_clips, m_valid_clips;
    bool m_single = false;
    std::string m_metric;
    std::size_t m_n_tags = 0;
    int m_threads = 1, m_workers = 1;

    TrainingModel m_model;
    ModelCard m_card;
    FrontEnd m_front_end;                         // empty for waveform models
    std::unique_ptr<WaveformCache> m_waveforms;   // decoded clips: epochs after the first skip decoding
    std::optional<ResumedRun> m_resumed;
    std::unique_ptr<dsp::AugmentPipeline> m_augment;
    std::unique_ptr<BatchLoader> m_train_loader, m_valid_loader;
    std::size_t m_eval_chunks = 1, m_batches = 0;
    std::unique_ptr<nn::TrainingState> m_state;
    std::unique_ptr<dist::GradientSynchronizer> m_sync;
    std::unique_ptr<TrainStep> m_step;

    RunPosition m_position;        // epoch/batch in progress, the epoch's running loss, examples
    double m_seconds_before = 0;   // seconds trained by earlier processes (resume)
    TrainResult m_result;
    std::size_t m_trained_batches = 0;
    bool m_noted_short_batch = false;
};

Trainer::Trainer(const TrainConfig& config, const Dataset& dataset, const TrainerOptions& options)
    : m_config(config), m_dataset(dataset), m_options(options),
      m_comm(options.comm && options.comm->distributed() ? options.comm : nullptr) {
    if (m_comm) {
        m_rank = m_comm->rank();
        m_ranks = m_comm->size();
    }
    m_root = m_rank == 0;
    m_quiet = options.quiet || !m_root;
    m_checkpoint_path = options.out_dir / "checkpoint.safetensors";
}

TrainResult Trainer::run() {
    prepare_output();
    check_data();
    plan_threads();
    m_model = setup_model(m_config, m_dataset.vocabulary, m_options.init_from, m_options.freeze, m_quiet);
    describe_run();
    fit_or_resume_statistics();
    make_loaders();
    make_training_state();
    if (m_resumed) restore_position();
    if (m_root) std::ofstream(m_options.out_dir / "config.json") << m_config.to_json().dump(2) << "\n";
    if (m_comm) start_data_parallel();
    struct ObserverReset {  // the observer and BN reducers capture this run's synchroniser and communicator
        nn::models::TaggingModel& m;
        ~ObserverReset() {
            m.set_backward_observer({});
            for (nn::BatchNormBase* bn : nn::modules_of_type<nn::BatchNormBase>(m)) bn->set_stat_reducer({});
        }
    } observer_reset{*m_model.model};
    m_step = std::make_unique<TrainStep>(
        *m_model.model, *m_state,
        TrainStepOptions{.seed = m_config.seed, .skip_non_finite = m_config.nan_policy == NanPolicy::skip,
                         .sync_batchnorm = m_config.sync_batchnorm, .single_label = m_single,
                         .label_smoothing = m_config.regularization.label_smoothing, .n_tags = m_n_tags,
                         .quiet = m_quiet, .checkpoint = m_checkpoint_path, .check_every = m_options.check_every,
                         .stop = m_options.stop, .batch_hook = m_options.batch_hook},
        m_comm, m_sync.get());
    for (; m_position.epoch < m_config.epochs; ++m_position.epoch, m_position.batch = 0) {
        const auto t_epoch = Clock::now();
        const std::size_t examples_before = m_position.examples;
        if (!train_epoch()) return interrupted(m_position.batch);
        if (finish_epoch(t_epoch, m_position.examples - examples_before)) break;
    }
    return finish();
}

void Trainer::prepare_output() const {
    fs::create_directories(m_options.out_dir);
    if (m_options.resume && !run_checkpoint_exists(m_checkpoint_path))
        throw Error("--resume", "no checkpoint in " + m_options.out_dir.string() + " (expected " +
                                    m_checkpoint_path.string() + ")");
    if (!m_options.resume && run_checkpoint_exists(m_checkpoint_path))
        throw Error("--out " + m_options.out_dir.string(),
                    "already holds a run (checkpoint.safetensors); use --resume or another directory");
}

void Trainer::check_data() {
    m_train_clips = m_dataset.indices(Split::train);
    m_valid_clips = m_dataset.indices(Split::valid);
    if (m_train_clips.empty()) throw Error("dataset " + m_dataset.source.string(), "has no training clips");
    if (m_valid_clips.empty())
        throw Error("dataset " + m_dataset.source.string(), "has no validation clips (split 'valid')");
    m_single = is_single_label(m_config, m_dataset);
    m_metric = m_config.resolved_metric(m_single);
    if (m_metric == "accuracy" && !m_single) throw Error("train config", "metric accuracy needs a single-label dataset");
    m_n_tags = m_dataset.vocabulary.size();
    m_result.metric = m_metric;
}

void Trainer::plan_threads() {
    // Loader workers plus compute threads stay within the budget.
    m_threads = m_config.threads > 0 ? m_config.threads
                                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    if (m_comm && m_config.threads <= 0) {
        // All cores of the node shared by the ranks Open MPI placed on it.
        const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (local && std::atoi(local) > 0) m_threads = std::max(1, m_threads / std::atoi(local));
    }
    // Compute takes the whole budget; loader workers run beside it, as PyTorch's DataLoader workers do.
    // With a model that costs more per clip than loading it, the workers sleep on a full queue most of the
    // time, so reserving cores for them (as this trainer once did) left a core idle: short_chunk_cnn on 2
    // cores trained at 9.8 clips/s with 1 compute thread. They never call BLAS, so no nesting multiplies
    // the thread count.
    m_workers = std::clamp(m_config.data.workers, 1, m_threads);
    nn::set_thread_budget(m_threads);
}

void Trainer::describe_run() {
    const nn::Shape in_shape = m_model.model->input_shape(1);
    const auto input_length = static_cast<std::size_t>(in_shape[in_shape.rank() - 1]);
    m_card.mtag_version = m_options.mtag_version;
    m_card.preset = m_config.preset();
    m_card.model_options = m_model.spec;
    m_card.features = m_config.features;
    m_card.input_length = input_length;
    m_card.tags = m_dataset.vocabulary;
    m_card.task = m_single ? Task::singlelabel : Task::multilabel;
    m_card.evaluation = {.length = input_length, .train_crops = m_config.chunking.train_crops, .eval = m_config.evaluation.eval,
                         .eval_chunks = m_config.evaluation.eval_chunks};
    m_card.evaluation.validate();
    if (!m_config.is_waveform()) {
        m_front_end = make_front_end(m_card.feature_config());
        if (static_cast<std::int64_t>(m_card.feature_config().bins()) != in_shape[1])
            throw Error("train config", "features give " + std::to_string(m_card.feature_config().bins()) +
                                            " bins, the model expects " + std::to_string(in_shape[1]));
    }
    m_waveforms = std::make_unique<WaveformCache>(WaveformCacheOptions{.sample_rate = m_card.sample_rate()});
}

NormalizationOptions Trainer::normalization_options() const {
    return {.kind = m_config.normalization, .method = m_config.whitening.method, .eps = m_config.whitening.eps};
}

void Trainer::fit_or_resume_statistics() {
    if (m_options.resume) {
        m_resumed = load_run_checkpoint(m_checkpoint_path);
        m_card.normalization = m_resumed->normalization;
    } else if (!m_comm) {
        m_card.normalization = fit_training_statistics(m_dataset, m_train_clips, *m_waveforms, m_front_end,
                                                       normalization_options(), m_threads, m_options.quiet);
    } else {
        // Rank 0 computes the statistics while the others wait (no watchdog: this may take long).
        std::string text;
        if (m_root)
            text = fit_training_statistics(m_dataset, m_train_clips, *m_waveforms, m_front_end,
                                           normalization_options(), m_threads, m_options.quiet)
                       .to_json()
                       .dump();
        m_comm->broadcast_untimed(text, 0);
        m_card.normalization = Normalization::from_json(nlohmann::json::parse(text));
    }
    m_card.validate("model card");
}

void Trainer::make_loaders() {
    if (m_config.augmentation) m_augment = std::make_unique<dsp::AugmentPipeline>(*m_config.augmentation);
    auto sample_fn = [&](bool train) -> SampleFn {
        if (!m_front_end)
            return make_waveform_sample_fn(m_card.sample_rate(), m_card.evaluation, train, m_augment.get(),
                                           &m_card.normalization, m_waveforms.get());
        ClipPipelineOptions o{.features = m_card.feature_config(), .chunking = m_card.evaluation, .train = train,
                              .augment = m_augment.get(), .waveforms = m_waveforms.get(),
                              .normalization = &m_card.normalization};
        return make_clip_sample_fn(o, m_front_end);
    };
    const auto shard_index = static_cast<std::size_t>(m_rank), shard_count = static_cast<std::size_t>(m_ranks);
    m_train_loader = std::make_unique<BatchLoader>(
        m_dataset, m_train_clips, sample_fn(true),
        BatchLoaderOptions{.batch_size = m_config.batch_size, .workers = m_workers, .prefetch = m_config.data.prefetch,
                           .shuffle = true, .repeats = m_config.chunking.train_crops, .seed = m_config.seed,
                           .shard_index = shard_index, .shard_count = shard_count});
    m_eval_chunks = m_config.evaluation.eval == EvalChunking::evenly_spaced ? m_config.evaluation.eval_chunks
                                                                          : std::max<std::size_t>(m_config.evaluation.eval_chunks, 1);
    m_valid_loader = std::make_unique<BatchLoader>(
        m_dataset, m_valid_clips, sample_fn(false),
        BatchLoaderOptions{.batch_size = m_config.batch_size, .workers = m_workers, .prefetch = m_config.data.prefetch,
                           .shuffle = false, .repeats = m_eval_chunks, .seed = m_config.seed,
                           .shard_index = shard_index, .shard_count = shard_count});
    m_batches = m_train_loader->batches_per_epoch();
}

void Trainer::make_training_state() {
    auto optimizer = nn::make_optimizer(m_config.optimizer, m_model.fresh, m_model.pretrained);
    const nn::MonitorMode mode = m_metric == "val_loss" ? nn::MonitorMode::min : nn::MonitorMode::max;
    const nn::ScheduleContext context{.lr = optimizer->lr(), .epochs = m_config.epochs,
                                      .batches_per_epoch = static_cast<std::int64_t>(m_batches), .monitor = mode};
    auto schedule = nn::make_schedule(m_config.schedule, context);
    nn::TrainingStateOptions so;
    so.monitor = m_metric;
    so.early_stopping.mode = mode;
    so.early_stopping.patience = m_config.early_stopping.patience > 0 ? m_config.early_stopping.patience
                                                                      : std::numeric_limits<std::int64_t>::max();
    so.early_stopping.min_delta = m_config.early_stopping.min_delta;
    const ReloadBestConfig& reload = m_config.reload_best;
    so.reload_best.enabled = reload.enabled;
    so.reload_best.lr_factor = reload.lr_factor;
    so.reload_best.max_reloads = reload.max_reloads;
    so.reload_best.switch_to_sgd_at = reload.switch_to_sgd_at;
    so.schedule_unit = nn::effective_unit(m_config.schedule);
    so.max_grad_norm = m_config.max_grad_norm;
    so.phases = m_config.phases;
    so.schedule_context = context;
    so.regularization = m_config.regularization.options(m_config.max_grad_norm);
    if (m_root) so.log_path = m_options.out_dir / "log.jsonl";
    m_state = std::make_unique<nn::TrainingState>(std::move(optimizer), std::move(schedule), so);
}

void Trainer::restore_position() {
    // Full model first (buffers, frozen parameters), then the optimizer-side state.
    restore_model(*m_model.model, m_resumed->checkpoint);
    m_state->load(m_resumed->checkpoint);
    m_position = m_resumed->position;
    m_seconds_before = m_position.seconds;
    m_result.best_epoch = m_position.best_epoch;
    m_result.skipped_batches = m_position.skipped_batches;
    if (!m_quiet)
        std::cerr << "resuming " << m_options.out_dir.string() << " at epoch " << m_position.epoch + 1 << ", batch "
                  << m_position.batch << "\n";
}

void Trainer::start_data_parallel() {
    nn::models::TaggingModel& model = *m_model.model;
    dist::broadcast_model(*m_comm, model);
    std::vector<nn::Parameter*> trainable;
    for (nn::Parameter* p : model.parameters())
        if (p->requires_grad) trainable.push_back(p);
    m_sync = std::make_unique<dist::GradientSynchronizer>(*m_comm, trainable,
                                                          dist::GradSyncOptions{.bucket_bytes = m_options.bucket_bytes});
    model.set_backward_observer([sync = m_sync.get()](nn::Module& m) { sync->on_module_done(m); });
    if (m_config.sync_batchnorm) {
        // Synchronised BatchNorm: every training forward/backward of a BN layer sums its per-channel
        // statistics over the ranks (a blocking all-reduce, in the same layer order on every rank).
        for (nn::BatchNormBase* bn : nn::modules_of_type<nn::BatchNormBase>(model))
            bn->set_stat_reducer([comm = m_comm](std::span<double> v) { comm->allreduce_sum(v, "synchronised BatchNorm"); });
    }
    if (m_quiet) return;
    cpu_set_t allowed;
    const int threads_used = m_threads + m_workers;  // compute threads + loader workers
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) < threads_used)
        std::cerr << "warning: each rank may run on " << CPU_COUNT(&allowed) << " CPU(s) but uses " << threads_used
                  << " threads (loader + compute); its loader starves while it waits in MPI. Start mpirun with "
                     "--bind-to none, or --map-by slot:PE=" << threads_used << "\n";
    std::cerr << "data-parallel over " << m_ranks << " ranks (" << dist::Communicator::library_version()
              << "): global batch " << m_config.batch_size << ", " << m_threads << " threads per rank, "
              << m_sync->floats_per_step() * sizeof(float) << " bytes all-reduced per step in " << m_sync->bucket_count()
              << " buckets; BatchNorm statistics "
              << (m_config.sync_batchnorm ? "synchronised over ranks" : "per rank (local)") << "\n";
}

bool Trainer::train_epoch() {
    const bool has_batchnorm = !nn::modules_of_type<nn::BatchNormBase>(*m_model.model).empty();
    m_train_loader->start_epoch(static_cast<std::uint64_t>(m_position.epoch));
    m_model.model->train();
    const std::size_t resume_at = m_position.batch;  // resumed mid-epoch: batches before it are trained
    for (std::size_t b = 0;; ++b) {
        auto batch = m_train_loader->next();
        if (!batch) break;
        if (b < resume_at) continue;
        m_position.batch = b;
        const bool signalled = m_comm ? m_step->stop_agreed() : (m_options.stop && m_options.stop->load());
        if (signalled || (m_options.stop_after_batches && m_trained_batches >= m_options.stop_after_batches))
            return false;
        if (m_comm && has_batchnorm && batch->global_size < 2 * static_cast<std::size_t>(m_ranks)) {
            // A shard of one example cannot give BatchNorm batch statistics: skip this (last, short) batch
            // on every rank alike.
            if (!m_quiet && !m_noted_short_batch)
                std::cerr << "note: the last batch (" << batch->global_size << " examples) is skipped: fewer than 2 "
                          << "per rank for BatchNorm\n";
            m_noted_short_batch = true;
            continue;
        }
        const StepOutcome step = m_step->run(*batch, m_position.epoch, b);
        ++m_trained_batches;
        if (step.skipped) {
            ++m_result.skipped_batches;
            continue;
        }
        m_position.loss_sum += step.loss;
        ++m_position.loss_count;
        m_position.examples += step.examples;
        ++m_result.steps;
        if (m_options.on_step && m_root)
            m_options.on_step({.epoch = m_position.epoch, .epochs = m_config.epochs, .batch = b, .batches = m_batches,
                               .examples = step.examples, .loss = step.loss});
    }
    if (m_options.on_step && m_root)
        m_options.on_step({.epoch = m_position.epoch, .epochs = m_config.epochs, .batches = m_batches, .epoch_end = true});
    return true;
}

bool Trainer::finish_epoch(Clock::time_point t_epoch, std::size_t epoch_examples) {
    const double train_seconds = seconds_since(t_epoch);
    nn::models::TaggingModel& model = *m_model.model;
    const std::int64_t epoch = m_position.epoch;
    const double train_loss = m_position.loss_count ? m_position.loss_sum / static_cast<double>(m_position.loss_count) : NAN;
    m_result.step_seconds += train_seconds;
    m_result.examples_trained += epoch_examples;
    if (m_comm) {
        dist::average_buffers(*m_comm, model);
        dist::check_parameters_agree(*m_comm, model, m_state->step());
    }
    std::map<std::string, double> metrics =
        m_comm ? validate_distributed(model, *m_valid_loader, m_dataset, m_valid_clips, m_eval_chunks, m_single, m_n_tags,
                                      m_config.batch_size, *m_comm)
               : validate(model, *m_valid_loader, m_dataset, m_valid_clips, m_single, m_n_tags);
    const std::vector<ClipFailure> train_failures = m_train_loader->epoch_failures();
    const std::vector<ClipFailure> valid_failures = m_valid_loader->epoch_failures();
    if (m_root) {  // each rank reports its own shard's failures on stderr; rank 0 logs its own
        report_skipped_clips(train_failures, epoch, "train", m_options.out_dir / "log.jsonl", m_options.quiet);
        report_skipped_clips(valid_failures, epoch, "valid", m_options.out_dir / "log.jsonl", m_options.quiet);
    }
    if (!train_failures.empty() || !valid_failures.empty())
        metrics["skipped_clips"] = static_cast<double>(train_failures.size() + valid_failures.size());
    metrics["train_loss"] = train_loss;
    metrics["clips_per_second"] = train_seconds > 0 ? epoch_examples / train_seconds : 0;
    const nn::EpochDecision decision = m_state->end_epoch(metrics);
    if (decision.improved) {
        m_result.best_epoch = epoch + 1;
        m_result.best_value = metrics[m_metric];
        m_card.training = training_summary(metrics);
        if (m_root) save_run(model, m_card, m_options.out_dir);
    }
    m_result.train_losses.push_back(train_loss);
    m_result.last_metrics = metrics;
    m_result.epochs_completed = epoch + 1;
    m_position.loss_sum = 0;
    m_position.loss_count = 0;
    const double budget_seconds = m_config.max_minutes * 60.0;
    const double elapsed = m_seconds_before + seconds_since(m_start);
    bool out_of_time = budget_seconds > 0 && elapsed >= budget_seconds;
    if (m_comm && budget_seconds > 0) {
        // Clocks differ slightly between ranks: stop when any rank is out of time, all together.
        double flag = out_of_time ? 1 : 0;
        m_comm->allreduce_sum(std::span<double>(&flag, 1), "time budget agreement");
        out_of_time = flag > 0;
    }
    const double epoch_seconds = seconds_since(t_epoch);  // validation included
    save_state(epoch + 1, 0);
    if (!m_quiet) {
        double eta = static_cast<double>(m_config.epochs - epoch - 1) * epoch_seconds;
        if (budget_seconds > 0) eta = std::min(eta, std::max(0.0, budget_seconds - elapsed));
        std::cerr << format_epoch_line({.epoch = epoch + 1, .epochs = m_config.epochs, .batches = m_batches,
                                        .train_loss = train_loss, .eta_seconds = eta, .single_label = m_single,
                                        .improved = decision.improved, .skipped_batches = m_result.skipped_batches},
                                       metrics)
                  << std::endl;
    }
    if (decision.stop || m_state->should_stop()) {
        m_result.stop_reason = "early_stopping";
        return true;
    }
    if (out_of_time) {
        m_result.stop_reason = "max_minutes";
        if (!m_quiet)
            std::cerr << "time budget of " << m_config.max_minutes << " min used up after epoch " << epoch + 1
                      << "; keeping the best model (epoch " << m_result.best_epoch << ")\n";
        return true;
    }
    return false;
}

void Trainer::save_state(std::int64_t next_epoch, std::size_t next_batch) const {
    if (!m_root) return;
    RunPosition p = m_position;
    p.epoch = next_epoch;
    p.batch = next_batch;
    p.seconds = m_seconds_before + seconds_since(m_start);
    p.best_epoch = m_result.best_epoch;
    p.skipped_batches = m_result.skipped_batches;
    save_run_checkpoint(m_checkpoint_path, *m_state, *m_model.model, p, m_card.normalization);
}

nlohmann::json Trainer::training_summary(const std::map<std::string, double>& metrics) const {
    return nlohmann::json{{"best_epoch", m_result.best_epoch},
                          {"metric", m_metric},
                          {"validation", metrics_json(metrics)},
                          {"epochs_planned", m_config.epochs},
                          {"dataset", {{"format", m_dataset.format}, {"source", m_dataset.source.string()},
                                       {"train_clips", m_train_clips.size()}, {"valid_clips", m_valid_clips.size()}}},
                          {"seed", m_config.seed},
                          {"seconds", m_seconds_before + seconds_since(m_start)},
                          {"init_from", m_options.init_from.string()},
                          {"freeze", m_options.freeze},
                          {"config", m_config.to_json()}};
}

TrainResult Trainer::interrupted(std::size_t batch) {
    save_state(m_position.epoch, batch);
    m_result.interrupted = true;
    m_result.stop_reason = "interrupted";
    m_result.seconds = seconds_since(m_start);
    m_result.comm_wait_seconds = m_step->comm_wait_seconds();
    if (m_options.on_finish) m_options.on_finish(*m_model.model);
    if (m_comm) m_comm->barrier("end of run");  // return once rank 0's checkpoint is on disk
    if (!m_quiet)
        std::cerr << "interrupted at epoch " << m_position.epoch + 1 << ", batch " << batch << ": checkpoint saved to "
                  << m_checkpoint_path.string() << " (continue with --resume)\n";
    return m_result;
}

TrainResult Trainer::finish() {
    if (m_result.stop_reason.empty()) m_result.stop_reason = "epochs";
    m_result.seconds = m_seconds_before + seconds_since(m_start);
    m_result.comm_wait_seconds = m_step->comm_wait_seconds();
    if (m_options.on_finish) m_options.on_finish(*m_model.model);
    if (!m_root) {
        m_comm->barrier("end of run");  // return once rank 0 has written the run directory
        return m_result;
    }
    const fs::path out = m_options.out_dir;
    if (m_result.best_epoch > 0 && fs::exists(out / "model.json")) {
        // The final summary goes into the card of the best model (whose weights are already on disk);
        // m_card.training is that model's summary (set when it improved).
        ModelCard card = load_card(out);
        card.training.update({{"stop_reason", m_result.stop_reason},
                              {"epochs_completed", m_result.epochs_completed},
                              {"total_seconds", m_result.seconds},
                              {"skipped_batches", m_result.skipped_batches}});
        rewrite_card(card, out);
    } else if (m_result.best_epoch == 0) {
        // No epoch improved (e.g. metric NaN throughout): save the last weights so the run is usable.
        m_card.training = training_summary(m_result.last_metrics);
        save_run(*m_model.model, m_card, out);
    }
    if (m_comm) m_comm->barrier("end of run");
    return m_result;
}

}  // namespace

bool is_single_label(const TrainConfig& config, const Dataset& dataset) {
    if (config.task == "singlelabel") return true;
    if (config.task == "multilabel") return false;
    if (dataset.format == "gtzan") return true;
    for (const Clip& c : dataset.clips)
        if (std::count(c.tags.begin(), c.tags.end(), std::uint8_t{1}) != 1) return false;
    return !dataset.clips.empty();
}

TrainResult train(const TrainConfig& config, const Dataset& dataset, const TrainerOptions& options) {
    return Trainer(config, dataset, options).run();
}

}  // namespace mtag::data
