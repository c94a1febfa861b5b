# The compact convnet trained from scratch (no --init-from) must see its input: its front end's DFT kernels
# and mel matrix are computed for a new model (data/run/fixed_front_end.hpp); once they were left zero and
# every clip gave the same log-mel map. Trains choi2017_compact for one epoch on 300 Hz and 3000 Hz tones,
# then the two tones' embeddings must differ; then `mtag model check` passes the run and fails a copy whose
# mel matrix is zeroed.
include(${CMAKE_CURRENT_LIST_DIR}/tone_corpus.cmake)
set(dir ${TMP}/train_compact)
file(REMOVE_RECURSE ${dir})
tone_corpus(${dir} 6 2 5 6)
execute_process(COMMAND ${EXE} --threads 2 --seed 3 train --preset choi2017_compact --data ${dir}/manifest.csv
                        --out ${dir}/run --epochs 1 --batch-size 2
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "mtag train --preset choi2017_compact failed (${code}): ${err}")
endif()
execute_process(COMMAND ${EXE} --threads 2 tag --model ${dir}/run --embeddings ${dir}/emb --format json
                        ${dir}/audio/c1.wav ${dir}/audio/c2.wav
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "mtag tag with the trained compact convnet failed (${code}): ${err}")
endif()
foreach(clip c1 c2)
  file(STRINGS ${dir}/emb/${clip}.npy header LIMIT_COUNT 1 REGEX "shape")
  if(NOT header MATCHES "'shape': \\(160,\\)")
    message(FATAL_ERROR "compact convnet: expected 160 features for ${clip}, header ${header}")
  endif()
endforeach()
file(SHA256 ${dir}/emb/c1.npy high)
file(SHA256 ${dir}/emb/c2.npy low)
if(high STREQUAL low)
  message(FATAL_ERROR "a 3000 Hz and a 300 Hz tone gave the same 160 features: the front end sees a constant input")
endif()

# The run passes `mtag model check`; a copy whose mel matrix is zeroed (what `model init` once wrote) fails it,
# naming the tensor.
execute_process(COMMAND ${EXE} model check ${dir}/run RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "the compact convnet trained from scratch fails `mtag model check` (${code}): ${err}")
endif()
file(REMOVE_RECURSE ${dir}/zeroed)
file(COPY ${dir}/run/model.json ${dir}/run/model.safetensors DESTINATION ${dir}/zeroed)
# Zero the tensor's bytes in place: its offsets come from the safetensors header (an 8-byte little-endian
# length, then JSON), read by CMake; coreutils' dd overwrites them without truncating the file.
set(st ${dir}/zeroed/model.safetensors)
file(READ ${st} len_hex LIMIT 8 HEX)
string(REGEX REPLACE "^(..)(..)(..)(..).*" "\\4\\3\\2\\1" len_hex "${len_hex}")
math(EXPR header_len "0x${len_hex}")
file(READ ${st} header OFFSET 8 LIMIT ${header_len})
string(JSON begin GET "${header}" melgram.mel data_offsets 0)
string(JSON end GET "${header}" melgram.mel data_offsets 1)
math(EXPR seek "8 + ${header_len} + ${begin}")
math(EXPR count "${end} - ${begin}")
execute_process(COMMAND dd if=/dev/zero of=${st} bs=65536 seek=${seek} count=${count} oflag=seek_bytes
                        iflag=count_bytes conv=notrunc status=none
                RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 0 OR count LESS 1024)
  message(FATAL_ERROR "could not zero the mel matrix of the copy (${count} bytes at ${seek}): ${err}")
endif()
execute_process(COMMAND ${EXE} model check ${dir}/zeroed RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1 OR NOT err MATCHES "tensor 'melgram.mel' of the fixed front end DftMelgram is all zero")
  message(FATAL_ERROR "`mtag model check` on a zeroed front end: expected exit 1 naming melgram.mel, got ${code}: ${err}")
endif()
