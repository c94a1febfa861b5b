# `mtag extract` on one long MP3 (fewer files than threads): its segments are spread over the threads
# (data/extract/segments.hpp) and the .npy is byte-identical with --threads 1 and --threads 2; --mp3-decode fast
# gives the same shape as full (its values differ within the README's stated error); a bad --mp3-decode value
# is a usage error naming the accepted ones.
file(REMOVE_RECURSE ${TMP}/long_mp3)
file(MAKE_DIRECTORY ${TMP}/long_mp3)
set(SONG ${TMP}/long_mp3/long.mp3)
execute_process(COMMAND ${EXE} --quiet synth --tone 440 --seconds 150 --channels 2 --sample-rate 44100 --out ${SONG}
                RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "synth failed (${code}): ${err}")
endif()
foreach(run "1;full" "2;full" "2;fast")
  list(GET run 0 threads)
  list(GET run 1 mode)
  execute_process(COMMAND ${EXE} --quiet --threads ${threads} extract ${SONG} --out ${TMP}/long_mp3/out_${threads}_${mode}
                          --sample-rate 16000 --mp3-decode ${mode}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0 OR NOT out MATCHES "\"computed\":1")
    message(FATAL_ERROR "extract --threads ${threads} --mp3-decode ${mode} failed (${code}): ${out} ${err}")
  endif()
  file(READ ${TMP}/long_mp3/out_${threads}_${mode}/features.json features)
  string(JSON frames_${threads}_${mode} GET "${features}" outputs 0 frames)
endforeach()
file(SHA256 ${TMP}/long_mp3/out_1_full/long.npy one)
file(SHA256 ${TMP}/long_mp3/out_2_full/long.npy two)
if(NOT one STREQUAL two)
  message(FATAL_ERROR "the .npy of --threads 1 and --threads 2 differ")
endif()
if(NOT frames_1_full EQUAL 9376 OR NOT frames_2_fast EQUAL frames_1_full)
  message(FATAL_ERROR "frames: full ${frames_1_full} (expected 9376 = 1 + 150 s * 16000 / 256), fast ${frames_2_fast}")
endif()
execute_process(COMMAND ${EXE} extract ${SONG} --out ${TMP}/long_mp3/unused --mp3-decode quick
                RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 2 OR NOT err MATCHES "mp3-decode.*full.*fast")
  message(FATAL_ERROR "--mp3-decode quick: expected exit 2 naming full and fast, got ${code}: ${err}")
endif()
