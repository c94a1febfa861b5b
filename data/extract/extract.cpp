#include "data/extract/extract.hpp"

#include "data/extract/segments.hpp"
#include "data/progress/progress.hpp"
#include "data/sets/csv.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_extractor.hpp"
#include "dsp/feature_file.hpp"
#include "dsp/npy.hpp"
#include "mtag_version.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace mtag::data {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

constexpr const char* kFeaturesFile = "features.json";
constexpr const char* kJournalFile = "extract.journal.jsonl";

fs::path absolute_normal(const fs::path& path) {
    return fs::absolute(path).lexically_normal();
}

// The deepest folder containing both a and b.
fs::path common_ancestor(const fs::path& a, const fs::path& b) {
    fs::path result;
    auto i = a.begin();
    auto j = b.begin();
    for (; i != a.end() && j != b.end() && *i == *j; ++i, ++j) result /= *i;
    return result;
}

// What a finished output looks like in the journal and in features.json.
struct Record {
    std::string input;
    std::string output;  // relative to OUT
    std::int64_t frames = 0;
    std::int64_t bins = 0;
    std::string hash;
    std::int64_t size = -1;
    std::int64_t mtime = 0;

    ordered_json to_json() const {
        return {{"input", input},      {"output", output},    {"bins", bins},        {"frames", frames},
                {"config_hash", hash}, {"input_bytes", size}, {"input_mtime", mtime}};
    }
    static std::optional<Record> from_json(const json& j) {
        // Integers must be JSON integers: nlohmann converts a float such as -9.3e18 to int64 with a plain
        // cast, which is undefined behaviour out of range (found by tests/fuzz/fuzz_extract_journal).
        auto integer = [&j](const char* key) -> std::optional<std::int64_t> {
            const json& v = j.at(key);
            if (!v.is_number_integer()) return std::nullopt;
            return v.get<std::int64_t>();
        };
        try {
            Record r;
            r.input = j.at("input").get<std::string>();
            r.output = j.at("output").get<std::string>();
            r.hash = j.at("config_hash").get<std::string>();
            const auto frames = integer("frames"), bins = integer("bins"), size = integer("input_bytes"),
                       mtime = integer("input_mtime");
            if (!frames || !bins || !size || !mtime) return std::nullopt;
            r.frames = *frames;
            r.bins = *bins;
            r.size = *size;
            r.mtime = *mtime;
            return r;
        } catch (const json::exception&) {
            return std::nullopt;
        }
    }
};

struct InputStamp {
    std::int64_t size = -1;
    std::int64_t mtime = 0;
};

InputStamp stamp_of(const fs::path& path) {
    std::error_code ec;
    InputStamp stamp;
    const auto size = fs::file_size(path, ec);
    if (!ec) stamp.size = static_cast<std::int64_t>(size);
    const auto time = fs::last_write_time(path, ec);
    if (!ec) stamp.mtime = static_cast<std::int64_t>(time.time_since_epoch().count());
    return stamp;
}

// Per-rank journals of MPI runs (extract.journal.rank-R.jsonl), sorted by name.
std::vector<fs::path> rank_journals(const fs::path& out_dir) {
    std::vector<fs::path> found;
    std::error_code ec;
    for (auto it = fs::directory_iterator(out_dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind("extract.journal.rank-", 0) == 0 && name.size() > 6 && name.ends_with(".jsonl"))
            found.push_back(it->path());
    }
    std::sort(found.begin(), found.end());
    return found;
}

// Records of earlier runs, by output path: features.json first, then the journals (newer).
std::map<std::string, Record> previous_records(const fs::path& out_dir) {
    std::map<std::string, Record> records;
    {
        std::ifstream in(out_dir / kFeaturesFile);
        if (in) {
            try {
                const json j = json::parse(in);
                for (const json& entry : j.at("outputs"))
                    if (auto r = Record::from_json(entry)) records[r->output] = *r;
            } catch (const json::exception&) {
                // An unreadable features.json only costs recomputation.
            }
        }
    }
    std::vector<fs::path> journals{out_dir / kJournalFile};
    for (const fs::path& p : rank_journals(out_dir)) journals.push_back(p);
    for (const fs::path& path : journals) {
        std::ifstream journal(path);
        std::string line;
        while (std::getline(journal, line)) {
            // A line cut short by a kill does not parse and is ignored.
            const json j = json::parse(line, nullptr, false);
            if (j.is_discarded()) continue;
            if (auto r = Record::from_json(j)) records[r->output] = *r;
        }
    }
    return records;
}

