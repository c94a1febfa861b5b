#!/usr/bin/env bash
# Two processes writing the same output directory (issue 23), driven by ctest (tests/cli_tests.cmake):
#   output_lock.sh MTAG_EXE TMP
# train and extract: a long-running first process holds the directory; a second one is refused with a message
# naming the directory and the holder's pid; after `kill -9` of the first, the next run proceeds (the kernel
# released the flock with the dead process). tag --embeddings/--taggram, model import and model fetch: the lock
# is held by a small Python process standing in for another mtag, with the same expectations. A --model NAME
# fetched on first use waits for the holder instead of failing.
set -euo pipefail
exe=$1
tmp=$2/output_lock
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
enter_scratch "$tmp" "output lock"

# Waits until lock file $1 names pid $2 (the holder has locked and written it); fails after 120 s.
wait_for_holder() {
  for _ in $(seq 1 1200); do
    [[ -f "$1" ]] && [[ "$(cut -d' ' -f1 "$1" 2>/dev/null)" == "$2" ]] && return 0
    kill -0 "$2" 2>/dev/null || fail "process $2 ended before it held $1"
    sleep 0.1
  done
  fail "process $2 did not take $1 within 120 s"
}

# hold FILE COMMAND: another process holding FILE as mtag does (flock, then "<pid> COMMAND" written); its pid
# is in $holder. One process, so that kill -9 releases the lock (flock(1) would leave its child holding it).
holders=()
trap 'for h in "${holders[@]}"; do kill -9 "$h" 2>/dev/null || true; done' EXIT
hold() {
  /usr/bin/python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "a+")
fcntl.flock(f, fcntl.LOCK_EX)
f.truncate(0); f.write("%d %s\n" % (os.getpid(), sys.argv[2])); f.flush()
time.sleep(600)' "$1" "$2" >/dev/null 2>&1 &
  holder=$!
  holders+=("$holder")
  wait_for_holder "$1" "$holder"
}

# expect_refused NAME PID DIR CMD...: CMD must exit 1 naming DIR and "pid PID".
expect_refused() {
  local name=$1 pid=$2 dir=$3 code=0
  shift 3
  "$@" >"$name.out" 2>"$name.err" || code=$?
  [[ $code -eq 1 ]] || fail "$name: a second writer exited $code, expected 1: $(cat "$name.err")"
  grep -q "is being written by another mtag process (pid $pid" "$name.err" ||
    fail "$name: the message does not name the holder's pid $pid: $(cat "$name.err")"
  grep -qF -- "$dir" "$name.err" || fail "$name: the message does not name $dir: $(cat "$name.err")"
  echo "$name: $(head -1 "$name.err")"
}

mkdir -p audio
for i in $(seq 1 12); do
  "$exe" -q synth --tone $((200 + 17 * i)) --seconds 1.0 --sample-rate 16000 --out "audio/t$(printf %02d "$i").wav"
done

# ---- extract: the first run reads a named pipe nobody writes, so it holds the folder for as long as the test
# needs (a real extract of these files takes a fraction of a second); a second run is refused; after kill -9
# of the first, the rerun finishes.
mkfifo pipe.wav
(exec "$exe" -q --threads 1 extract pipe.wav --out feats --jobs 1 >/dev/null 2>&1) &
pid=$!
holders+=("$pid")
wait_for_holder feats/.mtag.lock "$pid"
expect_refused extract "$pid" feats "$exe" -q extract audio --out feats
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
"$exe" -q extract audio --out feats >/dev/null || fail "extract after kill -9 of the holder failed"
[[ $(find feats -name '*.npy' | wc -l) -eq 12 ]] || fail "extract after the kill did not finish every file"

