#!/usr/bin/env bash
# mtag sweep, train --folds and ensembles through the CLI (issue 25), driven by ctest (tests/cli_tests.cmake).
#   sweep.sh CASE MTAG_EXE TMP
# Cases:
#   sweep-kill   a 12-trial random search over lr and weight decay: kill -9 once at least one trial has
#                finished, rerun: sweep.jsonl has 12 distinct trials, the lines written before the kill are
#                untouched, the values equal an undisturbed sweep's (--threads 1), the best trial beats or ties
#                the default config's validation ROC-AUC; a second sweep on a running sweep's directory refuses;
#                a bad space key / range is an error naming it
#   kill-moments kill -9 at 20 seeded moments spread over an undisturbed 6-trial sweep (--threads 1), each
#                followed by a rerun: every rerun ends with the undisturbed sweep's records (all but the
#                seconds), and byte-identical weights, checkpoint tensors and configs in every trial directory
#   folds        mtag train --folds 5 and mtag sweep --folds 5: mean ± std reported, folds.json has 5 values
#   ensemble     tag/eval with several --model: two identical runs equal one run byte for byte; three presets
#                (cnn1d, short_chunk_cnn, sample_cnn) run; an ensemble directory equals the same --model list;
#                different tag lists are an error naming the models
set -euo pipefail
case_name=$1
exe=$2
tmp=$3/sweep_$case_name
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
enter_scratch "$tmp" "$case_name"
mtag() { "$exe" --threads 1 "$@"; }

# 30 tones at 8 kHz: 0.6 s, odd "high" (3000 Hz), even "low" (300 Hz), every third both (1000 Hz);
# 1-20 train, 21-25 valid, 26-30 test.
mkdir -p audio
echo "path,tags,split" > manifest.csv
for i in $(seq 1 30); do
  if (( i % 3 == 0 )); then hz=300; tags=low; elif (( i % 3 == 1 )); then hz=3000; tags=high; else hz=1000; tags='"low;high"'; fi
  if (( i <= 20 )); then split=train; elif (( i <= 25 )); then split=valid; else split=test; fi
  mtag -q synth --tone $hz --seconds 0.6 --sample-rate 8000 --out "audio/c$i.wav"
  echo "audio/c$i.wav,$tags,$split" >> manifest.csv
done
front_end='"features": {"kind": "logmel", "sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 16, "fmax": 4000}'
common='"data": {"path": "manifest.csv"}, "batch_size": 4, "evaluation": {"eval_chunks": 2}'
cat > base.json <<JSON
{"model": {"preset": "cnn1d", "n_mels": 16, "input_frames": 32, "channels": [8, 8], "kernel_sizes": [3, 3],
           "pools": [2, 1], "dense": [8]}, $front_end, $common, "epochs": 6, "early_stopping": {"patience": 3}}
JSON
cat > space.json <<'JSON'
{"optimizer.lr": {"log_uniform": [1e-4, 1e-1]}, "optimizer.weight_decay": {"log_uniform": [1e-6, 1e-2]}}
JSON

case $case_name in
sweep-kill)
  mtag -q --seed 7 sweep --config base.json --space space.json --trials 12 --max-minutes 2 --out ref > ref_table.txt
  [[ $(wc -l < ref/sweep.jsonl) -eq 12 ]] || fail "undisturbed sweep wrote $(wc -l < ref/sweep.jsonl) lines"
  # Kill -9 once at least one trial is in sweep.jsonl (polled every 10 ms).
  # (the executable itself in the background, not the mtag() function: $! must be its pid)
  "$exe" --threads 1 -q --seed 7 sweep --config base.json --space space.json --trials 12 --max-minutes 2 --out run \
    > /dev/null &
  pid=$!
  for _ in $(seq 1 6000); do
    [[ -s run/sweep.jsonl ]] && break
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [[ -s run/sweep.jsonl ]] || fail "no trial finished before the kill"
  before=$(wc -l < run/sweep.jsonl)
  cp run/sweep.jsonl before.jsonl
  # While a sweep holds the directory, a second one refuses (flock; the killed one holds nothing).
  sed 's/"epochs": 6/"epochs": 400/; s/"patience": 3/"patience": 0/' base.json > slow.json
  "$exe" --threads 1 -q --seed 7 sweep --config slow.json --space space.json --trials 2 --out locked > /dev/null &
  holder=$!
  for _ in $(seq 1 3000); do [[ -s locked/.mtag.lock ]] && break; sleep 0.01; done
  set +e
  mtag -q --seed 7 sweep --config slow.json --space space.json --trials 2 --out locked > /dev/null 2> lock_err.txt
  code=$?
  set -e
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  [[ $code -eq 1 ]] && grep -q "is being written by another mtag process (pid [0-9]*: mtag sweep" lock_err.txt ||
    fail "a second sweep on a locked directory: exit $code, $(cat lock_err.txt)"
  # The rerun continues: 12 distinct trials, the earlier lines untouched, values as undisturbed.
  mtag --seed 7 sweep --config base.json --space space.json --trials 12 --max-minutes 2 --out run > table.txt 2> rerun_err.txt ||
    fail "rerun after kill -9 failed: $(tail -3 rerun_err.txt)"
  grep -q "$before trial(s) finished before; continuing" rerun_err.txt || fail "the rerun did not skip the finished trials"
  head -c "$(stat -c %s before.jsonl)" run/sweep.jsonl | cmp -s - before.jsonl || fail "lines written before the kill changed"
  /usr/bin/python3 - <<'PY' || fail "sweep.jsonl after the kill differs from the undisturbed sweep"