// True when the recorded output is still valid for this config and input.
bool still_valid(const Record& record, const std::string& hash, const InputStamp& stamp,
                 const fs::path& npy) {
    if (record.hash != hash || record.size != stamp.size || record.mtime != stamp.mtime) return false;
    try {
        const dsp::NpyHeader header = dsp::read_npy_header(npy);
        return header.shape.size() == 2 && header.shape[0] == static_cast<std::size_t>(record.bins) &&
               header.shape[1] == static_cast<std::size_t>(record.frames);
    } catch (const Error&) {
        return false;
    }
}

// Removes the temporaries a killed run left behind: .npy outputs, and the journal and features.json that
// write_atomically was replacing when the kill landed (the faults test found a journal's, left by a kill -9
// during the final rewrite). The output folder's lock (mtag extract holds it) means no live run owns them.
void remove_stale_temporaries(const fs::path& out_dir) {
    const std::string journal = std::string(kJournalFile) + ".tmp-", features = std::string(kFeaturesFile) + ".tmp-";
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(out_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const bool run_file = it.depth() == 0 && (name.rfind(journal, 0) == 0 || name.rfind(features, 0) == 0);
        if (it->is_regular_file(ec) && (run_file || name.find(".npy.tmp-") != std::string::npos))
            fs::remove(it->path(), ec);
    }
}

// Writes text to path through a temporary name and a rename.
void write_atomically(const fs::path& path, const std::string& text) {
    const fs::path temporary = path.string() + ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) throw Error("'" + path.string() + "'", "cannot be written (disk full or no permission?)");
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) throw Error("'" + path.string() + "'", "cannot be renamed into place: " + ec.message());
}

// Creates OUT; rank 0 then removes what a killed run left behind there.
void prepare_out_dir(const ExtractOptions& options, bool root) {
    std::error_code ec;
    fs::create_directories(options.out_dir, ec);
    if (ec || !fs::is_directory(options.out_dir))
        throw Error("output folder '" + options.out_dir.string() + "'", "cannot be created: " + ec.message());
    // Only rank 0 cleans up, before anyone writes (other ranks' temporaries would look stale too).
    if (root) remove_stale_temporaries(options.out_dir);
}

// This rank's inputs: every ranks-th one, starting at its rank (the whole list for one process).
std::vector<std::size_t> rank_share(std::size_t count, int rank, int ranks) {
    std::vector<std::size_t> mine;
    for (std::size_t i = static_cast<std::size_t>(rank); i < count; i += static_cast<std::size_t>(ranks))
        mine.push_back(i);
    return mine;
}

// Opens the journal this process appends to: OUT's, or this rank's own under MPI.
std::FILE* open_journal(const ExtractOptions& options, bool distributed, int rank) {
    // The journal: one line per finished output, appended and flushed as each one completes.
    const fs::path journal_path = options.out_dir / kJournalFile;
    const fs::path my_journal_path =
        distributed ? options.out_dir / ("extract.journal.rank-" + std::to_string(rank) + ".jsonl")
                    : journal_path;
    std::FILE* journal = std::fopen(my_journal_path.c_str(), "ab");
    if (journal == nullptr)
        throw Error("output folder '" + options.out_dir.string() + "'",
                    "is not writable (cannot open the journal)");
    return journal;
}

// What became of each input: its record (computed, or skipped as done by an earlier run) or its error.
struct Outcomes {
    explicit Outcomes(std::size_t count) : done(count), errors(count), skipped(count, 0) {}
    std::vector<std::optional<Record>> done;
    std::vector<std::string> errors;
    std::vector<char> skipped;
};

// What every worker reads: the options, the resolved config and its hash, the inputs, earlier records.
struct ExtractJob {
    const ExtractOptions& options;
    const dsp::FeatureConfig& config;
    const std::string& hash;
    const std::vector<ExtractItem>& items;
    const std::map<std::string, Record>& previous;
};

// The journal this process appends to, shared by its workers.
struct Journal {
    std::FILE* file;
    std::mutex mutex;
};

// A worker's reusable state: its extractor (built on first use).
struct WorkerScratch {
    std::optional<dsp::FeatureExtractor> extractor;
    dsp::FloatMatrix feature;  // a segmented file's joined feature (at most kSegmentedFeatureBytes)
    dsp::FeatureExtractor& extractor_for(const dsp::FeatureConfig& config) {
        if (!extractor) extractor.emplace(config);
        return *extractor;
    }
};

