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
#include "nn/layers/dropout.hpp"
#include "nn/model_io.hpp"
#include "nn/threads.hpp"
#include "nn/train/ema.hpp"
#include "nn/safetensors.hpp"

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
    void validate_ema(std::map<std::string, double>& metrics);  // ema_* metrics; saves RUN/best_ema on improvement
    void keep_epoch_checkpoint(std::int64_t epoch) const;       // keep_checkpoints: this epoch's weights, pruned
    TrainResult find_lr();                                       // the learning-rate range test
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
    std::unique_ptr<nn::ExponentialMovingAverage> m_ema;  // config ema
    bool m_overfit = false;                               // TrainerOptions::overfit_batches > 0
    std::vector<nn::Tensor> m_epoch_start_weights;        // trainable weights when the epoch began (weight_change)
    std::int64_t m_epoch_start_step = 0;

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
    m_overfit = options.overfit_batches > 0;
    if (m_comm && (m_overfit || options.lr_find))
        throw Error("mtag train", "--overfit-batches and --lr-find run in one process; start them without mpirun");
    if (options.resume && (m_overfit || options.lr_find))
        throw Error("mtag train", "--overfit-batches and --lr-find start a new run; they do not take --resume");
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
    if (m_config.ema)
        m_ema = std::make_unique<nn::ExponentialMovingAverage>(
            *m_model.model, nn::EmaOptions{.decay = m_config.ema->decay, .use_buffers = m_config.ema->use_buffers});
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
    if (m_options.lr_find) return find_lr();
    for (; m_result.stop_reason.empty() && m_position.epoch < m_config.epochs; ++m_position.epoch, m_position.batch = 0) {
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
    if (m_overfit) {
        // The first N batches of the training split, in the dataset's order.
        m_train_clips.resize(std::min(m_train_clips.size(), m_options.overfit_batches * m_config.batch_size));
        if (!m_quiet)
            std::cerr << "overfit-batches: training on " << m_train_clips.size() << " clips (" << m_options.overfit_batches
                      << " batch(es) of " << m_config.batch_size << "), the same every epoch, no augmentation\n";
    }
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
    if (m_config.augmentation && !m_overfit) m_augment = std::make_unique<dsp::AugmentPipeline>(*m_config.augmentation);
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
                           .shuffle = !m_overfit, .repeats = m_config.chunking.train_crops, .seed = m_config.seed,
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
    so.early_stopping.patience = m_config.early_stopping.patience > 0 && !m_overfit
                                     ? m_config.early_stopping.patience
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
    // A checkpoint saved at the end of the run: nothing is left to train, the run ends as it did.
    m_result.epochs_completed = m_position.epoch;
    m_result.stop_reason = m_position.stop_reason;
    if (m_ema) m_ema->load_state(m_resumed->checkpoint.tensors, m_position.ema_updates);
    m_result.ema_best_epoch = m_position.ema_best_epoch;
    m_result.ema_best_value = m_position.ema_best;
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
    // Overfit mode: epoch 0's crops every epoch, so the N batches are the same examples throughout.
    m_train_loader->start_epoch(m_overfit ? 0 : static_cast<std::uint64_t>(m_position.epoch));
    m_model.model->train();
    // Overfit mode: dropout off (CS231n's sanity check sets regularisation to zero), the rest of the model trains.
    if (m_overfit)
        for (nn::Dropout* d : nn::modules_of_type<nn::Dropout>(*m_model.model)) d->eval();
    const std::size_t resume_at = m_position.batch;  // resumed mid-epoch: batches before it are trained
    m_epoch_start_weights.clear();
    for (nn::Parameter* p : m_model.model->parameters())
        if (p->requires_grad) m_epoch_start_weights.push_back(p->value.clone());
    m_epoch_start_step = m_state->step();
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
        if (m_ema) m_ema->update();
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
    if (m_ema) validate_ema(metrics);
    metrics["train_loss"] = train_loss;
    // How far the weights moved per optimizer step, relative to their size (CS231n's update/weight ratio, about
    // 1e-3 when the rate is right): ||w_end - w_start|| / ||w_start|| / steps, read by the loss-curve diagnosis.
    if (const std::int64_t steps = m_state->step() - m_epoch_start_step; steps > 0 && !m_epoch_start_weights.empty()) {
        double moved = 0, size = 0;
        std::size_t k = 0;
        for (nn::Parameter* p : model.parameters()) {
            if (!p->requires_grad) continue;
            const float* a = m_epoch_start_weights[k++].data();
            const float* b = p->data();
            for (std::size_t i = 0; i < p->size(); ++i) {
                moved += (double(b[i]) - a[i]) * (double(b[i]) - a[i]);
                size += double(a[i]) * a[i];
            }
        }
        metrics["update_ratio"] = size > 0 ? std::sqrt(moved / size) / static_cast<double>(steps) : NAN;
    }
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
    // The stop decision is made before the epoch's checkpoint, which records it: a run killed after that
    // checkpoint resumes into the same end instead of training another epoch.
    std::string stop_reason;
    if (m_overfit) {
        m_result.overfit_final_loss = train_loss;
        if (train_loss < m_options.overfit_threshold) {
            m_result.overfit_reached = true;
            stop_reason = "overfit_reached";
        }
    }
    if (stop_reason.empty() && (decision.stop || m_state->should_stop())) stop_reason = "early_stopping";
    if (stop_reason.empty() && out_of_time) stop_reason = "max_minutes";
    const double epoch_seconds = seconds_since(t_epoch);  // validation included
    m_position.stop_reason = stop_reason;
    save_state(epoch + 1, 0);
    if (m_config.keep_checkpoints > 0 && m_root) keep_epoch_checkpoint(epoch);
    if (!m_quiet) {
        double eta = static_cast<double>(m_config.epochs - epoch - 1) * epoch_seconds;
        if (budget_seconds > 0) eta = std::min(eta, std::max(0.0, budget_seconds - elapsed));
        std::cerr << format_epoch_line({.epoch = epoch + 1, .epochs = m_config.epochs, .batches = m_batches,
                                        .train_loss = train_loss, .eta_seconds = eta, .single_label = m_single,
                                        .improved = decision.improved, .skipped_batches = m_result.skipped_batches},
                                       metrics)
                  << std::endl;
    }
    if (stop_reason.empty()) return false;
    m_result.stop_reason = stop_reason;
    if (stop_reason == "max_minutes" && !m_quiet)
        std::cerr << "time budget of " << m_config.max_minutes << " min used up after epoch " << epoch + 1
                  << "; keeping the best model (epoch " << m_result.best_epoch << ")\n";
    return true;
}

