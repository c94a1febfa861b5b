#include "nn/threads.hpp"

#include <atomic>

extern "C" void openblas_set_num_threads(int);

namespace mtag::nn {

namespace {
std::atomic<int> g_budget{1};
}

void set_thread_budget(int threads) {
    g_budget = threads < 1 ? 1 : threads;
    openblas_set_num_threads(g_budget);
}

int thread_budget() { return g_budget; }

}  // namespace mtag::nn
