#include "data/distributed/communicator.hpp"

#include "dsp/error.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <mutex>
#include <thread>

#if MTAG_WITH_MPI
#include <mpi.h>
#endif

namespace mtag::data::dist {

std::pair<std::size_t, std::size_t> shard_range(std::size_t count, int rank, int ranks) {
    const auto k = static_cast<std::size_t>(ranks), r = static_cast<std::size_t>(rank);
    const std::size_t base = count / k, extra = count % k;
    const std::size_t begin = r * base + std::min(r, extra);
    return {begin, begin + base + (r < extra ? 1 : 0)};
}

namespace {

using Clock = std::chrono::steady_clock;

[[maybe_unused]] bool launched_by_mpi() {
    if (const char* force = std::getenv("MTAG_MPI")) return std::string(force) == "1";
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
        if (std::getenv(name)) return true;
    return false;
}

double env_timeout() {
    if (const char* t = std::getenv("MTAG_MPI_TIMEOUT")) {
        char* end = nullptr;
        const double v = std::strtod(t, &end);
        if (end != t && v >= 0) return v;
    }
    return 600;
}

#if MTAG_WITH_MPI
void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(std::string("MPI ") + what, std::string(text, static_cast<std::size_t>(length)));
}
MPI_Request to_mpi(const Request& r) {
    MPI_Request m;
    static_assert(sizeof(MPI_Request) <= sizeof(void*));
    std::memcpy(&m, &r.handle, sizeof m);
    return m;
}
void from_mpi(Request& r, MPI_Request m) { std::memcpy(&r.handle, &m, sizeof m); }
#endif

}  // namespace

// The watchdog thread: sleeps until a guarded wait is armed, aborts the job if it lasts too long.
struct Communicator::Watchdog {
    std::mutex mutex;
    std::condition_variable changed;
    bool stop = false;
    bool armed = false;
    std::string what;
    Clock::time_point since;
    std::thread thread;
};

