# mtag train with every regulariser, activation, initialisation and input normalisation of issue 19 on a tiny
# tone corpus: eight one-epoch runs of a tiny cnn1d, each run taking the next option of every list, so that
# each option trains at least once through the config file. Then: the whitened runs store W in model.json and
# `mtag eval` applies it (the validation ROC-AUC eval prints equals the one training recorded); unknown or
# invalid keys are errors naming them.
include(${CMAKE_CURRENT_LIST_DIR}/tone_corpus.cmake)
set(dir ${TMP}/train_regularization)
file(REMOVE_RECURSE ${dir})
tone_corpus(${dir} 12 3 10 13)

# One entry per run; entries of a list are ;-separated, so JSON inside uses no semicolons.
set(regularizers
  [=[{"l1": 1e-4}]=]
  [=[{"l2": 1e-3}]=]
  [=[{"elastic_net": {"alpha": 1e-3, "l1_ratio": 0.3}}]=]
  [=[{"decay_bias_and_norm": true, "l2": 1e-4}]=]
  [=[{"max_norm": 2.0}]=]
  [=[{"label_smoothing": 0.1}]=]
  [=[{"max_norm": 3.0, "l1": 1e-5}]=]
  [=[{"clip_grad_value": 0.5}]=])
set(activations
  [=["relu"]=]
  [=[{"name": "leaky_relu", "negative_slope": 0.2}]=]
  [=["elu"]=]
  [=["selu"]=]
  [=["tanh"]=]
  [=["sigmoid"]=]
  [=[{"name": "maxout", "pieces": 3}]=]
  [=["relu"]=])
set(inits
  [=["he_normal"]=]
  [=["he_uniform"]=]
  [=["xavier_normal"]=]
  [=["xavier_uniform"]=]
  [=[{"name": "small_normal", "std": 0.02}]=]
  [=["orthogonal"]=]
  [=[{"name": "orthogonal", "gain": 1.4}]=]
  [=["torch_default"]=])
set(normalizations
  [=["none"]=]
  [=["mean"]=]
  [=["per_bin"]=]
  [=["global"]=]
  [=["per_sample"]=]
  [=["pca_whiten"]=]
  [=["pca_whiten"]=]
  [=["per_bin"]=])
set(block_dropouts "[]" "[]" "[]" "[]" "[]" "[]" "[]" "[0.1, 0.2]")
# Further top-level keys per run: decoupled decay is the optimizer's (decay_mode), clipping by norm is max_grad_norm.
set(extras
  [=["optimizer": {"name": "sgd", "lr": 0.01, "weight_decay": 1e-3, "decay_mode": "l2"}]=]
  [=["optimizer": {"name": "adam", "weight_decay": 1e-4, "decay_mode": "l1"}]=]
  [=["optimizer": {"name": "rmsprop", "lr": 1e-3}]=]
  [=["optimizer": {"name": "adam", "weight_decay": 0.01, "decay_mode": "decoupled"}]=]
  [=["max_grad_norm": 1.0]=]
  [=["optimizer": {"name": "adamw"}]=]
  [=["whitening": {"method": "pca", "eps": 1e-4}, "max_grad_norm": 0.5]=]
  [=["seed": 3]=])

