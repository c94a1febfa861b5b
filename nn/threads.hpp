#pragma once
// The engine's thread budget: OpenBLAS threads times mtag's own threads never exceed --threads.
namespace mtag::nn {

// Sets the total number of threads the engine may use (OpenBLAS GEMMs and mtag's own loops).
void set_thread_budget(int threads);
// The budget last set (default 1 until set).
int thread_budget();

}  // namespace mtag::nn
