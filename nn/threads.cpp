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
        {
            std::unique_lock lock(m_mutex);
            m_task = &task;
            m_chunks = chunks;
            m_next = 0;
            m_pending = chunks;
            m_error = nullptr;
            ++m_generation;
        }
        m_wake.notify_all();
        t_inside_pool = true;
        take_chunks();
        t_inside_pool = false;
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [this] { return m_pending == 0; });
        m_task = nullptr;
        if (m_error) std::rethrow_exception(m_error);
    }

  private:
    void take_chunks() {
        for (;;) {
            const std::int64_t i = m_next.fetch_add(1);
            if (i >= m_chunks) return;
            try {
                (*m_task)(i);
            } catch (...) {
                std::unique_lock lock(m_mutex);
                if (!m_error) m_error = std::current_exception();
            }
            std::unique_lock lock(m_mutex);
            if (--m_pending == 0) m_done.notify_all();
        }
    }

    void work() {
        t_inside_pool = true;
        std::uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [&] { return m_stop || (m_generation != seen && m_task); });
                if (m_stop) return;
                seen = m_generation;
            }
            take_chunks();
        }
    }

    std::vector<std::thread> m_threads;
    std::mutex m_job_mutex;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    const std::function<void(std::int64_t)>* m_task = nullptr;
    std::atomic<std::int64_t> m_chunks{0};
    std::atomic<std::int64_t> m_next{0};
    std::int64_t m_pending = 0;
    std::uint64_t m_generation = 0;
    std::exception_ptr m_error;
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
