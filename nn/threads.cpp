#include "nn/threads.hpp"

#include <algorithm>
#include <atomic>
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
        }
        m_wake.notify_all();
        t_inside_pool = true;
        take_chunks(job);
        t_inside_pool = false;
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [&] { return job.pending == 0 && job.active == 0; });
        m_job = nullptr;
        if (job.error) std::rethrow_exception(job.error);
    }

  private:
    struct Job {
        const std::function<void(std::int64_t)>* task = nullptr;
        std::int64_t chunks = 0;
        std::atomic<std::int64_t> next{0};
        std::int64_t pending = 0;  // chunks not finished (under m_mutex)
        int active = 0;            // workers inside take_chunks (under m_mutex)
        std::exception_ptr error;
    };

    void take_chunks(Job& job) {
        for (;;) {
            const std::int64_t i = job.next.fetch_add(1);
            if (i >= job.chunks) return;
            std::exception_ptr error;
            try {
                (*job.task)(i);
            } catch (...) {
                error = std::current_exception();
            }
            std::unique_lock lock(m_mutex);
            if (error && !job.error) job.error = error;
            if (--job.pending == 0) m_done.notify_all();
        }
    }

    void work() {
        t_inside_pool = true;
        std::uint64_t seen = 0;
        for (;;) {
            Job* job = nullptr;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [&] { return m_stop || (m_generation != seen && m_job); });
                if (m_stop) return;
                seen = m_generation;
                job = m_job;
                ++job->active;
            }
            take_chunks(*job);
            std::unique_lock lock(m_mutex);
            if (--job->active == 0) m_done.notify_all();
        }
    }

    std::vector<std::thread> m_threads;
    std::mutex m_job_mutex;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    Job* m_job = nullptr;  // the job running now (under m_mutex)
    std::uint64_t m_generation = 0;
    bool m_stop = false;
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
    openblas_set_num_threads(g_budget);
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
