# The fence must fail on a tree with a forbidden include (nn/ including a dsp/ header beyond error.hpp,
# data/sets/ including nn/): run it on a scratch copy of two such files and expect both to be named.
file(REMOVE_RECURSE ${TMP}/fence_tree)
file(WRITE ${TMP}/fence_tree/nn/layer.cpp "#include \"nn/tensor.hpp\"\n#include \"dsp/error.hpp\"\n#include \"dsp/stft.hpp\"\n")
file(WRITE ${TMP}/fence_tree/data/sets/x.cpp "#include \"data/sets/csv.hpp\"\n#include \"nn/tensor.hpp\"\n")
file(WRITE ${TMP}/fence_tree/dsp/y.cpp "#include \"app/command.hpp\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${TMP}/fence_tree -P ${FENCE}
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(code EQUAL 0)
  message(FATAL_ERROR "the fence passed a tree with forbidden includes:\n${all}")
endif()
foreach(expected "nn/layer.cpp:3: includes dsp/stft.hpp" "data/sets/x.cpp:2: includes nn/tensor.hpp"
                 "dsp/y.cpp:1: includes app/command.hpp")
  string(FIND "${all}" "${expected}" at)
  if(at LESS 0)
    message(FATAL_ERROR "the fence did not report '${expected}':\n${all}")
  endif()
endforeach()
string(FIND "${all}" "nn/layer.cpp:2" at)
if(NOT at LESS 0)
  message(FATAL_ERROR "the fence reported nn/ including dsp/error.hpp, which is allowed:\n${all}")
endif()
message("the fence reports every forbidden include of the scratch tree")
