# `mtag model gradcheck` on every preset of the zoo (issue 25), each shrunk by --options to run in a fraction of
# a second (few channels, short inputs, the same layer types and wiring as the full model), default mode, batch 8
# (a training-mode BatchNorm over 2 values per channel outputs +-1 whatever its input, so batch 2 leaves nothing
# to check). Every preset `mtag model list` names must have an entry here, so a new preset cannot skip the check.
# choi2017_compact's convs have biases right before a training-mode BatchNorm, whose exact gradient is 0 (the BN
# removes any per-channel shift): both sides are float32 noise, which the model-wide floor of the pass rule absorbs.
set(presets
  "cnn1d|{\"n_mels\": 16, \"input_frames\": 32, \"channels\": [8, 8], \"kernel_sizes\": [3, 3], \"pools\": [2, 1], \"dense\": [8]}"
  "fcn4|{\"n_mels\": 16, \"input_frames\": 64, \"channels\": [4, 4, 4, 4], \"pools\": [[2, 2], [2, 2], [2, 2], [2, 2]]}"
  "fcn5|{\"n_mels\": 32, \"input_frames\": 64, \"channels\": [4, 4, 4, 4, 4], \"pools\": [[2, 2], [2, 2], [2, 2], [2, 2], [2, 2]]}"
  "choi2016_cnn|{\"n_mels\": 32, \"input_frames\": 64, \"channels\": [4, 4, 4, 4, 4], \"pools\": [[2, 2], [2, 2], [2, 2], [2, 2], [2, 2]]}"
  "short_chunk_cnn|{\"n_mels\": 16, \"input_frames\": 32, \"channels\": [4, 4, 4], \"dense\": 8}"
  "short_chunk_resnet|{\"n_mels\": 16, \"input_frames\": 32, \"channels\": [4, 4, 4], \"dense\": 8}"
  "sample_cnn|{\"input_samples\": 729, \"first_channels\": 4, \"channels\": [4, 4, 4, 4], \"final_channels\": 4}"
  "sample_cnn_se|{\"input_samples\": 729, \"first_channels\": 4, \"channels\": [4, 4, 4, 4], \"multi_level\": 3, \"dense\": 8, \"se_ratio\": 2}"
  "crnn|{\"n_mels\": 16, \"input_frames\": 32, \"channels\": [4, 4], \"pools\": [[2, 2], [2, 2]], \"gru_units\": [4, 4]}"
  "choi2016_crnn|{\"n_mels\": 16, \"input_frames\": 32, \"time_padding\": 2, \"channels\": [4, 4], \"pools\": [[2, 2], [2, 2]], \"gru_units\": [4, 4]}"
  "choi2017_compact|{\"input_samples\": 8192, \"n_dft\": 256, \"hop_length\": 128, \"n_mels\": 16, \"channels\": [4, 4], \"pools\": [[2, 2], [2, 2]]}")

execute_process(COMMAND ${EXE} model list RESULT_VARIABLE code OUTPUT_VARIABLE listing)
string(REGEX REPLACE "\n\npretrained.*" "" listing "${listing}")
string(REGEX MATCHALL "\n  [a-z0-9_]+ " listed "${listing}")
set(covered "")
foreach(entry IN LISTS presets)
  string(REGEX REPLACE "\\|.*" "" name "${entry}")
  list(APPEND covered ${name})
endforeach()
foreach(item IN LISTS listed)
  string(STRIP "${item}" name)
  list(FIND covered ${name} found)
  if(found EQUAL -1)
    message(FATAL_ERROR "preset ${name} (mtag model list) has no gradcheck entry in model_gradcheck_presets.cmake")
  endif()
endforeach()
list(LENGTH listed n_listed)
if(n_listed LESS 11)
  message(FATAL_ERROR "mtag model list named only ${n_listed} presets: ${listing}")
endif()

set(summary "")
foreach(entry IN LISTS presets)
  string(REGEX REPLACE "\\|.*" "" name "${entry}")
  string(REGEX REPLACE "^[^|]*\\|" "" options "${entry}")
  execute_process(COMMAND ${EXE} --threads 1 --seed 1 model gradcheck ${name} --n-tags 2 --batch 8 --json
                          --options ${options}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "gradcheck ${name} exited ${code}:\n${out}\n${err}")
  endif()
  string(JSON passed GET "${out}" passed)
  string(JSON n LENGTH "${out}" layers)
  if(NOT passed OR n LESS 2)
    message(FATAL_ERROR "gradcheck ${name}: passed ${passed}, ${n} layers:\n${out}")
  endif()
  # The worst layer, for the log.
  set(worst 0)
  set(worst_layer "")
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    string(JSON e GET "${out}" layers ${i} worst_relative_error)
    string(JSON checked GET "${out}" layers ${i} checked)
    string(JSON layer GET "${out}" layers ${i} layer)
    if(checked EQUAL 0)
      message(FATAL_ERROR "gradcheck ${name}: layer ${layer} was not checked:\n${out}")
    endif()
    if(e GREATER worst)
      set(worst ${e})
      set(worst_layer ${layer})
    endif()
  endforeach()
  string(APPEND summary "  ${name}: worst ${worst} (${worst_layer})\n")
endforeach()
message("gradcheck on every preset:\n${summary}")
