# Builds a tiny CSV-manifest dataset with `mtag synth`, runs `mtag dataset stats` on it and checks the
# JSON (splits, tags, tag counts, problems), then checks that a dataset with nothing usable exits 1.
set(dir ${TMP}/dataset_stats)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir}/audio)
foreach(name a b c)
  execute_process(COMMAND ${EXE} --quiet synth --tone 440 --seconds 0.5 --out ${dir}/audio/${name}.wav
                  RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "mtag synth failed: ${code}")
  endif()
endforeach()
file(WRITE ${dir}/manifest.csv "path,tags,split\naudio/a.wav,piano;slow,train\naudio/b.wav,\"guitar\",train\naudio/c.wav,piano,test\naudio/gone.wav,piano,valid\n")
execute_process(COMMAND ${EXE} --quiet dataset stats --data ${dir} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "dataset stats failed (${code}): ${err}")
endif()
foreach(expected "\"format\":\"csv\"" "\"splits\":{\"train\":2,\"valid\":0,\"test\":1}"
                 "\"tags\":\\[\"guitar\",\"piano\",\"slow\"\\]" "\"train\":{\"guitar\":1,\"piano\":1,\"slow\":1}"
                 "\"hours\":0\\.0004166" "gone.wav\",\"reason\":\"missing audio\"")
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "dataset stats output lacks ${expected}: ${out}")
  endif()
endforeach()
file(WRITE ${dir}/empty.csv "path,tags,split\naudio/none.wav,x,train\n")
execute_process(COMMAND ${EXE} dataset stats --data ${dir}/empty.csv RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1 OR NOT err MATCHES "no usable clip.*missing audio")
  message(FATAL_ERROR "expected exit 1 and a clear message for an unusable dataset, got ${code}: ${err}")
endif()