// A long file being computed in segments (data/extract/segments.hpp): its owner and idle workers claim
// segments; each result goes to its own slot, so who computed it does not matter.
struct SegmentedFile {
    SegmentedFile(const fs::path& input, const SegmentPlan& p) : path(input), plan(p), parts(p.segments()) {}
    fs::path path;
    SegmentPlan plan;
    std::vector<dsp::FloatMatrix> parts;
    std::size_t next = 0;  // next unclaimed segment (under SegmentPool::mutex)
    std::size_t done = 0;  // finished segments (under mutex below)
    std::string error;     // the first segment's failure
    std::mutex mutex;
    std::condition_variable finished;
};

// The segmented files that still have unclaimed segments: where a worker without a file of its own helps.
struct SegmentPool {
    std::mutex mutex;
    std::deque<std::shared_ptr<SegmentedFile>> open;

    // Claims the next segment of the oldest open file (or of `only` when given); nullptr when none is left.
    std::pair<std::shared_ptr<SegmentedFile>, std::size_t> claim(const SegmentedFile* only = nullptr) {
        std::lock_guard lock(mutex);
        for (auto it = open.begin(); it != open.end();) {
            const std::shared_ptr<SegmentedFile> file = *it;
            if (file->next >= file->parts.size()) {
                it = open.erase(it);
                continue;
            }
            if (only != nullptr && file.get() != only) {
                ++it;
                continue;
            }
            return {file, file->next++};
        }
        return {nullptr, 0};
    }
};

// Computes segment k of `file` with this worker's extractor and records the result or the error.
void run_segment(const ExtractJob& job, SegmentedFile& file, std::size_t k, WorkerScratch& scratch) {
    std::string error;
    try {
        compute_segment(file.path, file.plan, k, scratch.extractor_for(job.config), job.options.resample_quality,
                        job.options.mp3_decode, file.parts[k]);
    } catch (const std::exception& e) {
        error = e.what();
    }
    std::lock_guard lock(file.mutex);
    if (!error.empty() && file.error.empty()) file.error = error;
    ++file.done;
    file.finished.notify_all();
}

// The feature of a long file through its segments: this worker computes what nobody else has claimed, waits
// for the segments others are computing, then joins them. Returns false when the file is not segmented.
bool compute_segmented(const ExtractJob& job, const fs::path& input, SegmentPool* pool, WorkerScratch& scratch) {
    dsp::FeatureExtractor& extractor = scratch.extractor_for(job.config);
    const std::optional<SegmentPlan> plan = plan_segments(input, extractor);
    // Segments are joined in memory; a feature beyond the budget streams to disk on one worker instead, so
    // memory stays flat however long the file (dsp/feature_file.hpp).
    if (!plan || static_cast<std::uint64_t>(plan->frames) * static_cast<std::uint64_t>(extractor.bins()) * sizeof(float) >
                     kSegmentedFeatureBytes)
        return false;
    auto file = std::make_shared<SegmentedFile>(input, *plan);
    if (pool) {
        std::lock_guard lock(pool->mutex);
        pool->open.push_back(file);
    }
    while (true) {
        std::size_t k;
        if (pool) {
            const auto [claimed, index] = pool->claim(file.get());
            if (!claimed) break;
            k = index;
        } else {
            if (file->next >= file->parts.size()) break;
            k = file->next++;
        }
        run_segment(job, *file, k, scratch);
    }
    std::unique_lock lock(file->mutex);
    file->finished.wait(lock, [&] { return file->done == file->parts.size(); });
    if (!file->error.empty()) throw Error(file->error);
    join_segments(file->parts, extractor, scratch.feature);
    return true;
}

