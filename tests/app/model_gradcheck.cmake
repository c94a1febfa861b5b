# `mtag model gradcheck` (issue 25) through the CLI: --json carries mode, batch and one entry per layer; the
# default (entries) passes the tiny cnn1d; --mode directions runs and says so in its summary; an unknown mode is a
# usage error. (The broken-backward case is the Catch2 test in tests/nn/test_model_gradcheck.cpp, which can wrap
# a layer; the tiny cnn1d passing in the default mode is also in train_diagnostics.cmake.)
set(tiny [=[{"n_mels": 16, "input_frames": 32, "channels": [8, 8], "kernel_sizes": [3, 3], "pools": [2, 1], "dense": [8]}]=])

execute_process(COMMAND ${EXE} --threads 1 model gradcheck cnn1d --n-tags 2 --json --options ${tiny}
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "gradcheck --json (${code}): ${out}\n${err}")
endif()
string(JSON passed GET "${out}" passed)
string(JSON mode GET "${out}" mode)
string(JSON n LENGTH "${out}" layers)
string(JSON first GET "${out}" layers 0 layer)
if(NOT passed OR NOT mode STREQUAL "entries" OR NOT n EQUAL 6 OR NOT first STREQUAL "layer1.conv")
  message(FATAL_ERROR "gradcheck --json: passed ${passed}, mode ${mode}, ${n} layers, first ${first}: ${out}")
endif()

execute_process(COMMAND ${EXE} --threads 1 model gradcheck cnn1d --n-tags 2 --mode directions --options ${tiny}
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT (code EQUAL 0 OR code EQUAL 1) OR NOT out MATCHES "\nlayer2.bn +16 +3 " OR NOT out MATCHES "mode directions, relative step 0.001")
  message(FATAL_ERROR "gradcheck --mode directions (${code}): ${out}\n${err}")
endif()
message("--mode directions on the tiny cnn1d (exit ${code}): ${out}")

execute_process(COMMAND ${EXE} model gradcheck cnn1d --mode random RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 2 OR NOT err MATCHES "--mode")
  message(FATAL_ERROR "gradcheck --mode random: expected a usage error naming --mode, got ${code}: ${err}")
endif()
