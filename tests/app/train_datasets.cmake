# Dataset options on train, eval and tag --data (issue 19, point 5): a tiny MagnaTagATune-layout corpus
# (annotations_final.csv, hex folders, audio elsewhere: --audio-root) and a tiny MTG-Jamendo-layout one
# (data/splits/split-1, .low.mp3 audio) are trained on with --top-n, --mtat-split, --split-file,
# --jamendo-split, --jamendo-category and --audio-root, then the same through the config's data section;
# eval and tag --data use the run's recorded options unless a flag overrides them; bad values are errors
# naming the option.
set(dir ${TMP}/train_datasets)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})

# run(NAME EXPECTED-CODE ARGS...): runs mtag ARGS, fails unless the exit code is EXPECTED-CODE.
function(run name expected)
  execute_process(COMMAND ${EXE} --threads 1 --seed 1 ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL expected)
    message(FATAL_ERROR "${name}: expected exit ${expected}, got ${code}:\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()
function(expect name text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${name}: '${regex}' not found in:\n${text}")
  endif()
endfunction()
function(synth hz seconds out)
  execute_process(COMMAND ${EXE} --quiet synth --tone ${hz} --seconds ${seconds} --sample-rate 8000 --out ${out}
                  RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "mtag synth ${out} failed: ${code}")
  endif()
endfunction()

# ---- MTAT layout: tag columns low, high, guitar, rare (sums 5, 5, 3, 1); folders 0-b train, c valid,
# d-f test; clip 13 carries only "rare" (the lee rule drops it under --top-n 2). Clips are 30 s (lee keeps
# clips longer than 29.1 s). Audio under mtat_audio/, not next to the annotations.
set(header "\"clip_id\"\t\"low\"\t\"high\"\t\"guitar\"\t\"rare\"\t\"mp3_path\"\n")
set(rows "")
set(table "clip_id,split\n")
set(i 0)
foreach(spec "0;1;0;1;0" "1;0;1;0;0" "2;1;0;0;0" "3;0;1;1;0" "4;1;0;0;0" "5;0;1;0;0"
             "c;1;0;1;0" "c;0;1;0;0" "d;1;0;0;0" "e;0;1;0;0" "a;0;0;0;1")
  math(EXPR i "${i} + 1")
  list(GET spec 0 folder)
  list(GET spec 1 low)
  list(GET spec 2 high)
  list(GET spec 3 guitar)
  list(GET spec 4 rare)
  if(low)
    set(hz 300)
  else()
    set(hz 3000)
  endif()
  set(path "${folder}/artist_${i}-song.wav")
  synth(${hz} 30 ${dir}/mtat_audio/${path})
  string(APPEND rows "\"${i}\"\t\"${low}\"\t\"${high}\"\t\"${guitar}\"\t\"${rare}\"\t\"${path}\"\n")
  # The split table swaps valid and test (key,split by clip id).
  if(folder STREQUAL "c")
    string(APPEND table "${i},test\n")
  elseif(folder STREQUAL "d" OR folder STREQUAL "e")
    string(APPEND table "${i},valid\n")
  else()
    string(APPEND table "${i},train\n")
  endif()
endforeach()
file(WRITE ${dir}/mtat/annotations_final.csv "${header}${rows}")
file(WRITE ${dir}/mtat_split.csv "${table}")

set(model [=["model": {"preset": "cnn1d", "n_mels": 16, "input_frames": 32, "channels": [4], "kernel_sizes": [3],
           "pools": [2], "dense": [4]},
 "features": {"kind": "logmel", "sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 16, "fmax": 4000},
 "batch_size": 2, "epochs": 1, "evaluation": {"eval_chunks": 1}]=])
file(WRITE ${dir}/tiny.json "{${model}}")

# Without --audio-root nothing is found; the error says so.
run("mtat without --audio-root" 1 train --config ${dir}/tiny.json --data ${dir}/mtat --out ${dir}/run_none)
expect("mtat without --audio-root" "${err}" "no usable clip.*missing audio")

# --top-n 2, lee split (default), --audio-root: 2 tags, clip 13 filtered; config.json records the options.
run("train mtat --top-n 2" 0 train --config ${dir}/tiny.json --data ${dir}/mtat --audio-root ${dir}/mtat_audio
    --top-n 2 --out ${dir}/run_mtat)
file(READ ${dir}/run_mtat/config.json config)
string(JSON top_n GET "${config}" data top_n)
string(JSON format GET "${config}" data format)
string(JSON rule GET "${config}" data mtat_split)
if(NOT top_n EQUAL 2 OR NOT format STREQUAL "mtat" OR NOT rule STREQUAL "lee")
  message(FATAL_ERROR "run_mtat/config.json does not record the dataset options: ${config}")
endif()
file(READ ${dir}/run_mtat/model.json card)
expect("run_mtat tags" "${card}" "\"tags\": *\\[[^]]*\"low\"[^]]*\"high\"[^]]*\\]")
if(card MATCHES "\"guitar\"")
  message(FATAL_ERROR "run_mtat was trained on more than the top 2 tags: ${card}")
endif()

# eval takes the run's top_n (2) and split rule without flags, and says so; the report records them.
run("eval mtat" 0 eval --model ${dir}/run_mtat --data ${dir}/mtat --audio-root ${dir}/mtat_audio --split test)
expect("eval mtat" "${out}" "\"dataset\":\\{\"format\":\"mtat\",\"mtat_split\":\"lee\",\"top_n\":2,")
expect("eval mtat" "${out}" "\"clips\":2,")
expect("eval mtat note" "${err}" "as the run was trained: top_n 2")
# A larger --top-n still scores the run's tags (matched by name); a smaller one is a clear error.
run("eval mtat --top-n 4" 0 eval --model ${dir}/run_mtat --data ${dir}/mtat --audio-root ${dir}/mtat_audio --top-n 4)
expect("eval mtat --top-n 4" "${out}" "\"top_n\":4,.*|\"per_tag\":\\[\\{\"tag\":\"low\"")
run("eval mtat --top-n 1" 1 eval --model ${dir}/run_mtat --data ${dir}/mtat --audio-root ${dir}/mtat_audio --top-n 1)
expect("eval mtat --top-n 1" "${err}" "--top-n 1.*the run has 2 tags.*use --top-n 2")
# --split-file swaps valid and test: the test split is now folder c's two clips.
run("eval mtat --split-file" 0 eval --model ${dir}/run_mtat --data ${dir}/mtat --audio-root ${dir}/mtat_audio
    --split-file ${dir}/mtat_split.csv --split test --mtat-split folders)
expect("eval mtat --split-file" "${out}" "\"mtat_split\":\"folders\".*\"split_files\":\\[\"[^\"]*mtat_split.csv\"\\]")
# tag --data: the run's test split, one line per clip; embeddings named after the annotation paths.
run("tag --data mtat" 0 tag --model ${dir}/run_mtat --data ${dir}/mtat --audio-root ${dir}/mtat_audio --split test
    --embeddings ${dir}/emb)
expect("tag --data mtat" "${out}" "d/artist_9-song.wav.*e/artist_10-song.wav")
if(NOT EXISTS ${dir}/emb/d/artist_9-song.npy)
  message(FATAL_ERROR "tag --data wrote no embedding under the clip's annotation path")
endif()

# --mtat-split folders and --split-file through train's flags: folders keeps clip 13 (tags from top 4).
run("train mtat folders + split file" 0 train --config ${dir}/tiny.json --data ${dir}/mtat/annotations_final.csv
    --audio-root ${dir}/mtat_audio --mtat-split folders --split-file ${dir}/mtat_split.csv --top-n 4
    --out ${dir}/run_mtat_folders)
file(READ ${dir}/run_mtat_folders/config.json config)
string(JSON rule GET "${config}" data mtat_split)
string(JSON split_file GET "${config}" data split_files 0)
if(NOT rule STREQUAL "folders" OR NOT split_file MATCHES "mtat_split.csv$")
  message(FATAL_ERROR "run_mtat_folders/config.json does not record --mtat-split / --split-file: ${config}")
endif()

# The same through the config's data section; a flag overrides the config (--top-n 3 over top_n 2).
file(WRITE ${dir}/mtat_config.json "{${model}, \"data\": {\"path\": \"${dir}/mtat\", \"audio_root\": \"${dir}/mtat_audio\",
  \"top_n\": 2, \"mtat_split\": \"folders\", \"split_files\": [\"${dir}/mtat_split.csv\"]}}")
run("train mtat from the config" 0 train --config ${dir}/mtat_config.json --out ${dir}/run_mtat_config)
file(READ ${dir}/run_mtat_config/model.json card)
if(card MATCHES "\"guitar\"")
  message(FATAL_ERROR "data.top_n 2 of the config was not applied: ${card}")
endif()
run("train mtat config + flag" 0 train --config ${dir}/mtat_config.json --top-n 3 --out ${dir}/run_mtat_config3)
file(READ ${dir}/run_mtat_config3/model.json card)
expect("flag over config" "${card}" "\"guitar\"")

# ---- MTG-Jamendo layout: only split-1 exists; genre and instrument tags; audio as ID.low.mp3 elsewhere.
set(jheader "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n")
set(train "${jheader}")
set(valid "${jheader}")
set(test "${jheader}")
foreach(id 101 102 103 104 105 106 201 202 301 302)
  math(EXPR parity "${id} % 2")
  if(parity)
    set(hz 3000)
    set(tags "genre---rock\tinstrument---guitar")
  else()
    set(hz 300)
    set(tags "genre---jazz\tinstrument---piano")
  endif()
  synth(${hz} 0.6 ${dir}/jam_audio/01/${id}.low.mp3)
  set(line "track_${id}\tartist_1\talbum_1\t01/${id}.mp3\t0.6\t${tags}\n")
  if(id LESS 200)
    string(APPEND train "${line}")
  elseif(id LESS 300)
    string(APPEND valid "${line}")
  else()
    string(APPEND test "${line}")
  endif()
endforeach()
file(WRITE ${dir}/jam/data/splits/split-1/autotagging-train.tsv "${train}")
file(WRITE ${dir}/jam/data/splits/split-1/autotagging-validation.tsv "${valid}")
file(WRITE ${dir}/jam/data/splits/split-1/autotagging-test.tsv "${test}")

run("train jamendo" 0 train --config ${dir}/tiny.json --data ${dir}/jam --format jamendo --jamendo-split 1
    --jamendo-category genre --audio-root ${dir}/jam_audio --out ${dir}/run_jam)
file(READ ${dir}/run_jam/model.json card)
expect("run_jam tags" "${card}" "genre---jazz")
if(card MATCHES "instrument---")
  message(FATAL_ERROR "--jamendo-category genre was not applied: ${card}")
endif()
run("eval jamendo" 0 eval --model ${dir}/run_jam --data ${dir}/jam --audio-root ${dir}/jam_audio)
expect("eval jamendo" "${out}" "\"jamendo_split\":1,\"jamendo_category\":\"genre\"")
run("tag --data jamendo" 0 tag --model ${dir}/run_jam --data ${dir}/jam --audio-root ${dir}/jam_audio --split all)
expect("tag --data jamendo" "${out}" "101.low.mp3.*302.low.mp3")
file(WRITE ${dir}/jam_config.json "{${model}, \"data\": {\"path\": \"${dir}/jam\", \"audio_root\": \"${dir}/jam_audio\",
  \"jamendo_split\": 1, \"jamendo_category\": \"instrument\"}}")
run("train jamendo from the config" 0 train --config ${dir}/jam_config.json --out ${dir}/run_jam_config)
file(READ ${dir}/run_jam_config/model.json card)
expect("run_jam_config tags" "${card}" "instrument---piano")

# ---- Bad values: errors naming the option (flag and config key).
run("missing split file" 1 train --config ${dir}/tiny.json --data ${dir}/mtat --split-file ${dir}/none.txt --out ${dir}/bad)
expect("missing split file" "${err}" "--split-file \\(config data.split_files\\) '[^']*none.txt': does not exist")
run("unknown category" 1 train --config ${dir}/tiny.json --data ${dir}/jam --jamendo-category tempo --out ${dir}/bad)
expect("unknown category" "${err}" "--jamendo-category \\(config data.jamendo_category\\) 'tempo': expected genre")
run("top-n 0" 1 train --config ${dir}/tiny.json --data ${dir}/mtat --top-n 0 --out ${dir}/bad)
expect("top-n 0" "${err}" "--top-n \\(config data.top_n\\) 0: the vocabulary needs at least one tag")
file(WRITE ${dir}/bad_config.json "{${model}, \"data\": {\"path\": \"${dir}/mtat\", \"top_n\": 0}}")
run("config top_n 0" 1 train --config ${dir}/bad_config.json --out ${dir}/bad)
expect("config top_n 0" "${err}" "data.top_n\\) 0")
run("top-n on jamendo" 1 eval --model ${dir}/run_jam --data ${dir}/jam --audio-root ${dir}/jam_audio --top-n 5)
expect("top-n on jamendo" "${err}" "--top-n \\(config data.top_n\\): applies to MagnaTagATune data only")
run("jamendo split 0 missing" 1 dataset stats --data ${dir}/jam --jamendo-split 0 --format jamendo)
expect("jamendo split 0 missing" "${err}" "split-0")
run("tag dataset flags without --data" 2 tag --model ${dir}/run_jam --top-n 5 ${dir}/jam_audio)