// Extracts input i into `output` and journals it, or skips it when an earlier run's output is still valid.
void extract_item(const ExtractJob& job, std::size_t i, const fs::path& output, const std::string& relative,
                  const InputStamp& stamp, WorkerScratch& scratch, SegmentPool* pool, Journal& journal,
                  Outcomes& outcomes) {
    const ExtractItem& item = job.items[i];
    if (const auto it = job.previous.find(relative);
        it != job.previous.end() && still_valid(it->second, job.hash, stamp, output)) {
        outcomes.done[i] = it->second;
        outcomes.done[i]->input = item.shown();
        outcomes.skipped[i] = 1;
        return;
    }
    fs::create_directories(output.parent_path());
    std::size_t bins = 0, frames = 0;
    if (compute_segmented(job, item.input, pool, scratch)) {
        // A long file within the in-memory budget, computed in segments that idle workers helped with.
        dsp::save_npy(output, scratch.feature);
        bins = scratch.feature.rows;
        frames = scratch.feature.cols;
    } else {
        // Streamed to disk: memory stays flat however long the file (a 10-hour log-mel is 0.8 GB).
        const auto shape = dsp::write_feature_npy(scratch.extractor_for(job.config), item.input, output,
                                                  job.options.resample_quality, job.options.mp3_decode);
        bins = shape[0];
        frames = shape[1];
    }
    Record record{item.shown(),
                  relative,
                  static_cast<std::int64_t>(frames),
                  static_cast<std::int64_t>(bins),
                  job.hash,
                  stamp.size,
                  stamp.mtime};
    {
        std::lock_guard lock(journal.mutex);
        const std::string line = record.to_json().dump() + "\n";
        std::fwrite(line.data(), 1, line.size(), journal.file);
        std::fflush(journal.file);
    }
    outcomes.done[i] = std::move(record);
}

// Works through this rank's inputs (`mine`) on options.jobs threads; an input's failure is reported.
void extract_share(const ExtractJob& job, const std::vector<std::size_t>& mine, std::FILE* journal_file,
                   Progress& progress, Outcomes& outcomes) {
    Journal journal{journal_file, {}};
    std::atomic<std::size_t> next{0};
    const int jobs =
        std::max(1, std::min<int>(job.options.jobs, static_cast<int>(std::max<std::size_t>(mine.size(), 1))));
    // With several threads, a worker whose queue of files is empty helps with the segments of long files that
    // others are computing, so one long file (or the last few) still uses every thread.
    SegmentPool pool;
    SegmentPool* shared_pool = job.options.jobs > 1 ? &pool : nullptr;
    std::atomic<int> busy{0};  // workers on a file of their own
    auto worker = [&]() {
        WorkerScratch scratch;
        while (true) {
            const std::size_t m = next++;
            if (m >= mine.size()) {
                // No file left: help with segments while another worker may still open a long file.
                if (!shared_pool) break;
                const auto [file, k] = shared_pool->claim();
                if (file) {
                    run_segment(job, *file, k, scratch);
                } else {
                    if (busy.load() == 0) break;
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
                continue;
            }
            ++busy;
            const std::size_t i = mine[m];
            const ExtractItem& item = job.items[i];
            const fs::path output = job.options.out_dir / item.relative;
            const std::string relative = item.relative.generic_string();
            const InputStamp stamp = stamp_of(item.input);
            try {
                extract_item(job, i, output, relative, stamp, scratch, shared_pool, journal, outcomes);
            } catch (const std::exception& e) {
                // The decoders' errors name the file; others (the resampler's, the feature transforms') do not.
                std::string what = e.what();
                // A stream's errors name its temporary copy, so they get the name the user gave too.
                if (item.spooled || what.find(item.input.string()) == std::string::npos)
                    what = "input '" + item.shown() + "': " + what;
                outcomes.errors[i] = std::move(what);
                progress.message("mtag: error: " + outcomes.errors[i]);
            }
            --busy;
            progress.advance();
        }
    };
    std::vector<std::thread> threads;
    const int threads_wanted = shared_pool ? job.options.jobs : jobs;  // helpers too when files are few
    for (int j = 1; j < threads_wanted; ++j) threads.emplace_back(worker);
    worker();
    for (std::thread& t : threads) t.join();
}

// MPI: every rank's outcomes to every rank (rank 0 writes them; all return the same summary).
void gather_outcomes(dist::Communicator& comm, const std::vector<std::size_t>& mine, Progress& progress,
                     Outcomes& outcomes) {
    const int rank = comm.rank();
    const bool root = rank == 0;
    std::string local;
    for (std::size_t i : mine) {
        ordered_json j{{"i", i}};
        if (outcomes.done[i]) {
            j["record"] = outcomes.done[i]->to_json();
            j["skipped"] = outcomes.skipped[i] != 0;
        } else {
            j["error"] = outcomes.errors[i];
        }
        local += j.dump() + "\n";
    }
    const std::vector<std::string> parts = comm.allgather(local, "extract results gather");
    for (std::size_t r = 0; r < parts.size(); ++r) {
        if (static_cast<int>(r) == rank) continue;
        std::istringstream in(parts[r]);
        std::string line;
        while (std::getline(in, line)) {
            const json j = json::parse(line);
            const std::size_t i = j.at("i").get<std::size_t>();
            if (j.contains("record")) {
                outcomes.done[i] = Record::from_json(j.at("record"));
                if (!outcomes.done[i])
                    throw Error("mtag extract", "rank " + std::to_string(r) + " sent an unreadable record");
                outcomes.skipped[i] = j.at("skipped").get<bool>() ? 1 : 0;
            } else {
                outcomes.errors[i] = j.at("error").get<std::string>();
                if (root) progress.message("mtag: error: " + outcomes.errors[i]);
            }
        }
    }
}

// The outcomes in input order: the summary's counts, features.json's outputs and failures, the journal text.
struct CollectedOutcomes {
    ExtractSummary summary;
    ordered_json outputs = ordered_json::array();
    ordered_json failures = ordered_json::array();
    std::string journal_text;
};

// Collects the outcomes of every input, in input order.
CollectedOutcomes collect_outcomes(const std::vector<ExtractItem>& items, const Outcomes& outcomes) {
    CollectedOutcomes c;
    c.summary.total = items.size();
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (outcomes.done[i]) {
            c.outputs.push_back(outcomes.done[i]->to_json());
            c.journal_text += outcomes.done[i]->to_json().dump() + "\n";
            ++(outcomes.skipped[i] ? c.summary.skipped : c.summary.computed);
        } else {
            c.failures.push_back({{"input", items[i].shown()}, {"error", outcomes.errors[i]}});
            ++c.summary.failed;
        }
    }
    return c;
}

