#pragma once
// Ctrl-C and SIGTERM during `mtag train` / `mtag sweep`: the first signal only sets a flag that the
// training loop polls between steps, so the run saves a checkpoint and exits cleanly instead of dying
// mid-write. The guard installs the handler for its lifetime and restores the previous handlers on every
// exit path (return or exception).

#include <atomic>

namespace mtag::app {

class StopSignals {
public:
    StopSignals();  // clears the flag, installs the handler for SIGINT and SIGTERM
    ~StopSignals();  // restores the handlers that were there before
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // The flag the signal sets; pass it to the trainer or sweep as their `stop`.
    static std::atomic<bool>* flag();
    // Whether a signal arrived since the last guard was made (the command then exits non-zero).
    static bool received() { return flag()->load(); }

private:
    using Handler = void (*)(int);
    Handler m_old_int;
    Handler m_old_term;
};

}  // namespace mtag::app