class Communicator::Guard {
  public:
    Guard(Communicator& c, const char* what) : m_c(c) {
        if (!c.m_watchdog || c.m_timeout <= 0) return;
        std::lock_guard lock(c.m_watchdog->mutex);
        c.m_watchdog->armed = true;
        c.m_watchdog->what = what;
        c.m_watchdog->since = Clock::now();
        c.m_watchdog->changed.notify_all();
    }
    ~Guard() {
        if (!m_c.m_watchdog) return;
        std::lock_guard lock(m_c.m_watchdog->mutex);
        m_c.m_watchdog->armed = false;
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

  private:
    Communicator& m_c;
};

namespace {
std::atomic<Communicator*> g_world{nullptr};
}

Communicator& Communicator::world() {
    static Communicator instance;
    g_world.store(&instance);
    return instance;
}

void Communicator::finalize_world() {
    if (Communicator* c = g_world.load()) c->finalize();
}

void Communicator::fail_world(int code) {
    if (Communicator* c = g_world.load()) c->fail(code, "");
}

bool Communicator::built_with_mpi() {
#if MTAG_WITH_MPI
    return true;
#else
    return false;
#endif
}

std::string Communicator::library_version() {
#if MTAG_WITH_MPI
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(text, &length);
    std::string s(text, static_cast<std::size_t>(length));
    if (auto nl = s.find_first_of(",\n"); nl != std::string::npos) s.resize(nl);
    return s;
#else
    return "none";
#endif
}

Communicator::Communicator() {
    m_timeout = env_timeout();
#if MTAG_WITH_MPI
    if (!launched_by_mpi()) return;
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
    m_initialized = true;
    // Errors come back as codes (turned into mtag::Error) rather than aborting inside MPI.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m_size);
    if (m_size > 1) {
        if (provided < MPI_THREAD_MULTIPLE && m_rank == 0)
            std::cerr << "mtag: warning: the MPI library gives no MPI_THREAD_MULTIPLE; the watchdog may not be "
                         "able to abort a hung job cleanly\n";
        m_watchdog = new Watchdog;
        m_watchdog->thread = std::thread([this] { watchdog_loop(); });
    }
#endif
}

Communicator::~Communicator() {
    // finalize() is called from main; here only the thread must not outlive the object.
    if (m_watchdog) {
        {
            std::lock_guard lock(m_watchdog->mutex);
            m_watchdog->stop = true;
        }
        m_watchdog->changed.notify_all();
        if (m_watchdog->thread.joinable()) m_watchdog->thread.join();
        delete m_watchdog;
        m_watchdog = nullptr;
    }
}

void Communicator::watchdog_loop() {
    std::unique_lock lock(m_watchdog->mutex);
    while (!m_watchdog->stop) {
        if (!m_watchdog->armed || m_timeout <= 0) {
            m_watchdog->changed.wait_for(lock, std::chrono::seconds(1));
            continue;
        }
        const double waited = std::chrono::duration<double>(Clock::now() - m_watchdog->since).count();
        if (waited < m_timeout) {
            m_watchdog->changed.wait_for(lock, std::chrono::milliseconds(200));
            continue;
        }
        std::cerr << "mtag: error: rank " << m_rank << " of " << m_size << ": " << m_watchdog->what
                  << " has not completed after " << static_cast<long long>(waited)
                  << " s; another rank has probably died or hung. Aborting the job (written checkpoints are "
                     "intact; rerun with --resume). Raise MTAG_MPI_TIMEOUT if a rank legitimately works this long "
                     "alone."
                  << std::endl;
#if MTAG_WITH_MPI
        MPI_Abort(MPI_COMM_WORLD, 1);
#endif
        std::_Exit(1);
    }
}

void Communicator::broadcast(std::span<float> data, int root, const char* what) {
    if (m_size == 1) return;
#if MTAG_WITH_MPI
    Guard g(*this, what);
    // Counts are int in MPI 3: send large tensors in pieces.
    constexpr std::size_t piece = std::size_t{1} << 30;
    for (std::size_t at = 0; at < data.size(); at += piece)
        check(MPI_Bcast(data.data() + at, static_cast<int>(std::min(piece, data.size() - at)), MPI_FLOAT, root,
                        MPI_COMM_WORLD),
              what);
#else
    (void)data, (void)root, (void)what;
#endif
}

void Communicator::broadcast(std::string& bytes, int root, const char* what) {
    if (m_size == 1) return;
#if MTAG_WITH_MPI
    Guard g(*this, what);
    std::uint64_t length = bytes.size();
    check(MPI_Bcast(&length, 1, MPI_UINT64_T, root, MPI_COMM_WORLD), what);
    bytes.resize(length);
    check(MPI_Bcast(bytes.data(), static_cast<int>(length), MPI_CHAR, root, MPI_COMM_WORLD), what);
#else
    (void)bytes, (void)root, (void)what;
#endif
}

void Communicator::broadcast_untimed(std::string& bytes, int root) {
    const double saved = m_timeout;
    m_timeout = 0;
    try {
        broadcast(bytes, root, "broadcast");
    } catch (...) {
        m_timeout = saved;
        throw;
    }
    m_timeout = saved;
}

namespace {
#if MTAG_WITH_MPI
MPI_Datatype mpi_type(const double*) { return MPI_DOUBLE; }
MPI_Datatype mpi_type(const float*) { return MPI_FLOAT; }
#endif
}  // namespace

template <class T>
void Communicator::allreduce_sum_in_place(std::span<T> data, const char* what) {
    if (m_size == 1) return;
#if MTAG_WITH_MPI
    Guard g(*this, what);
    check(MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), mpi_type(data.data()), MPI_SUM,
                        MPI_COMM_WORLD),
          what);
#else
    (void)data, (void)what;
#endif
}

void Communicator::allreduce_sum(std::span<double> data, const char* what) { allreduce_sum_in_place(data, what); }

void Communicator::allreduce_sum(std::span<float> data, const char* what) { allreduce_sum_in_place(data, what); }

std::vector<std::uint64_t> Communicator::allgather(std::uint64_t value, const char* what) {
    std::vector<std::uint64_t> out(static_cast<std::size_t>(m_size), value);
    if (m_size == 1) return out;
#if MTAG_WITH_MPI
    Guard g(*this, what);
    check(MPI_Allgather(&value, 1, MPI_UINT64_T, out.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), what);
#else
    (void)what;
#endif
    return out;
}