foreach(i RANGE 0 7)
  list(GET regularizers ${i} reg)
  list(GET activations ${i} act)
  list(GET inits ${i} init)
  list(GET normalizations ${i} norm)
  list(GET block_dropouts ${i} bd)
  list(GET extras ${i} extra)
  file(WRITE ${dir}/train${i}.json
"{\"model\": {\"preset\": \"cnn1d\", \"n_mels\": 16, \"input_frames\": 32, \"channels\": [8, 8], \"kernel_sizes\": [3, 3],
           \"pools\": [2, 1], \"dense\": [8], \"activation\": ${act}, \"init\": ${init}, \"block_dropout\": ${bd}},
 \"features\": {\"kind\": \"logmel\", \"sample_rate\": 8000, \"n_fft\": 256, \"hop_length\": 64, \"n_mels\": 16, \"fmax\": 4000},
 \"regularization\": ${reg}, \"normalization\": ${norm}, ${extra},
 \"batch_size\": 4, \"epochs\": 1, \"evaluation\": {\"eval_chunks\": 2}}
")
  execute_process(COMMAND ${EXE} --threads 1 --seed 2 --quiet train --config ${dir}/train${i}.json
                          --data ${dir}/manifest.csv --out ${dir}/run${i}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0 OR NOT out MATCHES "\"epochs_completed\":1")
    message(FATAL_ERROR "run ${i} (regularization ${reg}, activation ${act}, init ${init}, normalization ${norm}) "
                        "failed (${code}): ${out} ${err}")
  endif()
  file(READ ${dir}/run${i}/config.json config)
  string(JSON saved_reg GET "${config}" regularization)
  string(JSON want_reg GET "{\"r\": ${reg}}" r)
  string(JSON first_key MEMBER "${want_reg}" 0)
  if(NOT first_key STREQUAL "elastic_net")
    string(JSON want GET "${want_reg}" ${first_key})
    string(JSON got GET "${saved_reg}" ${first_key})
    if(NOT (got EQUAL want OR got STREQUAL want))
      message(FATAL_ERROR "run ${i}: config.json regularization.${first_key} is ${got}, expected ${want}")
    endif()
  endif()
  file(READ ${dir}/run${i}/model.json card)
  string(JSON kind GET "${card}" metadata normalization kind)
  string(JSON card_act GET "${card}" metadata model options activation)
  message("run ${i}: normalization ${kind}, activation ${card_act}")
endforeach()

# The whitened runs: W in the card, and eval (which featurises from the card) reproduces training's validation.
foreach(i 5 6)
  file(READ ${dir}/run${i}/model.json card)
  string(JSON kind GET "${card}" metadata normalization kind)
  string(JSON n_w LENGTH "${card}" metadata normalization whitening)
  if(NOT kind STREQUAL "pca_whiten" OR NOT n_w EQUAL 256)
    message(FATAL_ERROR "run ${i}: expected pca_whiten with 16 x 16 = 256 whitening values, got ${kind} / ${n_w}")
  endif()
  file(STRINGS ${dir}/run${i}/log.jsonl log_lines REGEX "\"epoch\"")
  list(GET log_lines -1 last)
  string(JSON trained_auc GET "${last}" roc_auc_macro)
  execute_process(COMMAND ${EXE} --threads 1 --quiet eval --model ${dir}/run${i} --data ${dir}/manifest.csv --split valid
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "eval of run ${i} failed (${code}): ${err}")
  endif()
  string(JSON eval_auc GET "${out}" roc_auc_macro)
  if(NOT eval_auc EQUAL trained_auc)
    string(REGEX REPLACE "^(-?[0-9]*\\.[0-9][0-9][0-9][0-9][0-9]).*" "\\1" a "${eval_auc}")
    string(REGEX REPLACE "^(-?[0-9]*\\.[0-9][0-9][0-9][0-9][0-9]).*" "\\1" b "${trained_auc}")
    if(NOT a STREQUAL b)
      message(FATAL_ERROR "run ${i}: eval ROC-AUC ${eval_auc} differs from training's validation ${trained_auc}")
    endif()
  endif()
  message("run ${i}: validation ROC-AUC ${trained_auc} in training, ${eval_auc} from mtag eval")
endforeach()

# Unknown keys and bad values are errors naming them; one penalty set twice (optimizer and regularization) too.
foreach(bad
    [=["regularization": {"l3": 0.1}]=] "regularization: 'l3'"
    [=["regularization": {"l1": -1}]=] "regularization.l1"
    [=["regularization": {"l1": 0.1, "elastic_net": {"alpha": 0.1}}]=] "elastic_net"
    [=["regularization": {"l2": 0.1}, "optimizer": {"name": "adam", "weight_decay": 0.1}]=] "optimizer.weight_decay .decay_mode l2. and regularization.l2"
    [=["normalization": "whiten"]=] "'normalization'"
    [=["whitening": {"method": "svd"}]=] "'method'"
    [=["model": {"preset": "cnn1d", "activation": "swish"}]=] "activation 'swish'"
    [=["model": {"preset": "cnn1d", "init": {"name": "orthogonal", "std": 1}}]=] "std applies to small_normal")
  if(NOT DEFINED pending)
    set(pending "${bad}")
    continue()
  endif()
  set(model "")
  if(NOT pending MATCHES "\"model\"")
    set(model [=["model": {"preset": "cnn1d"}, ]=])
  endif()
  file(WRITE ${dir}/bad.json "{${model}${pending}, \"epochs\": 1}")
  execute_process(COMMAND ${EXE} --quiet train --config ${dir}/bad.json --data ${dir}/manifest.csv
                          --out ${dir}/bad_run
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 1 OR NOT err MATCHES "${bad}")
    message(FATAL_ERROR "config {${pending}}: expected exit code 1 and an error naming ${bad}, got ${code}: ${err}")
  endif()
  unset(pending)
endforeach()