// OUT/features.json: the config and its hash, the summary, every output and every failure.
ordered_json features_document(const dsp::FeatureConfig& config, const std::string& hash,
                               const ExtractSummary& summary, ordered_json outputs, ordered_json failures) {
    ordered_json document;
    document["mtag_version"] = mtag::version;
    document["config_hash"] = hash;
    document["config"] = config.to_json();
    document["layout"] = "float32 .npy, C order, shape [bins, frames]";
    document["summary"] = {{"total", summary.total},
                           {"computed", summary.computed},
                           {"skipped", summary.skipped},
                           {"failed", summary.failed},
                           {"wall_seconds", summary.wall_seconds}};
    document["outputs"] = std::move(outputs);
    document["failures"] = std::move(failures);
    return document;
}

}  // namespace

std::vector<fs::path> read_manifest_paths(const fs::path& manifest) {
    const std::vector<CsvRow> rows = read_csv(manifest);
    const std::string where = "manifest '" + manifest.string() + "'";
    if (rows.empty()) throw Error(where, "is empty");
    const int column = column_index(rows.front(), "path");
    if (column < 0) throw Error(where, "line 1 has no 'path' column (expected a header like path,tags,split)");
    const auto index = static_cast<std::size_t>(column);
    const fs::path folder = manifest.parent_path();
    std::vector<fs::path> paths;
    for (std::size_t r = 1; r < rows.size(); ++r) {
        const CsvRow& row = rows[r];
        if (index >= row.fields.size() || row.fields[index].empty())
            throw Error(where, "line " + std::to_string(row.line) + " has no value in the 'path' column");
        const fs::path path(row.fields[index]);
        paths.push_back(path.is_absolute() ? path : folder / path);
    }
    return paths;
}

