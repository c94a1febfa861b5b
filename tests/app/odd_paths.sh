#!/usr/bin/env bash
# Paths with spaces, quotes, CSV separators, non-ASCII characters and names of 250 bytes (NAME_MAX is 255)
# through every command that reads or writes files (issue 23, resource limits), driven by ctest:
#   odd_paths.sh MTAG_EXE TMP
# synth and info, extract (outputs mirror the odd names), train --data with a CSV manifest that quotes them,
# tag (JSON paths, --embeddings), plot (spectrogram, curves) and report. Temporary names of outputs whose
# final name is near NAME_MAX must still fit (they are shortened, not refused).
set -euo pipefail
exe=$1
tmp=$2/odd_paths
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
enter_scratch "$tmp" "odd paths"

dir="in 'single' \"double\" ü 日本"
# 100 x "é" (200 bytes) + 46 x "x" + ".wav": 250 bytes; its .npy and .png have the same length.
long=$(printf 'é%.0s' $(seq 1 100))$(printf 'x%.0s' $(seq 1 46))
names=("a b 'c' \"d\" é.wav" "comma, semi;colon.wav" "$long.wav" "plain.wav")
mkdir -p "$dir"
i=0
for n in "${names[@]}"; do
  i=$((i + 1))
  "$exe" -q synth --tone $((220 + 110 * i)) --seconds 0.8 --sample-rate 16000 --out "$dir/$n" ||
    fail "synth could not write '$dir/$n'"
  "$exe" info "$dir/$n" | grep -q '"frames":12800' || fail "info cannot read '$dir/$n'"
done
(( $(printf '%s' "$long.wav" | wc -c) == 250 )) || fail "the long name is not 250 bytes"

# extract: one .npy per input under the mirrored odd names; features.json names them.
out="out 'x' \"y\" ü"
"$exe" -q extract "$dir" --out "$out" --sample-rate 16000 --n-mels 16 >extract.json || fail "extract failed"
for n in "${names[@]}"; do
  [[ -f "$out/${n%.wav}.npy" ]] || fail "extract wrote no '$out/${n%.wav}.npy': $(ls "$out")"
done
left=$(find "$out" -name '*.tmp*' | head -1)
[[ -z "$left" ]] || fail "extract left a temporary: $left"

# train --data: a manifest whose path column needs CSV quoting (quotes doubled, commas inside).
/usr/bin/python3 - "$dir" "${names[@]}" <<'PY'
import csv, sys
folder, names = sys.argv[1], sys.argv[2:]
with open('manifest.csv', 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['path', 'tags', 'split'])
    for i, n in enumerate(names):
        w.writerow([folder + '/' + n, 'low' if i % 2 else 'high', 'valid' if i == 3 else 'train'])
PY
tiny_cnn1d_config 2 '"epochs": 2' > train.json
run="run 'r' \"s\" ü"
"$exe" -q --threads 1 train --config train.json --data manifest.csv --out "$run" >train.json.out 2>train.err ||
  fail "train on the odd manifest failed: $(tail -3 train.err)"
"$exe" -q dataset stats --data manifest.csv | grep -q '"splits":{"train":3,"valid":1,"test":0}.*"problems":\[\]' ||
  fail "dataset stats does not see the 4 clips"

# tag: JSON lines whose paths are the odd names, embeddings under them.
emb="emb ü"
"$exe" -q tag --model "$run" "$dir" --embeddings "$emb" >tags.jsonl 2>tag.err || fail "tag failed: $(cat tag.err)"
/usr/bin/python3 - "$dir" "${names[@]}" <<'PY' || fail "tag's JSON lines do not name the files: $(head -c 600 tags.jsonl)"
import json, sys
folder, names = sys.argv[1], sys.argv[2:]
paths = [json.loads(line)['path'] for line in open('tags.jsonl', encoding='utf-8')]
assert sorted(paths) == sorted(folder + '/' + n for n in names), paths
PY
for n in "${names[@]}"; do
  [[ -f "$emb/${n%.wav}.npy" ]] || fail "tag wrote no embedding '$emb/${n%.wav}.npy'"
done

# plot and report: outputs with odd and long names.
"$exe" -q plot spectrogram "$dir/$long.wav" --feature mel --out "$dir/$long.png" || fail "plot spectrogram to a 250-byte name failed"
[[ -s "$dir/$long.png" ]] || fail "no $long.png"
"$exe" -q plot curves "$run" --out "curves 'c' ü.svg" || fail "plot curves failed"
[[ -s "curves 'c' ü.svg" ]] || fail "no curves svg"
"$exe" -q report "$run" --out "report \"r\" ü.html" --taggrams 0 || fail "report failed"
grep -q "<html" "report \"r\" ü.html" || fail "the report is not HTML"
left=$(find . -name '*.tmp*' | head -1)
[[ -z "$left" ]] || fail "a temporary was left: $left"
echo "odd paths: synth, info, extract, train --data, dataset stats, tag, plot and report handle spaces, quotes, CSV" \
     "separators, non-ASCII and 250-byte names"
