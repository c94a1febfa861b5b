# The practitioner's tools of issue 25 on tiny corpora (each run a second or less): the loss-curve diagnosis
# at the end of `mtag train` (lr 10 too high, lr 1e-7 too low, a tiny split overfitting), --overfit-batches 1
# reaching a training loss < 0.05, --lr-find writing its curve and a suggestion from which a run converges,
# EMA weights validated beside the raw ones and saved as best_ema, --keep-checkpoints 3 and
# `mtag model average`, and `mtag model gradcheck` passing on the tiny cnn1d.
include(${CMAKE_CURRENT_LIST_DIR}/tone_corpus.cmake)
set(dir ${TMP}/train_diagnostics)
file(REMOVE_RECURSE ${dir})
tone_corpus(${dir} 24 3 17 25)
set(base "{\"model\": ${TINY_CNN1D_MODEL}, \"features\": ${TINY_LOGMEL}, \"batch_size\": 4, \"evaluation\": {\"eval_chunks\": 2}")
file(WRITE ${dir}/base.json "${base}}")

# run(NAME ARGS...): mtag train into ${dir}/NAME; sets out, err, code in the caller.
macro(run name)
  execute_process(COMMAND ${EXE} --threads 1 --seed 1 train --data ${dir}/manifest.csv --out ${dir}/${name} ${ARGN}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
endmacro()
# expect_diagnosis(NAME CODE TEXT): the run's summary, stderr and log.jsonl carry the finding.
function(expect_diagnosis name code text)
  if(NOT out MATCHES "\"diagnosis\":\\[[^]]*\"${code}\"" OR NOT err MATCHES "diagnosis: warning: ${text}")
    message(FATAL_ERROR "${name}: expected diagnosis ${code} ('${text}') in the summary and on stderr, got ${code}: ${out}\n${err}")
  endif()
  file(STRINGS ${dir}/${name}/log.jsonl lines REGEX "\"event\":\"diagnosis\"")
  if(NOT lines MATCHES "\"code\":\"${code}\"")
    message(FATAL_ERROR "${name}: log.jsonl has no diagnosis line with ${code}: ${lines}")
  endif()
  string(REGEX MATCH "diagnosis: warning: ${text}[^\n]*" line "${err}")
  message("${name}: ${line}")
endfunction()

# Learning rate too high and too low.
run(lr_high --config ${dir}/base.json --epochs 6 --lr 10)
expect_diagnosis(lr_high lr_too_high "Learning rate too high")
run(lr_low --config ${dir}/base.json --epochs 3 --lr 1e-7)
expect_diagnosis(lr_low lr_too_low "Learning rate too low")
if(err MATCHES "Learning rate too high")
  message(FATAL_ERROR "lr 1e-7 also diagnosed as too high: ${err}")
endif()

# Overfitting: a training split of 6 clips whose (seeded random) tags the audio cannot predict, each clip a tone of
# its own frequency so that the training clips can be memorised; no dropout, no early stopping.
file(MAKE_DIRECTORY ${dir}/random/audio)
set(labels babaaabaaaabbaaabaaaabaa)
set(rows "path,tags,split\n")
foreach(i RANGE 1 24)
  math(EXPR hz "200 + 150 * ${i}")
  math(EXPR k "${i} - 1")
  string(SUBSTRING ${labels} ${k} 1 tag)
  set(split valid)
  if(i LESS 7)
    set(split train)
  endif()
  execute_process(COMMAND ${EXE} --quiet synth --tone ${hz} --seconds 0.6 --sample-rate 8000
                          --out ${dir}/random/audio/c${i}.wav RESULT_VARIABLE code)
  string(APPEND rows "audio/c${i}.wav,${tag},${split}\n")
endforeach()
file(WRITE ${dir}/random/manifest.csv "${rows}")
string(REPLACE "\"dense\": [8]}" "\"dense\": [32], \"dropout\": 0}" big "${TINY_CNN1D_MODEL}")
string(REPLACE "[8, 8]" "[16, 16]" big "${big}")
file(WRITE ${dir}/overfit.json "{\"model\": ${big}, \"features\": ${TINY_LOGMEL}, \"batch_size\": 6,
  \"epochs\": 40, \"optimizer\": {\"lr\": 0.003}, \"early_stopping\": {\"patience\": 0}, \"evaluation\": {\"eval_chunks\": 2}}")
execute_process(COMMAND ${EXE} --threads 1 --seed 1 train --config ${dir}/overfit.json --data ${dir}/random/manifest.csv
                        --out ${dir}/overfitting RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_diagnosis(overfitting overfitting "Overfitting")

# A healthy run is not diagnosed with a warning.
run(healthy --config ${dir}/base.json --epochs 6)
if(NOT out MATCHES "\"diagnosis\":\\[\\]")
  message(FATAL_ERROR "healthy run diagnosed: ${out}\n${err}")
endif()

# --overfit-batches 1 reaches a training loss below 0.05.
run(overfit1 --config ${dir}/base.json --overfit-batches 1)
string(JSON reached GET "${out}" overfit_reached)
string(JSON final GET "${out}" overfit_final_loss)
if(NOT code EQUAL 0 OR NOT reached OR NOT final LESS 0.05)
  message(FATAL_ERROR "--overfit-batches 1: expected a final training loss < 0.05, got ${code}: ${out}\n${err}")
endif()
message("overfit-batches 1: final training loss ${final}")

# --lr-find: lr_find.jsonl (steps + suggestion), lr_find.png, a suggestion; a run at that rate converges.
run(lr_find --config ${dir}/base.json --lr-find)
if(NOT code EQUAL 0 OR NOT EXISTS ${dir}/lr_find/lr_find.png OR NOT EXISTS ${dir}/lr_find/lr_find.jsonl)
  message(FATAL_ERROR "--lr-find failed (${code}): ${out}\n${err}")
endif()
string(JSON lr GET "${out}" lr_find suggested_lr)
file(STRINGS ${dir}/lr_find/lr_find.jsonl steps REGEX "\"smoothed\"")
list(LENGTH steps n_steps)
if(n_steps LESS 20 OR NOT err MATCHES "suggested learning rate")
  message(FATAL_ERROR "--lr-find recorded ${n_steps} steps: ${err}")
endif()
run(at_lr_find --config ${dir}/base.json --epochs 10 --lr ${lr})
file(STRINGS ${dir}/at_lr_find/log.jsonl epochs REGEX "\"train_loss\"")
list(GET epochs 0 first)
list(GET epochs -1 last)
string(JSON first_loss GET "${first}" train_loss)
string(JSON last_loss GET "${last}" train_loss)
string(JSON auc GET "${last}" roc_auc_macro)
if(NOT code EQUAL 0 OR out MATCHES "lr_too" OR NOT last_loss LESS first_loss)
  message(FATAL_ERROR "run at the suggested lr ${lr} did not converge: ${first_loss} -> ${last_loss}: ${out}\n${err}")
endif()
message("lr-find suggests ${lr}; a run at it: training loss ${first_loss} -> ${last_loss}, ROC-AUC ${auc}")

# EMA beside the raw weights; 3 kept checkpoints averaged; both are model directories eval takes.
file(WRITE ${dir}/ema.json "${base}, \"ema\": {\"decay\": 0.9}, \"keep_checkpoints\": 3}")
run(ema --config ${dir}/ema.json --epochs 6)
file(STRINGS ${dir}/ema/log.jsonl epochs REGEX "\"ema_roc_auc_macro\"")
list(LENGTH epochs n_ema)
if(NOT code EQUAL 0 OR NOT n_ema EQUAL 6 OR NOT EXISTS ${dir}/ema/best_ema/model.safetensors)
  message(FATAL_ERROR "ema run: expected ema_* metrics in 6 log lines and best_ema/ (${code}): ${out}\n${err}")
endif()
file(GLOB kept ${dir}/ema/checkpoints/epoch_*.safetensors)
list(LENGTH kept n_kept)
if(n_kept LESS 3 OR n_kept GREATER 4 OR NOT EXISTS ${dir}/ema/checkpoints/epoch_0006.safetensors)
  message(FATAL_ERROR "keep_checkpoints 3: expected the last 3 epochs (and the best), got ${kept}")
endif()
execute_process(COMMAND ${EXE} --quiet model average ${dir}/ema --last 3 --out ${dir}/avg3
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0 OR NOT out MATCHES "\"epochs\":\\[4,5,6\\]")
  message(FATAL_ERROR "model average --last 3: ${code}: ${out}\n${err}")
endif()
foreach(model ema ema/best_ema avg3)
  execute_process(COMMAND ${EXE} --threads 1 --quiet eval --model ${dir}/${model} --data ${dir}/manifest.csv --split valid
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "eval of ${model} failed (${code}): ${err}")
  endif()
  string(JSON v GET "${out}" roc_auc_macro)
  message("eval ${model}: ROC-AUC ${v}")
endforeach()
execute_process(COMMAND ${EXE} --quiet model average ${dir}/healthy --out ${dir}/none
                RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 1 OR NOT err MATCHES "keep-checkpoints")
  message(FATAL_ERROR "model average of a run without checkpoints: expected an error naming --keep-checkpoints, got ${code}: ${err}")
endif()

# gradcheck passes on the tiny cnn1d and prints one row per layer.
execute_process(COMMAND ${EXE} --threads 1 model gradcheck cnn1d --n-tags 2 --options ${TINY_CNN1D_MODEL}
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0 OR NOT out MATCHES "layer1.conv" OR NOT out MATCHES "gradcheck passed")
  message(FATAL_ERROR "gradcheck of the tiny cnn1d (${code}): ${out}\n${err}")
endif()
