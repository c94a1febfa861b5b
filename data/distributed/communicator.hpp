#pragma once
// The thin MPI layer (library mtag_mpi): the only code that talks to MPI. Everything else in mtag sees a
// Communicator with a rank, a size and the handful of collectives data-parallel training and sharded
// extraction need. Built without MTAG_MPI, or run without a launcher, it is a single rank whose
// collectives are no-ops, so a plain `mtag train` behaves exactly as it did before MPI existed.
//
// When is MPI initialised? Lazily, on the first call to world(), and only when the process was started
// by a launcher (mpirun/mpiexec set OMPI_COMM_WORLD_SIZE; srun sets PMIX_RANK or PMI_RANK), or when
// MTAG_MPI=1 forces it. A process started by hand never calls MPI_Init (no singleton runtime).
//
// Failure: every blocking wait runs under a watchdog. When a wait exceeds the timeout (MTAG_MPI_TIMEOUT
// seconds, default 600; set_timeout()), the watchdog prints which collective on which rank is stuck and
// calls MPI_Abort, so a dead or hung rank fails the job loudly instead of hanging it. An error on one rank
// goes through fail(): MPI_Abort rather than MPI_Finalize (which would wait for ranks that never come).
// MPI is initialised with MPI_THREAD_MULTIPLE so the watchdog may call MPI_Abort from its own thread.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mtag::data::dist {

// A pending non-blocking collective (an MPI_Request); default-constructed = nothing pending.
struct Request {
    void* handle = nullptr;  // MPI_Request (a pointer in Open MPI), stored opaquely
    bool active = false;
};

class Communicator {
  public:
    // The world communicator (MPI_COMM_WORLD), initialising MPI on first use when launched by mpirun/srun.
    static Communicator& world();

    int rank() const { return m_rank; }
    int size() const { return m_size; }
    bool is_root() const { return m_rank == 0; }
    // True when there is more than one rank (collectives do real work).
    bool distributed() const { return m_size > 1; }
    // True when this build has MPI support (MTAG_MPI).
    static bool built_with_mpi();
    // "Open MPI v4.1.4, ..." or "none".
    static std::string library_version();

    // Seconds a blocking wait may take before the watchdog aborts the job (0 = no timeout).
    void set_timeout(double seconds) { m_timeout = seconds; }
    double timeout() const { return m_timeout; }

    // Blocking collectives; `what` names the operation in watchdog messages.
    void broadcast(std::span<float> data, int root, const char* what);
    void broadcast(std::string& bytes, int root, const char* what);
    void allreduce_sum(std::span<double> data, const char* what);
    void allreduce_sum(std::span<float> data, const char* what);
    // Every rank's value, in rank order.
    std::vector<std::uint64_t> allgather(std::uint64_t value, const char* what);
    // Every rank's string, in rank order (variable lengths).
    std::vector<std::string> allgather(const std::string& value, const char* what);
    void barrier(const char* what);
    // Like broadcast(), but without the watchdog: for phases where the root legitimately works alone for a
    // long time (dataset statistics) while the others wait.
    void broadcast_untimed(std::string& bytes, int root);

    // Starts an in-place sum over ranks of `data` (MPI_Iallreduce); `data` must stay alive and untouched
    // until wait(). Progress happens inside MPI calls, so call poll() now and then while computing.
    Request iallreduce_sum(std::span<float> data);
    // Lets MPI progress pending requests (MPI_Test on each); cheap, never blocks.
    void poll(std::span<Request> requests);
    // Waits for a request under the watchdog; adds the time blocked to blocked_seconds().
    void wait(Request& request, const char* what);
    // Seconds spent blocked in wait() (communication that did not overlap computation).
    double blocked_seconds() const { return m_blocked_seconds; }
    void reset_blocked_seconds() { m_blocked_seconds = 0; }

    // Prints `message` (when not empty) and ends the whole job with `code`: MPI_Abort when distributed,
    // otherwise returns so the caller can exit normally.
    void fail(int code, const std::string& message);
    // MPI_Finalize when MPI was initialised (after the watchdog stopped). Idempotent.
    void finalize();
    // For main(): finalize() / fail() on the world communicator if it was ever created (no-ops otherwise, so
    // commands that never touch MPI never initialise it).
    static void finalize_world();
    static void fail_world(int code);

    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;
    ~Communicator();

  private:
    // MPI_Allreduce(MPI_SUM) in place, for the element types of the public overloads.
    template <class T>
    void allreduce_sum_in_place(std::span<T> data, const char* what);
    Communicator();
    // RAII: arms the watchdog for one blocking call.
    class Guard;
    void watchdog_loop();

    int m_rank = 0;
    int m_size = 1;
    bool m_initialized = false;  // we called MPI_Init_thread
    bool m_finalized = false;
    double m_timeout = 600;
    double m_blocked_seconds = 0;
    struct Watchdog;
    Watchdog* m_watchdog = nullptr;
};

// [begin, end) of the `rank`-th of `ranks` contiguous shards of `count` items (sizes differ by at most one,
// the larger shards first): the split of a global batch and of a file list.
std::pair<std::size_t, std::size_t> shard_range(std::size_t count, int rank, int ranks);

}  // namespace mtag::data::dist
