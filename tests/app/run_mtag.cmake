# run_mtag(ARGS...): runs ${EXE} --threads 2 ARGS and sets code, out and err in the caller's scope.
function(run_mtag)
  execute_process(COMMAND ${EXE} --threads 2 ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(code "${code}" PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()