import json
run = [json.loads(l) for l in open('run/sweep.jsonl')]
ref = {r['trial']: r for r in map(json.loads, open('ref/sweep.jsonl'))}
assert len(run) == 12 and sorted(r['trial'] for r in run) == list(range(1, 13)), [r['trial'] for r in run]
for r in run:
    e = ref[r['trial']]
    for k in ('params', 'value', 'best_epoch', 'epochs_completed', 'stop_reason', 'dir'):
        assert r[k] == e[k], (r['trial'], k, r[k], e[k])
PY
  grep -q "^rank  trial" table.txt && [[ $(grep -c "trial-0" table.txt) -eq 12 ]] || fail "ranking table: $(cat table.txt)"
  # The best trial beats or ties the default config (the base's own lr 1e-3, no weight decay).
  mtag -q train --config base.json --out default > default.json
  /usr/bin/python3 - <<'PY' || fail "the best trial is worse than the default config"
import json
default = json.load(open('default.json'))['best_value']
best = max(json.loads(l)['value'] for l in open('run/sweep.jsonl'))
print(f"best trial roc_auc_macro {best:.4f}, default config {default:.4f}")
assert best >= default
PY
  # A bad space: an unknown config key and an empty range are errors naming them, before any training.
  echo '{"optimizer.lrr": {"log_uniform": [1e-4, 1e-1]}}' > bad_key.json
  echo '{"optimizer.lr": {"uniform": [0.1, 0.01]}}' > bad_range.json
  echo '{"model.dropout": {"uniform": [0.5, 1.5]}}' > bad_value.json
  for bad in bad_key bad_range bad_value; do
    set +e
    mtag -q sweep --config base.json --space $bad.json --trials 4 --out $bad > /dev/null 2> $bad.err
    code=$?
    set -e
    [[ $code -eq 1 && ! -d $bad/trial-001 ]] || fail "$bad: exit $code, trials started: $(cat $bad.err)"
  done
  grep -q "'optimizer.lrr': the config has no key 'lrr'" bad_key.err || fail "bad key message: $(cat bad_key.err)"
  grep -q "'optimizer.lr': uniform range .* is empty" bad_range.err || fail "bad range message: $(cat bad_range.err)"
  grep -q "sweep trial [0-9]* (dropout=.*): model options of cnn1d: dropout" bad_value.err || fail "bad value message: $(cat bad_value.err)"
  echo "sweep-kill: killed after $before finished trial(s); rerun completed 12 trials identical to the undisturbed sweep"
  cat table.txt
  ;;
