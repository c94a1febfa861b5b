#!/usr/bin/env bash
# The 1,000-file batch of issue 23: 950 good clips and 50 bad ones (10 each: truncated, random bytes, zero
# length, wrong extension, unreadable) through `mtag extract` and `mtag tag`. Checks that every good file
# has its output, that every bad one is named on stderr with a reason, and that both exit with 3; prints
# files/s and peak RSS (GNU time). Timing figures need a quiet machine (buildslot --all).
#   scripts/corrupt_batch.sh [WORKDIR] [SECONDS_PER_CLIP]     (default build/corrupt_batch, 10 s clips)
# Unreadable files: a file with mode 000 when not root; as root (who reads any mode) a dangling symlink
# with the audio extension, which no process can open, stands in for it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exe="$root/build/mtag"
work=${1:-$root/build/corrupt_batch}
seconds=${2:-10}
[[ -x "$exe" ]] || { echo "corrupt_batch.sh: build mtag first (scripts/build.sh)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/audio"
cd "$work"

echo "corrupt_batch: synthesising 950 clips of ${seconds} s" >&2
for i in $(seq 0 949); do
  printf '%s\n' "$i"
done | xargs -P "$(nproc)" -I{} sh -c \
  "'$exe' -q synth --tone \$((110 + {} * 7 % 3000)) --seconds $seconds --sample-rate 16000 --out audio/good_\$(printf %04d {}).wav"
# Bad files, 10 of each kind, their names saying what they are.
for i in $(seq 0 9); do
  src=audio/good_$(printf %04d "$i").wav
  head -c $(( $(stat -c %s "$src") / 3 )) "$src" > "audio/bad_truncated_$i.wav"
  head -c 1000 /dev/urandom > "audio/bad_random_$i.wav"
  : > "audio/bad_empty_$i.wav"
  printf 'id,name\n%d,not audio\n' "$i" > "audio/bad_wrongext_$i.flac"
  if [[ $(id -u) -eq 0 ]]; then
    ln -s "$work/missing/nowhere_$i.wav" "audio/bad_unreadable_$i.wav"
  else
    cp "$src" "audio/bad_unreadable_$i.wav"
    chmod 000 "audio/bad_unreadable_$i.wav"
  fi
done
{ echo path; (cd audio && ls | sed 's|^|audio/|'); } > manifest.csv
[[ $(($(wc -l < manifest.csv) - 1)) -eq 1000 ]] || { echo "corrupt_batch: expected 1000 files" >&2; exit 1; }

problems=0
check() {  # $1 name, $2 exit code, $3 stderr file, $4 outputs found; reports every problem, then goes on
  local name=$1 code=$2 err=$3 outputs=$4 ok=1
  [[ $code -eq 3 ]] || { echo "PROBLEM: $name exited $code, expected 3" >&2; ok=0; }
  [[ $outputs -eq 950 ]] || { echo "PROBLEM: $name wrote $outputs outputs, expected 950" >&2; ok=0; }
  for f in audio/bad_*; do
    if ! grep -q "$(basename "$f")" "$err"; then
      echo "PROBLEM: $name did not report $f (exists as output: $(find "$5" -name "$(basename "${f%.*}").npy" | wc -l))" >&2
      ok=0
    fi
  done
  [[ $ok -eq 1 ]] || problems=$((problems + 1))
  echo "$name: exit $code, $outputs outputs, $(grep -c "bad_" "$err") lines naming bad files; e.g.:"
  grep "bad_" "$err" | awk -F'bad_' '{split($2, a, "_"); if (!(a[1] in seen)) {seen[a[1]] = 1; print}}' | sed 's/^/    /'
}

rss_and_rate() {  # $1 time -v file, $2 label
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$1" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$1" | awk '{print $NF}')
  local secs
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  echo "$2: wall ${wall} ($(awk -v s="$secs" 'BEGIN { printf "%.1f", 1000 / s }') files/s), peak RSS $((rss / 1024)) MB"
}

set +e
/usr/bin/time -v -o extract.time "$exe" -q extract --manifest manifest.csv --out features 2> extract.err
code=$?
set -e
check extract $code extract.err "$(find features -name '*.npy' | wc -l)" features
rss_and_rate extract.time "extract (default jobs)"

# A tiny model to tag with: cnn1d trained for one epoch on 30 of the good clips.
{
  echo "path,tags,split"
  for i in $(seq 0 29); do
    if (( i % 2 )); then tags=high; else tags=low; fi
    if (( i < 24 )); then split=train; else split=valid; fi
    echo "audio/good_$(printf %04d "$i").wav,$tags,$split"
  done
} > train.csv
"$exe" -q --seed 1 train --preset cnn1d --data train.csv --out run --epochs 1 > /dev/null
mapfile -t inputs < <(tail -n +2 manifest.csv)
set +e
/usr/bin/time -v -o tag.time "$exe" -q tag --model run --embeddings embeddings "${inputs[@]}" > tags.jsonl 2> tag.err
code=$?
set -e
check tag $code tag.err "$(find embeddings -name '*.npy' | wc -l)" embeddings
echo "tag: $(grep -c '"path"' tags.jsonl) results on stdout (expected 950)"
rss_and_rate tag.time "tag --embeddings"
if [[ $problems -gt 0 ]]; then
  echo "corrupt_batch: FAILED ($problems of extract/tag did not meet the expectations above)" >&2
  exit 1
fi
echo "corrupt_batch: passed"
