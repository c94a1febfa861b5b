# tone_corpus(DIR COUNT KINDS TRAIN_END VALID_END): the tiny CSV corpus of the CLI training tests. Writes
# DIR/audio/c1.wav ... cCOUNT.wav (0.6 s tones at 8 kHz, made by `mtag synth --tone`) and DIR/manifest.csv.
# KINDS 2: odd clips are 3000 Hz "high", even clips 300 Hz "low"; KINDS 3: i % 3 == 0 "low", == 1 "high",
# == 2 a 1000 Hz tone tagged "low;high". Clip i is in train when i < TRAIN_END, in valid when i < VALID_END,
# else in test. Needs EXE (the mtag executable).
# TINY_CNN1D_MODEL and TINY_LOGMEL are the JSON of the tiny cnn1d and its 8 kHz log-mel front end that the
# tests train on.
set(TINY_CNN1D_MODEL [=[{"preset": "cnn1d", "n_mels": 16, "input_frames": 32, "channels": [8, 8], "kernel_sizes": [3, 3],
           "pools": [2, 1], "dense": [8]}]=])
set(TINY_LOGMEL [=[{"kind": "logmel", "sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 16, "fmax": 4000}]=])

function(tone_corpus dir count kinds train_end valid_end)
  file(MAKE_DIRECTORY ${dir}/audio)
  set(rows "path,tags,split\n")
  foreach(i RANGE 1 ${count})
    math(EXPR mod "${i} % ${kinds}")
    if(mod EQUAL 0)
      set(hz 300)
      set(tags low)
    elseif(mod EQUAL 1)
      set(hz 3000)
      set(tags high)
    else()
      set(hz 1000)
      set(tags "low;high")
    endif()
    if(i LESS ${train_end})
      set(split train)
    elseif(i LESS ${valid_end})
      set(split valid)
    else()
      set(split test)
    endif()
    execute_process(COMMAND ${EXE} --quiet synth --tone ${hz} --seconds 0.6 --sample-rate 8000
                            --out ${dir}/audio/c${i}.wav RESULT_VARIABLE code)
    if(NOT code EQUAL 0)
      message(FATAL_ERROR "mtag synth --tone ${hz} failed: ${code}")
    endif()
    string(APPEND rows "audio/c${i}.wav,${tags},${split}\n")
  endforeach()
  file(WRITE ${dir}/manifest.csv "${rows}")
endfunction()
