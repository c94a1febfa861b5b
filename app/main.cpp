// Entry point: forwards to run_cli and turns exceptions into one clear line and an exit code.
#include "app/command.hpp"
#include "data/distributed/communicator.hpp"
#include "dsp/error.hpp"

#include <dlfcn.h>

#include <exception>
#include <iostream>

namespace {

// OpenBLAS starts a worker thread per core when it loads, and each spins 2^28 cycles (0.1 s of a core) before
// it first sleeps: beside mtag's own threads, in every process. mtag runs OpenBLAS single-threaded
// (nn/threads.hpp), so the workers are stopped at once. OpenBLAS starts them again if a multi-threaded call
// ever needs them (`bench nn`'s SGEMM peak), as it does after fork(), where it stops them the same way.
// Looked up rather than linked: the function is OpenBLAS's own, not part of the BLAS interface.
void stop_idle_blas_workers() {
    using Shutdown = int (*)();
    if (auto shutdown = reinterpret_cast<Shutdown>(dlsym(RTLD_DEFAULT, "blas_thread_shutdown_"))) shutdown();
}

}  // namespace

// Under mpirun an error on one rank ends the whole job (MPI_Abort) rather than leaving the others waiting.
int main(int argc, char** argv) {
    using mtag::data::dist::Communicator;
    stop_idle_blas_workers();
    int code = 0;
    try {
        code = mtag::app::run_cli(argc, argv);
    } catch (const mtag::UsageError& e) {
        std::cerr << "mtag: error: " << e.what() << "\n";
        Communicator::fail_world(2);
        code = 2;
    } catch (const std::exception& e) {
        std::cerr << "mtag: error: " << e.what() << "\n";
        Communicator::fail_world(1);
        code = 1;
    }
    Communicator::finalize_world();
    return code;
}