std::vector<std::string> Communicator::allgather(const std::string& value, const char* what) {
    if (m_size == 1) return {value};
    std::vector<std::string> out(static_cast<std::size_t>(m_size));
#if MTAG_WITH_MPI
    const std::vector<std::uint64_t> lengths = allgather(static_cast<std::uint64_t>(value.size()), what);
    std::vector<int> counts(lengths.size()), offsets(lengths.size());
    std::size_t total = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
        if (total + lengths[r] > static_cast<std::size_t>(std::numeric_limits<int>::max()))
            throw Error(std::string("MPI ") + what, "more than 2 GiB gathered at once");
        counts[r] = static_cast<int>(lengths[r]);
        offsets[r] = static_cast<int>(total);
        total += lengths[r];
    }
    std::string all(total, '\0');
    Guard g(*this, what);
    check(MPI_Allgatherv(value.data(), static_cast<int>(value.size()), MPI_CHAR, all.data(), counts.data(),
                         offsets.data(), MPI_CHAR, MPI_COMM_WORLD),
          what);
    for (std::size_t r = 0; r < out.size(); ++r) out[r] = all.substr(static_cast<std::size_t>(offsets[r]), lengths[r]);
#else
    (void)what;
#endif
    return out;
}

void Communicator::barrier(const char* what) {
    if (m_size == 1) return;
#if MTAG_WITH_MPI
    Guard g(*this, what);
    check(MPI_Barrier(MPI_COMM_WORLD), what);
#else
    (void)what;
#endif
}

Request Communicator::iallreduce_sum(std::span<float> data) {
    Request r;
    if (m_size == 1) return r;
#if MTAG_WITH_MPI
    MPI_Request m;
    check(MPI_Iallreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_FLOAT, MPI_SUM,
                         MPI_COMM_WORLD, &m),
          "MPI_Iallreduce");
    from_mpi(r, m);
    r.active = true;
#else
    (void)data;
#endif
    return r;
}

void Communicator::poll(std::span<Request> requests) {
#if MTAG_WITH_MPI
    for (Request& r : requests) {
        if (!r.active) continue;
        MPI_Request m = to_mpi(r);
        int done = 0;
        check(MPI_Test(&m, &done, MPI_STATUS_IGNORE), "MPI_Test");
        from_mpi(r, m);
        if (done) r.active = false;
    }
#else
    (void)requests;
#endif
}

void Communicator::wait(Request& request, const char* what) {
    if (!request.active) return;
#if MTAG_WITH_MPI
    const auto t0 = Clock::now();
    {
        Guard g(*this, what);
        MPI_Request m = to_mpi(request);
        check(MPI_Wait(&m, MPI_STATUS_IGNORE), what);
        from_mpi(request, m);
    }
    m_blocked_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
#else
    (void)what;
#endif
    request.active = false;
}

void Communicator::fail(int code, const std::string& message) {
    if (!message.empty()) std::cerr << message << std::endl;
#if MTAG_WITH_MPI
    if (m_initialized && !m_finalized && m_size > 1) {
        std::cerr << "mtag: rank " << m_rank << " of " << m_size << " failed; aborting the MPI job" << std::endl;
        MPI_Abort(MPI_COMM_WORLD, code);
    }
#else
    (void)code;
#endif
}

void Communicator::finalize() {
    if (m_watchdog) {
        {
            std::lock_guard lock(m_watchdog->mutex);
            m_watchdog->stop = true;
        }
        m_watchdog->changed.notify_all();
        if (m_watchdog->thread.joinable()) m_watchdog->thread.join();
        delete m_watchdog;
        m_watchdog = nullptr;
    }
#if MTAG_WITH_MPI
    if (m_initialized && !m_finalized) {
        int done = 0;
        MPI_Finalized(&done);
        if (!done) MPI_Finalize();
    }
#endif
    m_finalized = true;
}

}  // namespace mtag::data::dist