kill-moments)
  sweep() { "$exe" --threads 1 -q --seed 7 sweep --config base.json --space space.json --trials 6 --out "$@"; }
  sweep ref > /dev/null
  # Timed on a second sweep: the first pays for cold caches and would spread the kills past the end.
  start=$(date +%s%3N)
  sweep ref_timed > /dev/null
  duration=$(( $(date +%s%3N) - start ))
  trials=$(cd ref && ls -d trial-* | sort)
  [[ $(wc -l <<< "$trials") -eq 6 && $(wc -l < ref/sweep.jsonl) -eq 6 ]] || fail "undisturbed sweep: $(ls ref)"
  # The tensors of two checkpoints (their headers differ in the seconds trained).
  tensors() { /usr/bin/python3 -c '
import sys, struct
b = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(b[8 + struct.unpack("<Q", b[:8])[0]:])' "$1"; }
  same_sweep() {  # sweep directory $1 ends as the undisturbed ref/
    local dir=$1
    /usr/bin/python3 - "$dir" <<'PY' || fail "$dir/sweep.jsonl differs from the undisturbed sweep's"
import json, sys
def records(d):
    rs = [json.loads(l) for l in open(f'{d}/sweep.jsonl')]
    for r in rs: r.pop('seconds')
    return sorted(rs, key=lambda r: r['trial'])
assert records(sys.argv[1]) == records('ref'), (records(sys.argv[1]), records('ref'))
PY
    [[ "$(cd "$dir" && ls -d trial-* | sort)" == "$trials" ]] || fail "$dir: trial directories $(ls "$dir")"
    for t in $trials; do
      for f in model.safetensors config.json; do
        cmp -s "$dir/$t/$f" "ref/$t/$f" || fail "$dir/$t/$f differs from the undisturbed sweep's"
      done
      cmp -s <(tensors "$dir/$t/checkpoint.safetensors") <(tensors "ref/$t/checkpoint.safetensors") ||
        fail "$dir/$t/checkpoint.safetensors holds other tensors than the undisturbed sweep's"
    done
    local left
    left=$(find "$dir" -name '*.tmp*' | head -5)
    [[ -z "$left" ]] || fail "temporaries left under $dir:" $left
  }
  # Moment i is a seeded random point of the i-th twentieth of the undisturbed sweep's duration.
  RANDOM=23
  killed=0
  partial=0
  for i in $(seq 1 20); do
    out=run$i
    delay_ms=$(( duration * (1000 * (i - 1) + RANDOM % 1000) / 20000 ))
    (exec "$exe" --threads 1 -q --seed 7 sweep --config base.json --space space.json --trials 6 --out "$out" \
       >/dev/null 2>&1) &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
    wait "$pid" 2>/dev/null || true
    finished=$( { cat "$out/sweep.jsonl" 2>/dev/null || true; } | wc -l)
    started=$( { ls -d "$out"/trial-* 2>/dev/null || true; } | wc -l)
    (( started > 0 && finished < 6 )) && partial=$((partial + 1))
    sweep "$out" > /dev/null 2> "$out.err" || fail "rerun $i after kill -9 at ${delay_ms} ms failed: $(tail -3 "$out.err")"
    same_sweep "$out"
  done
  echo "kill-moments: 20 reruns identical to the undisturbed sweep; $killed of 20 kills landed before the sweep" \
       "ended, $partial of them with trials started and not all finished (undisturbed sweep: ${duration} ms)"
  [[ $killed -ge 5 && $partial -ge 3 ]] || fail "only $killed kills ($partial mid-sweep) landed during the sweep"
  ;;
folds)
  mtag -q train --config base.json --folds 5 --out cv > cv.json
  /usr/bin/python3 - <<'PY' || fail "train --folds 5: $(cat cv.json)"
import json, math
s = json.load(open('cv.json'))
f = json.load(open('cv/folds.json'))
assert s['folds'] == 5 and len(f['values']) == 5 and len(f['runs']) == 5
v = [x for x in f['values'] if x is not None]
mean = sum(v) / len(v)
std = math.sqrt(sum((x - mean) ** 2 for x in v) / len(v))
assert abs(mean - f['mean']) < 1e-12 and abs(std - f['std']) < 1e-12, (mean, std, f)
print(f"train --folds 5: {f['metric']} {f['mean']:.4f} ± {f['std']:.4f}")
PY
  for k in 1 2 3 4 5; do [[ -f cv/fold-$k/model.json && -f cv/fold-$k/outcome.json ]] || fail "cv/fold-$k is not a finished run"; done
  # Rerunning without --resume refuses; with --resume nothing is retrained and the result is the same.
  set +e
  mtag -q train --config base.json --folds 5 --out cv > /dev/null 2> again.err
  code=$?
  set -e
  [[ $code -eq 1 ]] && grep -q "already holds a cross-validation" again.err || fail "rerun without --resume: $code $(cat again.err)"
  mtag -q train --folds 5 --out cv --resume > cv2.json
  cmp -s cv.json cv2.json || fail "--resume of a finished cross-validation changed it: $(cat cv2.json)"
  # mtag sweep --folds 5: every trial's mean ± std in the table and sweep.jsonl.
  mtag --seed 3 sweep --config base.json --space space.json --trials 2 --folds 5 --out sweep > table.txt 2> sweep.err
  grep -q "(mean±std)" table.txt && grep -Eq "trial-00[12] +[0-9.]+ ± [0-9.]+" table.txt || fail "sweep --folds table: $(cat table.txt)"
  grep -q "over 5 folds" sweep.err || fail "sweep --folds progress: $(cat sweep.err)"
  [[ -f sweep/trial-001/folds.json && -f sweep/trial-002/fold-5/outcome.json ]] || fail "sweep --folds files missing"
  grep -q '"std":' sweep/sweep.jsonl || fail "sweep.jsonl lacks std"
  set +e
  mtag -q train --config base.json --folds 1 --out one > /dev/null 2> one.err
  code=$?
  set -e
  [[ $code -eq 2 ]] && grep -q "at least 2 folds" one.err || fail "--folds 1: $code $(cat one.err)"
  cat table.txt
  ;;