void Trainer::save_state(std::int64_t next_epoch, std::size_t next_batch) const {
    if (!m_root) return;
    RunPosition p = m_position;
    p.epoch = next_epoch;
    p.batch = next_batch;
    p.seconds = m_seconds_before + seconds_since(m_start);
    p.best_epoch = m_result.best_epoch;
    p.skipped_batches = m_result.skipped_batches;
    if (m_ema) {
        p.ema_updates = m_ema->updates();
        p.ema_best = m_result.ema_best_epoch > 0 ? m_result.ema_best_value : NAN;
        p.ema_best_epoch = m_result.ema_best_epoch;
    }
    save_run_checkpoint(m_checkpoint_path, *m_state, *m_model.model, p, m_card.normalization, m_ema.get());
}

void Trainer::validate_ema(std::map<std::string, double>& metrics) {
    nn::models::TaggingModel& model = *m_model.model;
    if (m_ema->updates() == 0) return;
    m_ema->swap();  // the model now holds the averaged weights
    std::map<std::string, double> averaged;
    try {
        averaged = m_comm ? validate_distributed(model, *m_valid_loader, m_dataset, m_valid_clips, m_eval_chunks, m_single,
                                                 m_n_tags, m_config.batch_size, *m_comm)
                          : validate(model, *m_valid_loader, m_dataset, m_valid_clips, m_single, m_n_tags);
    } catch (...) {
        m_ema->swap();
        throw;
    }
    for (const auto& [k, v] : averaged) metrics["ema_" + k] = v;
    const double value = averaged[m_metric];
    const bool lower_is_better = m_metric == "val_loss";
    const bool improved = std::isfinite(value) && (m_result.ema_best_epoch == 0 ||
                                                   (lower_is_better ? value < m_result.ema_best_value
                                                                    : value > m_result.ema_best_value));
    if (improved) {
        m_result.ema_best_epoch = m_position.epoch + 1;
        m_result.ema_best_value = value;
        if (m_root) {
            ModelCard card = m_card;
            card.training = training_summary(averaged);
            card.training["best_epoch"] = m_result.ema_best_epoch;
            card.training["weights"] = {{"kind", "ema"}, {"decay", m_config.ema->decay},
                                        {"use_buffers", m_config.ema->use_buffers}, {"updates", m_ema->updates()}};
            save_run(model, card, m_options.out_dir / "best_ema");
        }
    }
    m_ema->swap();
}

