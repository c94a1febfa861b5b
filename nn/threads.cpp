#include "nn/threads.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <cstdlib>
#include <cstring>

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename();

namespace mtag::nn {

namespace {

std::atomic<int> g_budget{1};

// How long pool threads poll for new work (workers) or for the last chunk (the caller) before sleeping:
// first busy (spin_budget), then yielding the core to any other runnable thread (until yield_budget).
constexpr std::chrono::microseconds spin_budget{10};
constexpr std::chrono::microseconds yield_budget{100};

inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
thread_local bool t_inside_pool = false;

// A fixed set of workers that take chunk indices from a shared counter. One job at a time.
//
// Each job's state lives on the caller's stack and workers join it under the mutex, counted in
// `active`; the caller returns only when every chunk is done AND every worker that joined has left.
// (A worker that woke late must never claim a chunk index against the next job's counter: that ran a
// chunk twice, or a chunk of a finished job whose captures were gone.)
class Pool {
  public:
    ~Pool() { resize(0); }

    void resize(int workers) {
        {
            std::unique_lock lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        for (std::thread& t : m_threads) t.join();
        m_threads.clear();
        m_stop = false;
        for (int i = 0; i < workers; ++i) m_threads.emplace_back([this] { work(); });
    }

    int workers() const { return static_cast<int>(m_threads.size()); }

    void run(std::int64_t chunks, const std::function<void(std::int64_t)>& task) {
        std::unique_lock job_lock(m_job_mutex);  // one job at a time
        Job job;
        job.task = &task;
        job.chunks = chunks;
        job.pending = chunks;
        {
            std::unique_lock lock(m_mutex);
            m_job = &job;
            ++m_generation;
            m_published.store(m_generation, std::memory_order_release);
        }
        m_wake.notify_all();
        t_inside_pool = true;
        take_chunks(job);
        t_inside_pool = false;
        auto finished = [&] { return job.pending.load() == 0 && job.active.load() == 0; };
        spin_until(finished);
        // Re-checked under the lock: a worker may have joined since the spin saw none active.
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, finished);
        m_job = nullptr;
        if (job.error) std::rethrow_exception(job.error);
    }

  private:
    struct Job {
        const std::function<void(std::int64_t)>* task = nullptr;
        std::int64_t chunks = 0;
        std::atomic<std::int64_t> next{0};
        std::atomic<std::int64_t> pending{0};  // chunks not finished
        std::atomic<int> active{0};            // workers inside take_chunks (joined under m_mutex)
        std::exception_ptr error;              // under m_mutex
    };

    // Waking a sleeping thread costs tens of microseconds, as much as a small layer's whole loop; both
    // sides therefore poll for a short while before they block. The busy spin is kept short (spin_budget,
    // 10 us: enough for the back-to-back loops inside one layer). Then, until yield_budget, the thread
    // still polls but yields the core at every look, so a decoder or loader thread that wants the core gets
    // it: between the layers of a small model (cnn1d: dozens of loops per 4 ms step, serial work between
    // some) sleeping workers woke late; polling to 100 us gave cnn1d's training +4.6% (median of 8
    // alternated runs, 3860 vs 3690 clips/s on a Zen 3 VM), with `mtag tag`'s throughput unchanged
    // (3.02 vs 3.05 files/s, decode threads beside the network). Busy polling to 100 us helped training as
    // much but looked slower for tagging (3 noisy alternated runs).
    template <class Pred>
    static bool spin_until(const Pred& ready) {
        const auto start = std::chrono::steady_clock::now();
        const auto until = start + spin_budget;
        for (int i = 0;; ++i) {
            if (ready()) return true;
            spin_pause();
            if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) break;
        }
        const auto yield_until = start + yield_budget;
        while (std::chrono::steady_clock::now() < yield_until) {
            if (ready()) return true;
            std::this_thread::yield();
        }
        return false;
    }

    void take_chunks(Job& job) {
        for (;;) {
            const std::int64_t i = job.next.fetch_add(1);
            if (i >= job.chunks) return;
            try {
                (*job.task)(i);
            } catch (...) {
                std::unique_lock lock(m_mutex);
                if (!job.error) job.error = std::current_exception();
            }
            if (job.pending.fetch_sub(1) == 1) {
                std::unique_lock lock(m_mutex);  // the caller checks under the lock before it sleeps
                m_done.notify_all();
            }
        }
    }

    void work() {
        t_inside_pool = true;
        std::uint64_t seen = 0;
        for (;;) {
            spin_until([&] { return m_published.load(std::memory_order_acquire) != seen || m_stop.load(); });
            Job* job = nullptr;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [&] { return m_stop || (m_generation != seen && m_job); });
                if (m_stop) return;
                seen = m_generation;
                job = m_job;
                job->active.fetch_add(1);
            }
            take_chunks(*job);
            if (job->active.fetch_sub(1) == 1) {
                std::unique_lock lock(m_mutex);
                m_done.notify_all();
            }
        }
    }

    std::vector<std::thread> m_threads;
    std::mutex m_job_mutex;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    Job* m_job = nullptr;  // the job running now (under m_mutex)
    std::uint64_t m_generation = 0;
    std::atomic<std::uint64_t> m_published{0};  // m_generation, readable without the lock (for spinning)
    std::atomic<bool> m_stop{false};  // set under m_mutex; atomic so that spinning workers see it
};

Pool& pool() {
    static Pool p;
    return p;
}

std::mutex g_budget_mutex;

}  // namespace

std::string init_blas() {
    static std::once_flag once;
    std::call_once(once, [] {
        const char* autotune = std::getenv("MTAG_BLAS_AUTOTUNE");
        if (autotune && std::strcmp(autotune, "0") == 0) return;
        if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user chose
        const std::string core = openblas_get_corename() ? openblas_get_corename() : "";
        if (core != "Haswell" && core != "haswell" && core != "Zen" && core != "zen") return;
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
            !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
            return;
        using Fn = void (*)();
        auto quit = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
        auto init = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
        if (!quit || !init || !dlsym(RTLD_DEFAULT, "gotoblas_SKYLAKEX")) return;  // not a DYNAMIC_ARCH build
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
        quit();
        init();
    });
    const char* name = openblas_get_corename();
    return name ? name : "unknown";
}

void set_thread_budget(int threads) {
    init_blas();
    std::unique_lock lock(g_budget_mutex);
    g_budget = threads < 1 ? 1 : threads;
    openblas_set_num_threads(1);  // nn::gemm splits products over the pool (see nn/gemm.hpp)
    pool().resize(g_budget - 1);
}

int thread_budget() {
    return g_budget;
}

void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
    if (n <= 0) return;
    grain = std::max<std::int64_t>(1, grain);
    // Fixed chunking (independent of the thread count): at most 64 chunks of at least `grain` items.
    const std::int64_t chunks = std::max<std::int64_t>(1, std::min<std::int64_t>(64, n / grain));
    if (chunks == 1 || t_inside_pool || pool().workers() == 0) {
        body(0, n);
        return;
    }
    const std::function<void(std::int64_t)> task = [&](std::int64_t c) {
        body(n * c / chunks, n * (c + 1) / chunks);
    };
    pool().run(chunks, task);
}

}  // namespace mtag::nn
