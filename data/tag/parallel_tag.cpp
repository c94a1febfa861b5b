#include "data/tag/parallel_tag.hpp"

#include "dsp/error.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace mtag::data {

namespace {

// A batch of consecutive windows (back to back) and its place in the file.
struct Batch {
    std::size_t index = 0;
    std::vector<float> windows;
};

// The hand-off between the decoding thread and the sessions' threads: batches in, rows out by index.
class BatchQueue {
  public:
    // Queues a batch for the workers; rethrows a worker's error instead (the caller stops decoding).
    void push(Batch batch) {
        std::lock_guard lock(m_mutex);
        if (m_error) std::rethrow_exception(m_error);
        m_batches.push_back(std::move(batch));
        m_work.notify_one();
    }

    void close() {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_work.notify_all();
    }

    // A worker's next batch; false when the queue is closed and empty, or after an error.
    bool pop(Batch& batch) {
        std::unique_lock lock(m_mutex);
        m_work.wait(lock, [&] { return !m_batches.empty() || m_closed || m_error; });
        if (m_batches.empty() || m_error) return false;
        batch = std::move(m_batches.front());
        m_batches.pop_front();
        return true;
    }

    void done(std::size_t index, ChunkRows rows) {
        std::lock_guard lock(m_mutex);
        m_rows.emplace(index, std::move(rows));
        m_ready.notify_all();
    }

    void fail(std::exception_ptr error) {
        std::lock_guard lock(m_mutex);
        if (!m_error) m_error = error;
        m_work.notify_all();
        m_ready.notify_all();
    }

    // Rows of batch `index` once scored (the caller takes them in order); rethrows a worker's error.
    ChunkRows take(std::size_t index) {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [&] { return m_rows.count(index) > 0 || m_error; });
        if (m_error) std::rethrow_exception(m_error);
        ChunkRows rows = std::move(m_rows.at(index));
        m_rows.erase(index);
        return rows;
    }

    // Rows of batch `index` if already scored, without waiting.
    bool try_take(std::size_t index, ChunkRows& rows) {
        {
            std::lock_guard lock(m_mutex);
            if (m_error) std::rethrow_exception(m_error);
            if (m_rows.count(index) == 0) return false;
        }
        rows = take(index);
        return true;
    }

  private:
    std::mutex m_mutex;
    std::condition_variable m_work, m_ready;
    std::deque<Batch> m_batches;
    std::map<std::size_t, ChunkRows> m_rows;
    bool m_closed = false;
    std::exception_ptr m_error;
};

}  // namespace

TagResult tag_file_parallel(std::span<Session* const> sessions, const std::filesystem::path& path,
                            const TagOptions& options) {
    if (sessions.empty()) throw Error("tag_file_parallel", "no session");
    if (sessions.size() == 1) return sessions[0]->tag_file(path, options);
    const RunCard& card = sessions[0]->card();
    const std::size_t window = card.window_samples();
    const std::size_t batch_size = sessions[0]->batch_size(options);

    // Batches pushed but not yet summed: at most 2 per session (memory), the oldest summed first.
    const std::size_t in_flight = 2 * sessions.size();
    BatchQueue queue;
    std::vector<std::thread> workers;
    workers.reserve(sessions.size());
    for (Session* session : sessions) {
        workers.emplace_back([&queue, session, &options] {
            try {
                Batch batch;
                while (queue.pop(batch)) queue.done(batch.index, session->score_windows(batch.windows, options));
            } catch (...) {
                queue.fail(std::current_exception());
            }
        });
    }

    ChunkSums sums;
    sums.reset(card.tags.size(), sessions[0]->embedding_size());
    std::size_t pushed = 0, summed = 0;
    Batch pending;
    auto sum_ready = [&] {  // rows already scored, in order, so the reorder buffer stays small
        ChunkRows rows;
        while (summed < pushed && queue.try_take(summed, rows)) {
            sums.add(rows, options);
            ++summed;
        }
    };
    auto submit = [&] {
        if (pending.windows.empty()) return;
        while (pushed - summed >= in_flight) {
            sums.add(queue.take(summed), options);
            ++summed;
        }
        pending.index = pushed;
        queue.push(std::move(pending));
        ++pushed;
        pending = Batch{};
        sum_ready();
    };
    double decode_seconds = 0;
    std::size_t total = 0;
    std::exception_ptr error;
    try {
        total = stream_windows(
            card, path, options,
            [&](std::span<float> w) {
                pending.windows.insert(pending.windows.end(), w.begin(), w.end());
                if (pending.windows.size() == batch_size * window) submit();
            },
            decode_seconds);
        submit();
        while (summed < pushed) {
            sums.add(queue.take(summed), options);
            ++summed;
        }
    } catch (...) {
        error = std::current_exception();
        queue.fail(error);
    }
    queue.close();
    for (std::thread& t : workers) t.join();
    if (error) std::rethrow_exception(error);
    TagResult r = sums.finish(options, total, card.sample_rate);
    r.decode_seconds = decode_seconds;
    return r;
}

}  // namespace mtag::data
