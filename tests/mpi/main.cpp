// Catch2 runner for the MPI tests: the same tests run on every rank of `mpirun -np 2 test_mpi`, and MPI is
// finalised after them (or the job aborted when a rank fails, so the other never waits forever).
#define CATCH_CONFIG_RUNNER
#include "data/distributed/communicator.hpp"

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
    using mtag::data::dist::Communicator;
    Communicator& world = Communicator::world();
    const int failed = Catch::Session().run(argc, argv);
    if (failed != 0) world.fail(1, "test_mpi: rank " + std::to_string(world.rank()) + " had failures");
    world.finalize();
    return failed == 0 ? 0 : 1;
}
