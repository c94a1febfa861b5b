# MPI tests (MTAG_MPI): run under `mpirun -np 2 --oversubscribe`. Open MPI refuses to start as root unless the
# two OMPI_ALLOW_RUN_AS_ROOT variables are set (CI containers run as root). MTAG_MPI_TIMEOUT keeps a broken
# test from hanging: the watchdog aborts the job after 120 s in one collective. --bind-to none: Open MPI binds
# each of 2 ranks to one core by default, where its loader thread would starve behind the rank spinning in MPI_Wait.
set(MTAG_MPIRUN ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 2 --oversubscribe --bind-to none)
set(MTAG_MPI_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 MTAG_MPI_TIMEOUT=120
                 OMPI_MCA_rmaps_base_oversubscribe=1)
# Under ASan (scripts/test.sh's asan part) LeakSanitizer cannot attribute Open MPI's leaks: MPI_Finalize
# dlclose()s the MCA components that made them, so their stacks end in "<unknown module>", which no
# suppression can name (tests/sanitizers/lsan.supp handles the libraries that stay loaded). Leak checking is
# therefore off for the two MPI tests only; ASan's memory errors and UBSan stay on, and the code they run
# (training, extraction, the communicator in its single-rank form) is leak-checked by the other tests.
if(MTAG_SANITIZE)
  list(APPEND MTAG_MPI_ENV "ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0:abort_on_error=0")
endif()

file(GLOB MTAG_MPI_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/mpi/*.cpp)
add_executable(test_mpi ${MTAG_MPI_TEST_SOURCES})
target_link_libraries(test_mpi PRIVATE mtag_train mtag_extract Catch2::Catch2)
target_include_directories(test_mpi PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(test_mpi PRIVATE ${MTAG_TEST_DEFINES})

add_test(NAME "mpi: data-parallel training (2 ranks)" COMMAND ${MTAG_MPIRUN} $<TARGET_FILE:test_mpi>)
set_tests_properties("mpi: data-parallel training (2 ranks)" PROPERTIES ENVIRONMENT "${MTAG_MPI_ENV}" TIMEOUT 600
                     RUN_SERIAL TRUE)

# Sharded extraction: 2 ranks write byte-identical .npy files and the same features.json outputs as one
# process; a rerun with 1 rank (another K) skips everything; a 2-rank `mtag train` writes one run directory.
add_test(NAME "mpi: extract and train over 2 ranks"
         COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:mtag> -DTMP=${CMAKE_CURRENT_BINARY_DIR}/cli
                 "-DMPIRUN=${MTAG_MPIRUN}" -P ${CMAKE_CURRENT_SOURCE_DIR}/app/mpi_extract_train.cmake)
set_tests_properties("mpi: extract and train over 2 ranks" PROPERTIES ENVIRONMENT "${MTAG_MPI_ENV}" TIMEOUT 600
                     RUN_SERIAL TRUE)
