#!/usr/bin/env bash
# Long files in bounded memory (issue 23), driven by ctest (tests/cli_tests.cmake):
#   bounded_memory.sh MTAG_EXE TMP SANITIZED
# `mtag tag` (2 threads: one file's windows over two sessions) and `mtag extract` of a 25-minute 44.1 kHz
# stereo FLAC must peak within 64 MB of the same command's peak resident memory on a 1-minute file. An
# implementation whose memory grew with the file's length would need far more for the long file: its decoded
# stereo samples alone are 530 MB, and the extract config below gives a 190 MB feature. Peak RSS comes from
# getrusage(RUSAGE_CHILDREN) of a process that runs only that command; nothing is timed. (An address-space
# limit, `ulimit -v`, was tried first: under a too-tight limit OpenBLAS retries its buffer mmap forever
# instead of failing, so a limit cannot be searched for.) Under ASan/TSan the allocator's quarantine holds
# freed memory, so resident memory says nothing about the program's own: SANITIZED=ON skips the test (exit 77,
# ctest's SKIP_RETURN_CODE).
set -euo pipefail
exe=$1
tmp=$2/bounded_memory
sanitized=$3
if [[ $sanitized == ON ]]; then
  echo "skipped: under ASan/TSan resident memory includes the allocator quarantine"
  exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
enter_scratch "$tmp" "bounded memory"

"$exe" -q synth --tone 440 --seconds 60 --channels 2 --sample-rate 44100 --out short/a.flac
"$exe" -q synth --tone 440 --seconds 1500 --channels 2 --sample-rate 44100 --out long/a.flac
# A narrow short_chunk_cnn with random weights and a card (what `mtag bench tag` makes): the tagging path of
# the real one at a fraction of the work.
narrow='{"channels": [16, 16, 32, 32, 32, 32, 64], "dense": 64}'
printf 'tag%s\n' 1 2 3 4 5 >tags.txt
"$exe" -q model init short_chunk_cnn --out model_init --n-tags 5 --options "$narrow" >/dev/null
"$exe" -q model import --from safetensors --arch short_chunk_cnn --options "$narrow" --tags tags.txt \
  model_init/model.safetensors --out model >/dev/null

# peak_kb CMD...: CMD's peak resident memory in KiB (its stdout to out.txt, stderr to err.txt); fails with
# CMD's message when CMD fails.
peak_kb() {
  /usr/bin/python3 -c '
import resource, subprocess, sys
with open("out.txt", "wb") as out, open("err.txt", "wb") as err:
    code = subprocess.run(sys.argv[1:], stdout=out, stderr=err).returncode
sys.exit(code) if code else print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@" ||
    fail "failed: $* : $(head -c 400 err.txt)"
}

margin=$((64 * 1024))
tag=("$exe" -q --threads 2 tag --model model --all-scores --format json)
short=$(peak_kb "${tag[@]}" short/a.flac)
long=$(peak_kb "${tag[@]}" long/a.flac)
cp out.txt tag.json
echo "tag: peak RSS $((short / 1024)) MB for 1 minute, $((long / 1024)) MB for 25 minutes"
((long <= short + margin)) || fail "tag's peak RSS grew with the file: $((short / 1024)) MB -> $((long / 1024)) MB"
/usr/bin/python3 - tag.json <<'PY' || fail "tag output of the 25-minute file is wrong: $(head -c 400 tag.json)"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert abs(r["duration_seconds"] - 1500) < 0.01, r["duration_seconds"]
assert len(r["tags"]) == 5, r
PY

# 256 mel bands every 128 samples: 187,500 frames, a 190 MB feature for 25 minutes (1 MB per 8 s).
extract=("$exe" -q extract --jobs 1 --feature logmel --n-mels 256 --n-fft 1024 --hop-length 128)
short=$(peak_kb "${extract[@]}" --out short_out short)
long=$(peak_kb "${extract[@]}" --out long_out long)
echo "extract: peak RSS $((short / 1024)) MB for 1 minute, $((long / 1024)) MB for 25 minutes"
((long <= short + margin)) || fail "extract's peak RSS grew with the file: $((short / 1024)) MB -> $((long / 1024)) MB"
/usr/bin/python3 - long_out/a.npy <<'PY' || fail "extract output of the 25-minute file is wrong"
import numpy as np, sys
x = np.load(sys.argv[1], mmap_mode="r")
assert x.shape == (256, 1500 * 16000 // 128 + 1), x.shape
s = np.asarray(x[:, ::997])
assert np.isfinite(s).all()
assert s.min() >= x.max() - 80 - 1e-3, (s.min(), x.max())  # top_db = 80 over the whole feature
PY
[[ -z $(find long_out -name '*.tmp*' | head -1) ]] || fail "scratch files left in long_out"