ensemble)
  cat > short_chunk.json <<JSON
{"model": {"preset": "short_chunk_cnn", "n_mels": 16, "input_frames": 32, "channels": [4, 4], "dense": 8},
 $front_end, $common, "epochs": 2}
JSON
  cat > sample.json <<JSON
{"model": {"preset": "sample_cnn", "input_samples": 2187, "channels": [8, 8, 8, 8, 8, 8], "first_channels": 8,
           "final_channels": 8}, "features": {"kind": "waveform", "sample_rate": 8000}, $common, "epochs": 2}
JSON
  mtag -q train --config base.json --out a > /dev/null
  mtag -q train --config short_chunk.json --out b > /dev/null
  mtag -q train --config sample.json --out c > /dev/null
  cp -r a a_copy
  # Two identical runs: exactly one run (tag and eval).
  mtag -q tag --model a audio --all-scores > one.txt
  mtag -q tag --model a --model a_copy audio --all-scores > two.txt
  [[ $(wc -l < one.txt) -eq 30 ]] || fail "tag --model a: $(wc -l < one.txt) lines"
  cmp -s one.txt two.txt || fail "an ensemble of two identical runs differs from one run"
  mtag -q eval --model a --data manifest.csv | sed 's/"seconds":[^,}]*//; s/"models":[^]]*]//' > eval_one.txt
  mtag -q eval --model a --model a_copy --data manifest.csv | sed 's/"seconds":[^,}]*//; s/"models":[^]]*]//' > eval_two.txt
  cmp -s eval_one.txt eval_two.txt || fail "eval of two identical runs differs from one run"
  # Three presets and front ends (log-mel cnn1d, log-mel short-chunk CNN, waveform sample CNN).
  mtag -q tag --model a --model b --model c audio --all-scores --embeddings emb > three.txt
  [[ $(wc -l < three.txt) -eq 30 ]] || fail "three-model tag: $(wc -l < three.txt) lines"
  for m in a b c; do mtag -q tag --model $m audio/c1.wav --all-scores > member_$m.txt; done
  grep "c1.wav" three.txt > three_c1.txt
  /usr/bin/python3 - <<'PY' || fail "three-model scores are not the mean of the members'"
import json
def s(f):
    return {t['tag']: t['score'] for t in json.loads(open(f).readline())['tags']}
members = [s(f'member_{m}.txt') for m in 'abc']
ens = s('three_c1.txt')
for tag, v in ens.items():
    mean = sum(m[tag] for m in members) / 3
    assert abs(v - mean) < 1e-6, (tag, v, mean)
print('three-model mean ok:', ens)
PY
  /usr/bin/python3 -c "import numpy as np; e = np.load('emb/c1.npy'); assert e.shape == (24,), e.shape" ||
    fail "ensemble embeddings are not the members' concatenated (8 + 8 + 8)"
  # An ensemble directory is one --model and gives what the list gives.
  mtag -q model ensemble --out ens a b c > made.json
  [[ -f ens/ensemble.json && -f ens/members/3-c/model.safetensors ]] || fail "ensemble directory: $(ls -R ens)"
  mtag -q tag --model ens audio --all-scores > dir.txt
  mtag -q tag --model a --model b --model c audio --all-scores > list.txt
  cmp -s dir.txt list.txt || fail "the ensemble directory differs from the same --model list"
  mtag -q eval --model ens --data manifest.csv > /dev/null || fail "eval --model ENSEMBLE_DIR failed"
  # Different tags: an error naming both models (tag, eval and model ensemble), nothing written.
  cp -r b b_other
  /usr/bin/python3 -c "
import json; j = json.load(open('b_other/model.json')); j['metadata']['tags'] = j['metadata']['tags'][::-1]
json.dump(j, open('b_other/model.json', 'w'))"
  for cmd in "tag --model a --model b_other audio/c1.wav" "eval --model a --model b_other --data manifest.csv" \
             "model ensemble --out bad_ens a b_other"; do
    set +e
    mtag -q $cmd > /dev/null 2> mismatch.err
    code=$?
    set -e
    [[ $code -eq 1 ]] && grep -q "models 'a' and 'b_other' have different tag lists" mismatch.err ||
      fail "$cmd: exit $code, $(cat mismatch.err)"
  done
  [[ ! -e bad_ens ]] || fail "model ensemble left a directory after an error"
  echo "ensemble: two identical runs = one run; three presets averaged; ensemble directory = list"
  ;;
*)
  fail "unknown case"
  ;;
esac