std::vector<ExtractItem> collect_extract_items(const ExtractOptions& options) {
    // In the order given; `stream` is set for a stream's temporary copy.
    struct Found {
        fs::path path;
        std::shared_ptr<const dsp::SpooledInput> stream;
    };
    std::vector<Found> files;
    std::vector<fs::path> roots;
    for (const std::string& input : options.inputs) {
        const fs::path path(input);
        std::error_code ec;
        if (dsp::is_stream_input(path)) {
            if (input == "-" && std::count(options.inputs.begin(), options.inputs.end(), "-") > 1)
                throw Error("input '-' (standard input)", "is given more than once; a stream can be read only once");
            if (options.comm && options.comm->distributed())
                throw Error("input '" + input + "'", "is a stream, which only one MPI rank could read; save it to a file");
            auto stream = std::make_shared<const dsp::SpooledInput>(path);
            files.push_back({stream->path(), stream});
        } else if (fs::is_directory(path, ec)) {
            roots.push_back(absolute_normal(path));
            std::vector<fs::path> found;
            for (auto it = fs::recursive_directory_iterator(
                     path, fs::directory_options::skip_permission_denied, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
                if (it->is_regular_file(ec) && dsp::is_audio_extension(it->path()))
                    found.push_back(it->path());
            }
            if (ec) throw Error("input folder '" + input + "'", "cannot be listed: " + ec.message());
            std::sort(found.begin(), found.end());
            for (fs::path& f : found) files.push_back({std::move(f), nullptr});
        } else {
            // A missing or unreadable file is a per-file failure later, not a reason to stop the run.
            files.push_back({path, nullptr});
            roots.push_back(absolute_normal(path).parent_path());
        }
    }
    if (!options.manifest.empty()) {
        const fs::path manifest(options.manifest);
        roots.push_back(absolute_normal(manifest).parent_path());
        for (const fs::path& path : read_manifest_paths(manifest)) {
            files.push_back({path, nullptr});
            roots.push_back(absolute_normal(path).parent_path());
        }
    }
    if (files.empty())
        throw Error("mtag extract",
                    "no audio files found in the inputs (folders are searched recursively for "
                    ".wav, .flac, .ogg, .mp3, ...)");
    fs::path common = roots.empty() ? fs::path() : roots.front();
    for (const fs::path& root : roots) common = common_ancestor(common, root);

    std::vector<ExtractItem> items;
    std::set<fs::path> taken;
    std::set<fs::path> seen_inputs;
    for (const Found& file : files) {
        if (file.stream) {  // at the top of OUT, named after the stream ("stdin.npy", "63.npy")
            const std::string name = file.stream->name();
            fs::path npy = name + ".npy";
            for (int k = 2; !taken.insert(npy).second; ++k) npy = name + "-" + std::to_string(k) + ".npy";
            items.push_back({file.path, npy, file.stream});
            continue;
        }
        const fs::path absolute = absolute_normal(file.path);
        if (!seen_inputs.insert(absolute).second) continue;  // the same file listed twice
        fs::path relative = absolute.lexically_relative(common);
        fs::path npy = relative;
        npy.replace_extension(".npy");
        if (!taken.insert(npy).second) {
            npy = relative;
            npy += ".npy";
            taken.insert(npy);
        }
        items.push_back({file.path, npy, nullptr});
    }
    return items;
}

ExtractSummary run_extract(const ExtractOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    const dsp::FeatureConfig config = options.config.resolved();
    const std::string hash = config.hash();
    // Building one extractor up front turns a config the transforms reject into one run-level error
    // rather than the same failure for every file.
    { const dsp::FeatureExtractor probe(config); }
    const std::vector<ExtractItem> items = collect_extract_items(options);
    data::dist::Communicator* comm = options.comm && options.comm->distributed() ? options.comm : nullptr;
    const int rank = comm ? comm->rank() : 0, ranks = comm ? comm->size() : 1;
    const bool root = rank == 0;

    prepare_out_dir(options, root);
    const std::map<std::string, Record> previous =
        options.force ? std::map<std::string, Record>{} : previous_records(options.out_dir);
    if (comm) comm->barrier("extract start");
    const std::vector<std::size_t> mine = rank_share(items.size(), rank, ranks);
    std::FILE* journal = open_journal(options, comm != nullptr, rank);

    Outcomes outcomes(items.size());
    Progress progress("extract", mine.size(), !options.quiet && root, options.progress_interval_seconds);
    extract_share({options, config, hash, items, previous}, mine, journal, progress, outcomes);
    progress.finish();
    std::fclose(journal);
    if (comm) gather_outcomes(*comm, mine, progress, outcomes);

    CollectedOutcomes collected = collect_outcomes(items, outcomes);
    collected.summary.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const ordered_json document = features_document(
        config, hash, collected.summary, std::move(collected.outputs), std::move(collected.failures));
    if (!root) return collected.summary;
    write_atomically(options.out_dir / kFeaturesFile, document.dump(2) + "\n");
    // The journal now only needs this run's outputs (features.json has them too); rewriting it keeps it
    // from growing across reruns. The per-rank journals are folded into it.
    write_atomically(options.out_dir / kJournalFile, collected.journal_text);
    std::error_code ec;
    for (const fs::path& p : rank_journals(options.out_dir)) fs::remove(p, ec);
    return collected.summary;
}

}  // namespace mtag::data