void Trainer::keep_epoch_checkpoint(std::int64_t epoch) const {
    const fs::path dir = m_options.out_dir / "checkpoints";
    fs::create_directories(dir);
    auto name = [](std::int64_t e) {
        char text[64];
        std::snprintf(text, sizeof text, "epoch_%04lld.safetensors", static_cast<long long>(e));
        return std::string(text);
    };
    nn::TrainingCheckpoint c;
    c.scalars = {{"epoch", epoch + 1}, {"metrics", metrics_json(m_result.last_metrics)}};
    for (nn::Parameter* p : m_model.model->parameters()) c.tensors.emplace_back("model." + p->name, p->value.clone());
    for (nn::Buffer* b : m_model.model->buffers()) c.tensors.emplace_back("model." + b->name, b->value.clone());
    nn::save_checkpoint(c, dir / name(epoch + 1));  // CRC'd, temp + rename
    // Keep the last K epochs and the best one.
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string f = entry.path().filename().string();
        long long e = 0;
        if (std::sscanf(f.c_str(), "epoch_%lld.safetensors", &e) != 1 || f != name(e)) continue;
        const bool recent = e > epoch + 1 - static_cast<std::int64_t>(m_config.keep_checkpoints);
        if (!recent && e != m_result.best_epoch) {
            fs::remove(entry.path());
            fs::remove(nn::previous_checkpoint_path(entry.path()));
        }
    }
}

TrainResult Trainer::find_lr() {
    nn::LrFinder finder(*m_options.lr_find);
    nn::Optimizer& optimizer = m_state->optimizer();
    const fs::path log_path = m_options.out_dir / "lr_find.jsonl";
    const fs::path tmp = log_path.string() + ".tmp";
    std::ofstream log(tmp);
    if (!log) throw Error("lr finder '" + tmp.string() + "'", "cannot be written");
    m_model.model->train();
    std::size_t step = 0;
    bool more = true;
    for (std::int64_t epoch = 0; more; ++epoch) {
        m_train_loader->start_epoch(static_cast<std::uint64_t>(epoch));
        while (more) {
            auto batch = m_train_loader->next();
            if (!batch) break;
            if (m_options.stop && m_options.stop->load()) {
                more = false;
                break;
            }
            optimizer.set_lr(finder.lr_at(step));
            double loss = NAN;
            try {
                const StepOutcome o = m_step->run(*batch, epoch, step);
                loss = o.skipped ? NAN : o.loss;
            } catch (const NonFiniteLoss&) {
                loss = NAN;  // the rate is past divergence: the end of the test
            }
            more = finder.record(loss);
            if (std::isfinite(loss)) {
                const nn::LrFinderPoint& p = finder.points().back();
                log << nlohmann::json{{"step", p.step}, {"lr", p.lr}, {"loss", p.loss}, {"smoothed", p.smoothed}}.dump()
                    << "\n";
                if (m_options.on_step)
                    m_options.on_step({.epoch = 0, .epochs = 1, .batch = step, .batches = m_options.lr_find->steps,
                                       .examples = batch->global_size, .loss = loss});
            }
            ++step;
        }
    }
    m_result.lr_find_points = finder.points();
    m_result.lr_suggestion = finder.suggest();
    m_result.lr_find_diverged = finder.diverged();
    const nn::LrSuggestion& sg = m_result.lr_suggestion;
    log << nlohmann::json{{"event", "suggestion"},
                          {"found", sg.found},
                          {"lr", sg.found ? nlohmann::json(sg.lr) : nlohmann::json(nullptr)},
                          {"min_loss_lr", sg.found ? nlohmann::json(sg.min_loss_lr) : nlohmann::json(nullptr)},
                          {"min_loss_lr_div10", sg.found ? nlohmann::json(sg.min_loss_lr_div10) : nlohmann::json(nullptr)},
                          {"method", "steepest descent of the smoothed loss (Lightning); min_loss_lr_div10: fastai's"},
                          {"steps", finder.points().size()},
                          {"diverged", finder.diverged()}}
               .dump()
        << "\n";
    log.close();
    if (!log) throw Error("lr finder '" + tmp.string() + "'", "could not be written completely (disk full?)");
    fs::rename(tmp, log_path);
    m_result.stop_reason = "lr_find";
    m_result.seconds = seconds_since(m_start);
    return m_result;
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
