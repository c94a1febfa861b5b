# mtag plot and mtag report through the CLI, on a tiny tone corpus (low = 300 Hz, high = 3000 Hz):
#  - train --report writes RUN/report.html; eval --report writes RUN/eval.json and rewrites the report;
#  - every plot kind writes a PNG, SVG or PDF that starts with the format's signature;
#  - bad inputs (missing run, a log with no epoch, a corrupt eval JSON, an unknown extension) exit non-zero
#    with a message naming the file, and leave no output file;
#  - progress: stdout of tag and eval is byte-identical with and without progress (--quiet), and --quiet
#    prints nothing on stderr.
# Leaves ${dir}/run/report.html for the browser test (FIXTURES_SETUP report_run).
include(${CMAKE_CURRENT_LIST_DIR}/tone_corpus.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/run_mtag.cmake)
set(dir ${TMP}/plot_report)
file(REMOVE_RECURSE ${dir})
tone_corpus(${dir} 18 2 11 14)
file(WRITE ${dir}/train.json "{\"model\": ${TINY_CNN1D_MODEL},\n \"features\": ${TINY_LOGMEL},\n \"batch_size\": 4, \"epochs\": 4, \"evaluation\": {\"eval_chunks\": 2}}\n")

run_mtag(--seed 2 train --config ${dir}/train.json --data ${dir}/manifest.csv --out ${dir}/run --report)
if(NOT code EQUAL 0 OR NOT EXISTS ${dir}/run/report.html)
  message(FATAL_ERROR "train --report (${code}): ${err}")
endif()
# One line per optimizer step in RUN/steps.jsonl (4 epochs of 3 batches: 10 train clips, batch 4), for the
# per-step curve.
file(STRINGS ${dir}/run/steps.jsonl steps)
list(LENGTH steps n_steps)
if(NOT n_steps EQUAL 12 OR NOT steps MATCHES "^{\"epoch\":0,\"batch\":0,\"batches\":3,\"loss\":[0-9.]+}")
  message(FATAL_ERROR "steps.jsonl: expected 12 step lines, got ${n_steps}: ${steps}")
endif()
# Progress within an epoch (a log, not a terminal: plain lines) and the epoch line after it.
if(NOT err MATCHES "epoch 1/4 +batches")
  message(FATAL_ERROR "train: no epoch line on stderr: ${err}")
endif()

# eval --report: the JSON on stdout, RUN/eval.json, the report rewritten with the evaluation.
run_mtag(eval --model ${dir}/run --data ${dir}/manifest.csv --split test --group pitch=low,high --report)
if(NOT code EQUAL 0 OR NOT EXISTS ${dir}/run/eval.json OR NOT out MATCHES "\"curves\":\\[{\"tag\":")
  message(FATAL_ERROR "eval --report (${code}): ${out} ${err}")
endif()
file(WRITE ${dir}/eval.json "${out}")
file(READ ${dir}/run/report.html html)
if(NOT html MATCHES "id=\"per-tag-table\"" OR NOT html MATCHES "Confusion matrix")
  message(FATAL_ERROR "eval --report did not add the evaluation to report.html")
endif()
run_mtag(--quiet eval --model ${dir}/run --data ${dir}/manifest.csv --split test --group pitch=low,high)
set(quiet_out "${out}")
run_mtag(eval --model ${dir}/run --data ${dir}/manifest.csv --split test --group pitch=low,high)
string(REGEX REPLACE "\"seconds\":[0-9.e-]+" "" a "${quiet_out}")
string(REGEX REPLACE "\"seconds\":[0-9.e-]+" "" b "${out}")
if(NOT a STREQUAL b OR NOT err MATCHES "eval: 5/5 clips")
  message(FATAL_ERROR "eval: stdout differs with progress, or no progress line:\n${a}\n${b}\n${err}")
endif()

# tag: byte-identical stdout with and without progress; --quiet prints nothing on stderr.
run_mtag(--quiet tag --model ${dir}/run ${dir}/audio --top-k 2)
if(NOT code EQUAL 0 OR NOT err STREQUAL "")
  message(FATAL_ERROR "tag --quiet (${code}) printed on stderr: ${err}")
endif()
set(quiet_out "${out}")
run_mtag(tag --model ${dir}/run ${dir}/audio --top-k 2)
if(NOT out STREQUAL quiet_out OR NOT err MATCHES "tag: 18/18 files, [0-9.]+ files/s")
  message(FATAL_ERROR "tag: stdout differs with progress, or no progress line:\n${err}")
