# mtag tag and mtag eval on the tiny run and clips the test_data fixture writes (ROOT = its folder).
#  - tag: one JSON line per good file, the broken file reported on stderr, exit code 3; embeddings and
#    taggrams written as .npy; two workers print what one prints; csv output has a header and one row
#    per reported tag.
#  - eval: one JSON object with the documented keys; an ensemble of two copies of a run equals the run.
include(${CMAKE_CURRENT_LIST_DIR}/run_mtag.cmake)

run_mtag(tag --model ${ROOT}/run ${ROOT}/audio --top-k 2 --embeddings ${ROOT}/emb --taggram ${ROOT}/tg)
if(NOT code EQUAL 3)
  message(FATAL_ERROR "tag: expected exit code 3 (one broken file), got ${code}\n${err}")
endif()
string(REGEX MATCHALL "\"path\":" lines "${out}")
list(LENGTH lines n)
if(NOT n EQUAL 8)
  message(FATAL_ERROR "tag: expected 8 JSON lines, got ${n}:\n${out}")
endif()
if(NOT out MATCHES "\"duration_seconds\":[0-9.]+,\"chunks\":[0-9]+,\"tags\":\\[{\"tag\":\"[a-z]+\",\"score\":[0-9.e-]+},{\"tag\"")
  message(FATAL_ERROR "tag: unexpected line format:\n${out}")
endif()
if(NOT err MATCHES "broken.wav")
  message(FATAL_ERROR "tag: the broken file is not named on stderr: ${err}")
endif()
if(NOT EXISTS ${ROOT}/emb/clip3.npy OR NOT EXISTS ${ROOT}/tg/clip3.npy)
  message(FATAL_ERROR "tag: embeddings or taggram .npy missing")
endif()

# Files in parallel (two workers of one thread each, own layers over shared weights) print exactly what
# one single-threaded worker prints, in input order, with the same failure report and exit code. (One
# worker with two BLAS threads may differ in the last bits: GEMM splits its work by thread count.)
set(parallel_out "${out}")
execute_process(COMMAND ${EXE} --threads 1 tag --model ${ROOT}/run ${ROOT}/audio --top-k 2
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 3 OR NOT out STREQUAL parallel_out)
  message(FATAL_ERROR "tag --threads 1 differs from two workers (code ${code}):\n${out}\n---\n${parallel_out}")
endif()

run_mtag(tag --model ${ROOT}/run ${ROOT}/audio/clip1.wav --format csv --all-scores)
string(REGEX MATCHALL "clip1.wav,[0-9.]+,[a-z]+,[0-9.e-]+\n" rows "${out}")
list(LENGTH rows n)
if(NOT code EQUAL 0 OR NOT out MATCHES "^path,duration_seconds,tag,score\n" OR NOT n EQUAL 4)
  message(FATAL_ERROR "tag --format csv --all-scores: code ${code}\n${out}\n${err}")
endif()

run_mtag(eval --model ${ROOT}/run --data ${ROOT}/manifest.csv --split test)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "eval: exit code ${code}\n${err}")
endif()
foreach(key roc_auc_macro pr_auc_macro per_tag skipped_tags clips seconds)
  if(NOT out MATCHES "\"${key}\":")
    message(FATAL_ERROR "eval: key ${key} missing:\n${out}")
  endif()
endforeach()
if(NOT out MATCHES "\"clips\":8")
  message(FATAL_ERROR "eval: expected 8 clips:\n${out}")
endif()
string(REGEX MATCH "\"roc_auc_macro\":[^,]+,\"pr_auc_macro\":[^,]+,\"per_tag\":\\[[^]]*\\]" single "${out}")

run_mtag(eval --model ${ROOT}/run --model ${ROOT}/run_copy --data ${ROOT}/manifest.csv --split test)
string(REGEX MATCH "\"roc_auc_macro\":[^,]+,\"pr_auc_macro\":[^,]+,\"per_tag\":\\[[^]]*\\]" ensemble "${out}")
if(NOT code EQUAL 0 OR single STREQUAL "" OR NOT single STREQUAL ensemble)
  message(FATAL_ERROR "eval: an ensemble of two copies differs from one run (code ${code}):\n${single}\n${ensemble}\n${err}")
endif()

# --group scores mutually exclusive tags as one single-label task; an unknown tag is a usage error.
run_mtag(eval --model ${ROOT}/run --data ${ROOT}/manifest.csv --split test --group style=rock,jazz)
if(NOT code EQUAL 0 OR NOT out MATCHES "\"groups\":{\"style\":{\"tags\":\\[\"rock\",\"jazz\"\\],\"clips\":8,\"left_out\":0,\"accuracy\":[0-9.e-]+,\"confusion\":\\[\\[[0-9]+,[0-9]+\\],\\[[0-9]+,[0-9]+\\]\\]}}")
  message(FATAL_ERROR "eval --group: code ${code}\n${out}\n${err}")
endif()
run_mtag(eval --model ${ROOT}/run --data ${ROOT}/manifest.csv --split test --group style=rock,metal)
if(NOT code EQUAL 2 OR NOT err MATCHES "tag 'metal' is not one of the run's tags")
  message(FATAL_ERROR "eval --group with an unknown tag: expected exit code 2 and a message, got ${code}\n${err}")
endif()