# ---- train: a long first run, a second refused (before reading its data), kill -9, the next run proceeds.
low_high_manifest 12 10 'audio/t%02d.wav' > manifest.csv
tiny_cnn1d_config 2 '"early_stopping": {"patience": 0}' > train.json
(exec "$exe" -q --threads 1 train --config train.json --data manifest.csv --out "run dir" --epochs 100000 >/dev/null 2>&1) &
pid=$!
holders+=("$pid")
wait_for_holder "run dir/.mtag.lock" "$pid"
expect_refused train "$pid" "run dir" "$exe" -q train --config train.json --data manifest.csv --out "run dir" --epochs 1
# The holder keeps training meanwhile: the refusal changed nothing.
kill -0 "$pid" 2>/dev/null || fail "the first train ended when the second was refused"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
resume=()
[[ -f "run dir/checkpoint.safetensors" || -f "run dir/checkpoint.safetensors.prev" ]] && resume=(--resume)
"$exe" -q --threads 1 train --config train.json --data manifest.csv --out "run dir" --epochs 100000 \
  --stop-after-batches 3 "${resume[@]}" >/dev/null 2>train_after.err ||
  fail "train after kill -9 of the holder failed: $(tail -3 train_after.err)"
[[ -f "run dir/checkpoint.safetensors" ]] || fail "train after the kill wrote no checkpoint"

# ---- tag --embeddings / --taggram: the folder held by another process (flock(1) writing its pid).
"$exe" -q --threads 1 train --config train.json --data manifest.csv --out tagrun --epochs 1 >/dev/null ||
  fail "the run for the tag checks failed"
# The same folder for both is locked once (not refused by the process itself).
"$exe" -q tag --model tagrun audio/t01.wav --embeddings same --taggram same >/dev/null ||
  fail "tag with one folder for --embeddings and --taggram refused itself"
mkdir -p emb
hold emb/.mtag.lock "mtag tag"
expect_refused tag "$holder" "--embeddings emb" "$exe" -q tag --model tagrun audio --embeddings emb
expect_refused taggram "$holder" "--taggram emb" "$exe" -q tag --model tagrun audio --embeddings emb2 --taggram emb
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
"$exe" -q tag --model tagrun audio --embeddings emb >/dev/null || fail "tag after the holder died failed"
[[ $(find emb -name '*.npy' | wc -l) -eq 12 ]] || fail "tag after the holder died did not write every embedding"

# ---- model import --out and model fetch: the lock sits beside the directory (it appears by a rename).
hold .imported.mtag.lock "mtag model import"
cp tagrun/model.safetensors weights.safetensors
printf 'high\nlow\n' > tags.txt
expect_refused import "$holder" "--out imported" "$exe" -q model import --from safetensors --arch cnn1d \
  --options '{"n_mels": 16, "input_frames": 32, "channels": [8, 8], "kernel_sizes": [3, 3], "pools": [2, 1], "dense": [8]}' \
  --tags tags.txt weights.safetensors --out imported
[[ ! -e imported ]] || fail "a refused import left imported/"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true

mkdir -p home/models
hold home/models/.choi2016_crnn.mtag.lock "mtag model fetch"
expect_refused fetch "$holder" "home/models/choi2016_crnn" env MTAG_HOME=home MTAG_MODEL_MIRROR=file:///nonexistent \
  "$exe" -q model fetch choi2016_crnn
# The implicit fetch of `tag --model NAME` waits for the holder, says so, and goes on when it is gone (here to
# a mirror that does not exist: the error is then the download's, not the lock's).
code=0
(MTAG_HOME=home MTAG_MODEL_MIRROR=file:///nonexistent exec "$exe" -q tag --model choi2016_crnn audio/t01.wav \
   >/dev/null 2>implicit.err) &
waiter=$!
for _ in $(seq 1 1200); do grep -q "waiting for another mtag process (pid $holder" implicit.err 2>/dev/null && break; sleep 0.1; done
grep -q "waiting for another mtag process (pid $holder" implicit.err || fail "tag --model NAME did not wait: $(cat implicit.err)"
kill -0 "$waiter" 2>/dev/null || fail "tag --model NAME ended while the holder lived: $(cat implicit.err)"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
wait "$waiter" || code=$?
[[ $code -eq 1 ]] && grep -q "nonexistent" implicit.err || fail "after the holder died, tag --model NAME: exit $code: $(cat implicit.err)"
echo "implicit fetch: $(head -1 implicit.err)"
echo "output lock: extract, train, tag, model import and model fetch refuse a held directory; a dead holder does not block"