endif()

# Every plot kind, each format.
execute_process(COMMAND ${EXE} --quiet synth --tone 1000 --seconds 1 --sample-rate 16000 --out ${dir}/tone.wav)
set(plots
  "spectrogram,${dir}/tone.wav,--feature,mel,--out,${dir}/mel.png"
  "spectrogram,${dir}/tone.wav,--feature,cqt,--n-bins,60,--out,${dir}/cqt.svg"
  "spectrogram,${dir}/tone.wav,--feature,stft,--cmap,viridis,--offset,0.25,--duration,0.5,--out,${dir}/stft.pdf"
  "spectrogram,${dir}/tone.wav,--feature,mfcc,--out,${dir}/mfcc.png"
  "spectrogram,${dir}/tone.wav,--feature,waveform,--duration,0.01,--out,${dir}/wave.png"
  "taggram,--model,${dir}/run,${dir}/audio/c1.wav,--out,${dir}/taggram.png"
  "curves,${dir}/run,${dir}/run,--out,${dir}/curves.svg"
  "confusion,--eval,${dir}/eval.json,--out,${dir}/confusion.png"
  "roc,--eval,${dir}/eval.json,--out,${dir}/roc.pdf"
  "tags,--eval,${dir}/eval.json,--out,${dir}/tags.png")
foreach(p IN LISTS plots)
  string(REPLACE "," ";" p "${p}")
  list(GET p -1 file)
  run_mtag(--quiet plot ${p})
  if(NOT code EQUAL 0 OR NOT EXISTS ${file})
    message(FATAL_ERROR "mtag plot ${p}: exit ${code}: ${err}")
  endif()
  file(READ ${file} head LIMIT 8 HEX)
  if(file MATCHES "png$" AND NOT head MATCHES "^89504e47")
    message(FATAL_ERROR "${file} is not a PNG (${head})")
  elseif(file MATCHES "pdf$" AND NOT head MATCHES "^25504446")
    message(FATAL_ERROR "${file} is not a PDF (${head})")
  elseif(file MATCHES "svg$" AND NOT head MATCHES "^3c3f786d6c")
    message(FATAL_ERROR "${file} is not an SVG (${head})")
  endif()
endforeach()

# Bad inputs: a clear error naming the file, a non-zero exit, no output file.
file(MAKE_DIRECTORY ${dir}/empty_run)
file(WRITE ${dir}/empty_run/log.jsonl "")
file(WRITE ${dir}/corrupt.json "{\"per_tag\": [{\"tag\": \"low\", ")
set(bad
  "plot,curves,${dir}/missing_run,--out,${dir}/bad1.png|missing_run.*does not exist"
  "plot,curves,${dir}/empty_run,--out,${dir}/bad2.png|log.jsonl.*has no epoch"
  "plot,roc,--eval,${dir}/corrupt.json,--out,${dir}/bad3.png|corrupt.json.*not a JSON object"
  "plot,tags,--eval,${dir}/missing.json,--out,${dir}/bad4.png|missing.json.*cannot be read"
  "plot,curves,${dir}/run,--out,${dir}/bad5.jpg|use .png, .svg or .pdf"
  "plot,taggram,--model,${dir}/missing_run,${dir}/tone.wav,--out,${dir}/bad6.png|missing_run"
  "report,${dir}/missing_run,--out,${dir}/bad7.html|missing_run.*not a folder"
  "report,${dir}/empty_run,--out,${dir}/bad8.html|has no epoch"
  "report,${dir}/run,--eval,${dir}/corrupt.json,--out,${dir}/bad9.html|corrupt.json")
foreach(case IN LISTS bad)
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 args)
  list(GET parts 1 pattern)
  string(REPLACE "," ";" args "${args}")
  execute_process(COMMAND ${EXE} ${args} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  list(GET args -1 file)
  if(code EQUAL 0 OR NOT code MATCHES "^[12]$" OR NOT err MATCHES "${pattern}" OR EXISTS ${file})
    message(FATAL_ERROR "mtag ${args}: expected exit 1 or 2, a message matching '${pattern}' and no ${file}; got ${code}: ${err}")
  endif()
  file(GLOB leftovers ${file}*)
  if(leftovers)
    message(FATAL_ERROR "mtag ${args} left ${leftovers}")
  endif()
endforeach()
message("plot and report: every kind drawn, every bad input refused")
