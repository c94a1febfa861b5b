# Every optimizer and schedule name of the config trains (issue 19): a tiny cnn1d for one epoch on a tone
# corpus of 8 clips, once per optimizer name (at its usual rate) and once per schedule name (with a
# warm-up in front of one of them); each run's config.json names what it trained with. Then a run whose
# phases switch to SGD after one epoch and drop the rate after another logs both phase changes, and
# `mtag config show` prints the published recipes' phases.
include(${CMAKE_CURRENT_LIST_DIR}/tone_corpus.cmake)
set(dir ${TMP}/train_every_name)
file(REMOVE_RECURSE ${dir})
tone_corpus(${dir} 8 2 7 9)
set(common [=["model": {"preset": "cnn1d", "n_mels": 16, "input_frames": 32, "channels": [4], "kernel_sizes": [3],
           "pools": [2], "dense": [4]},
 "features": {"kind": "logmel", "sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 16, "fmax": 4000},
 "batch_size": 2, "epochs": 1, "evaluation": {"eval_chunks": 1}]=])

# train(NAME JSON-FRAGMENT): one epoch with the fragment added to the common config.
function(train name fragment)
  file(WRITE ${dir}/${name}.json "{${common}, ${fragment}}")
  execute_process(COMMAND ${EXE} --quiet --threads 1 --seed 1 train --config ${dir}/${name}.json
                          --data ${dir}/manifest.csv --out ${dir}/run_${name}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0 OR NOT out MATCHES "\"epochs_completed\":[1-9]")
    message(FATAL_ERROR "mtag train with ${fragment} failed (${code}): ${out} ${err}")
  endif()
endfunction()

set(optimizers sgd momentum nesterov adagrad rmsprop adam amsgrad adamw radam diffgrad adabelief)
foreach(name ${optimizers})
  train(opt_${name} "\"optimizer\": {\"name\": \"${name}\"}")
  file(READ ${dir}/run_opt_${name}/config.json config)
  string(JSON trained GET "${config}" optimizer name)
  if(NOT trained STREQUAL name)
    message(FATAL_ERROR "run_opt_${name}/config.json names optimizer '${trained}'")
  endif()
endforeach()

set(schedules constant step multi_step exponential exponential_decay inverse_time cosine cosine_warm_restarts cyclic
    one_cycle reduce_on_plateau)
foreach(name ${schedules})
  train(sched_${name} "\"optimizer\": {\"name\": \"momentum\", \"lr\": 0.01}, \"schedule\": {\"name\": \"${name}\"}")
  file(READ ${dir}/run_sched_${name}/config.json config)
  string(JSON trained GET "${config}" schedule name)
  if(NOT trained STREQUAL name)
    message(FATAL_ERROR "run_sched_${name}/config.json names schedule '${trained}'")
  endif()
endforeach()
foreach(mode triangular2 exp_range)
  train(cyclic_${mode} "\"schedule\": {\"name\": \"cyclic\", \"mode\": \"${mode}\", \"gamma\": 0.99, \"max_lr\": 0.01}")
endforeach()
train(warmup_cosine "\"schedule\": {\"name\": \"cosine\", \"unit\": \"batch\", \"warmup_steps\": 2}")

# Phases: Adam for one epoch, then SGD (Nesterov) reloading the best weights, then a lower rate.
train(phases [=["epochs": 3, "optimizer": {"name": "adam", "lr": 0.003},
 "phases": [{"trigger": "epochs", "after": 1, "optimizer": {"name": "nesterov", "lr": 0.01}},
            {"trigger": "epochs", "after": 1, "lr": 0.001}]]=])
file(STRINGS ${dir}/run_phases/log.jsonl lines REGEX "\"epoch\"")
list(LENGTH lines n)
if(NOT n EQUAL 3)
  message(FATAL_ERROR "run_phases/log.jsonl has ${n} lines, expected 3")
endif()
list(GET lines 0 first)
list(GET lines 1 second)
list(GET lines 2 third)
if(NOT first MATCHES "\"optimizer\":\"adam\"" OR NOT first MATCHES "phase 1" OR NOT second MATCHES "\"optimizer\":\"sgd\""
   OR NOT second MATCHES "\"lr\":0.01[,}]" OR NOT second MATCHES "phase 2" OR NOT third MATCHES "\"lr\":0.001[,}]")
  message(FATAL_ERROR "phases not executed as configured:\n${first}\n${second}\n${third}")
endif()

execute_process(COMMAND ${EXE} config show short_chunk_cnn RESULT_VARIABLE code OUTPUT_VARIABLE out)
string(JSON after GET "${out}" phases 0 after)
string(JSON next GET "${out}" phases 0 optimizer name)
if(NOT code EQUAL 0 OR NOT after EQUAL 80 OR NOT next STREQUAL "nesterov")
  message(FATAL_ERROR "config show short_chunk_cnn lacks Won et al.'s switch to SGD after 80 epochs: ${out}")
endif()
execute_process(COMMAND ${EXE} config show sample_cnn RESULT_VARIABLE code OUTPUT_VARIABLE out)
string(JSON trigger GET "${out}" phases 0 trigger)
string(JSON lr GET "${out}" phases 3 optimizer lr)
if(NOT code EQUAL 0 OR NOT trigger STREQUAL "plateau" OR NOT lr MATCHES "^1\\.(6|59999)[0-9]*e-0?5$")
  message(FATAL_ERROR "config show sample_cnn lacks Lee et al.'s plateau phases: ${out}")
endif()
