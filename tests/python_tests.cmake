# pytest files under tests/python/, one ctest test per file, against the package the build assembled in
# build/python/ (PYTHONPATH) and the mtag executable (MTAG_EXE, for the CLI comparisons). Registered when
# the build has the Python module (MTAG_PYTHON). Shared fixtures missing under CI=true fail (conftest.py).
set(python_env
  PYTHONPATH=${CMAKE_BINARY_DIR}/python
  PYTHONDONTWRITEBYTECODE=1
  MTAG_EXE=${MTAG_EXE}
  MTAG_BUILD_DIR=${CMAKE_BINARY_DIR}
  MTAG_SHARED_DIR=${MTAG_SHARED_DIR}
  MTAG_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp/python)
file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/tmp)
file(GLOB python_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/python/test_*.py)
foreach(file ${python_tests})
  get_filename_component(name ${file} NAME_WE)
  add_test(NAME "python: ${name}"
           COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider --basetemp=${CMAKE_CURRENT_BINARY_DIR}/tmp/pytest_${name} ${file}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/python)
  set_tests_properties("python: ${name}" PROPERTIES ENVIRONMENT "${python_env}" TIMEOUT 600)
endforeach()

# The example trains a small PyTorch model for one epoch on a few-clip synthetic corpus fed by
# mtag.torch.IterableDataset. Without torch it skips (exit 77), except under CI=true, where it fails.
add_test(NAME "python: example train_torch_with_mtag_loader"
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/examples/train_torch_with_mtag_loader.py
                 --mtag ${MTAG_EXE} --work ${CMAKE_CURRENT_BINARY_DIR}/tmp/python_example --clips 8 --seconds 2)
set_tests_properties("python: example train_torch_with_mtag_loader" PROPERTIES
                     ENVIRONMENT "${python_env}" TIMEOUT 600 SKIP_RETURN_CODE 77
                     PASS_REGULAR_EXPRESSION "epoch 0: mean loss [0-9.]+")
