# Runs CMD (a ;-list) and passes only when it exits with EXPECT (2 = usage error, 1 = error, 3 = some inputs
# failed), so a crash (a signal, or any other code) cannot pass as an expected failure. With MATCH, stderr
# must also contain that regular expression (the message names the option or file).
execute_process(COMMAND ${CMD} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT "${code}" STREQUAL "${EXPECT}")
  message(FATAL_ERROR "expected exit code ${EXPECT}, got '${code}'\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED MATCH AND NOT err MATCHES "${MATCH}")
  message(FATAL_ERROR "stderr does not match '${MATCH}':\n${err}")
endif()
message("exit code ${code} as expected: ${err}")
