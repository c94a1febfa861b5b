#include "app/stop_signals.hpp"

#include <csignal>

namespace mtag::app {

namespace {

std::atomic<bool> g_stop{false};

// A signal handler may only touch lock-free atomics; std::atomic<bool> is lock-free on every target.
extern "C" void on_stop_signal(int) { g_stop.store(true); }

}  // namespace

StopSignals::StopSignals() {
    g_stop.store(false);
    m_old_int = std::signal(SIGINT, on_stop_signal);
    m_old_term = std::signal(SIGTERM, on_stop_signal);
}

StopSignals::~StopSignals() {
    std::signal(SIGINT, m_old_int);
    std::signal(SIGTERM, m_old_term);
}

std::atomic<bool>* StopSignals::flag() { return &g_stop; }

}  // namespace mtag::app
