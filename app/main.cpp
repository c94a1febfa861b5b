// Entry point: forwards to run_cli and turns exceptions into one clear line and an exit code.
#include "app/command.hpp"
#include "data/distributed/communicator.hpp"
#include "dsp/error.hpp"

#include <exception>
#include <iostream>

// Under mpirun an error on one rank ends the whole job (MPI_Abort) rather than leaving the others waiting.
int main(int argc, char** argv) {
    using mtag::data::dist::Communicator;
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
