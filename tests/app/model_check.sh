#!/usr/bin/env bash
# `mtag model check` on a good model directory and on broken copies of it (issue 23, untrusted model files),
# driven by ctest (tests/cli_tests.cmake):   model_check.sh MTAG_EXE TMP
# Each broken copy must exit 1 with a message that names what is wrong; the good one exits 0 and prints what
# it holds. `mtag tag` on the NaN copy refuses it at load, naming the tensor.
set -euo pipefail
exe=$1
tmp=$2/model_check
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
enter_scratch "$tmp" "model check"

# A tiny trained run (2 epochs of a small cnn1d on 6 tones): card, weights, checkpoint and its .prev.
mkdir -p audio
for i in 1 2 3 4 5 6; do
  "$exe" -q synth --tone $((200 + 53 * i)) --seconds 0.6 --sample-rate 16000 --out "audio/t$i.wav"
done
low_high_manifest 6 5 'audio/t%d.wav' > manifest.csv
tiny_cnn1d_config 2 '"epochs": 2' > train.json
"$exe" -q --threads 1 --seed 1 train --config train.json --data manifest.csv --out good >/dev/null
[[ -f good/checkpoint.safetensors.prev ]] || fail "the run has no previous checkpoint to check"

# The good directory: exit 0 and a description of what it holds.
"$exe" model check good >good.out 2>good.err || fail "a good run failed the check: $(cat good.err)"
for expect in "preset         cnn1d" "tensors" "trainable parameters" "tags           2 \((multi|single)label\): high, low" \
              "front end      logmel at 16000 Hz, n_fft 256, hop 64, 16 bins" "32 frames per chunk" "checkpoint.safetensors: CRC-32 ok" \
              "checkpoint.safetensors.prev: CRC-32 ok" "^ok$"; do
  grep -qE -- "$expect" good.out || fail "the report lacks '$expect':"$'\n'"$(cat good.out)"
done
"$exe" model check good --json >good.json || fail "--json on a good run failed"
/usr/bin/python3 - good.json <<'PY' || fail "the JSON report is not what was expected: $(head -c 400 good.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True and r["problems"] == [], r["problems"]
assert r["preset"] == "cnn1d" and r["tags"] == ["high", "low"] and r["input"]["length"] == 32
assert r["parameters"] > 0 and all(t["non_finite"] == 0 for t in r["tensors"])
assert [c["file"] for c in r["checkpoints"]] == ["checkpoint.safetensors", "checkpoint.safetensors.prev"]
PY

# broken NAME EXPECT: copies good/ to NAME (the caller then damages it), runs the check, wants exit 1 and
# EXPECT (an extended regular expression) on stderr.
check_broken() {
  local name=$1 expect=$2 code=0
  "$exe" model check "$name" >"$name.out" 2>"$name.err" || code=$?
  [[ $code -eq 1 ]] || fail "$name: exit $code, expected 1: $(cat "$name.err")"
  grep -qE -- "$expect" "$name.err" || fail "$name: stderr lacks '$expect':"$'\n'"$(cat "$name.err")"
  grep -q "is not a sound model directory" "$name.err" || fail "$name: no closing verdict: $(cat "$name.err")"
  echo "model check $name: $(grep -m1 -E -- "$expect" "$name.err")"
}
copy() { rm -rf "$1"; cp -r good "$1"; }

# Edits model.safetensors of directory $1 with the Python snippet $2 (b: the bytes, n: the header length,
# h: the header as JSON, data: offset of the data section).
edit_weights() {
  /usr/bin/python3 - "$1/model.safetensors" "$2" <<'PY'
import json, struct, sys
path, code = sys.argv[1], sys.argv[2]
b = bytearray(open(path, 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
data = 8 + n
exec(code)
open(path, 'wb').write(bytes(b))
PY
}

# A NaN and an Inf in one tensor: named with the count; `mtag tag` refuses the model at load.
copy nan
edit_weights nan "
name = sorted(k for k in h if k.endswith('.weight'))[0]
begin = h[name]['data_offsets'][0]
b[data + begin:data + begin + 4] = struct.pack('<f', float('nan'))
b[data + begin + 8:data + begin + 12] = struct.pack('<f', float('inf'))
open('nan.name', 'w').write(name)"
check_broken nan "tensor '$(cat nan.name)' has 2 NaN or infinite value"
code=0
"$exe" -q tag --model nan audio/t1.wav >/dev/null 2>nan_tag.err || code=$?
[[ $code -eq 1 ]] || fail "tag with NaN weights: exit $code, expected 1"
grep -q "tensor '$(cat nan.name)' has 2 NaN or infinite values" nan_tag.err || fail "tag does not name the tensor: $(cat nan_tag.err)"

# A header length of 2^62: refused from the 8-byte prefix.
copy huge_header
edit_weights huge_header "b[:8] = struct.pack('<Q', 1 << 62)"
check_broken huge_header "header length 4611686018427387904 exceeds the limit"

# Truncated in the data section.
copy truncated
edit_weights truncated "del b[len(b) - 100:]"
check_broken truncated "beyond the data section|data section has"

# A tensor whose offsets reach past the end of the file.
copy past_eof
edit_weights past_eof "
name = sorted(h)[-1]
h[name]['data_offsets'][1] += 1 << 30
text = json.dumps(h).encode(); text += b' ' * (-len(text) % 8)
b[:] = struct.pack('<Q', len(text)) + text + b[data:]"
check_broken past_eof "beyond the data section"

# A tensor missing (its bytes removed with it) and one renamed: both reported, with expected shapes.
copy missing
edit_weights missing "
names = sorted(k for k in h if k != '__metadata__')
gone = names[0]
begin, end = h[gone]['data_offsets']
del h[gone]
for k in names[1:]:
    o = h[k]['data_offsets']
    if o[0] >= end: h[k]['data_offsets'] = [o[0] - (end - begin), o[1] - (end - begin)]
h['extra.' + names[1]] = h.pop(names[1])
text = json.dumps(h).encode(); text += b' ' * (-len(text) % 8)
b[:] = struct.pack('<Q', len(text)) + text + b[data:data + begin] + b[data + end:]"
check_broken missing "missing tensor '.*' \(expected shape"
grep -q "unexpected tensor 'extra\." missing.err || fail "missing: the renamed tensor is not reported: $(cat missing.err)"

# The card: one tag removed (2 outputs, 1 tag); a chunk of days; a forged architecture of 40 GB.
edit_card() {
  /usr/bin/python3 - "$1/model.json" "$2" <<'PY'
import json, sys
path, code = sys.argv[1], sys.argv[2]
c = json.load(open(path))
exec(code)
json.dump(c, open(path, 'w'))
PY
}
copy tags
edit_card tags "c['metadata']['tags'] = ['high']"
check_broken tags "tags: got 1 tags, expected 2"
copy long_chunk
edit_card long_chunk "c['metadata']['input']['frames'] = 10**12; c['metadata']['evaluation']['length'] = 10**12"
check_broken long_chunk "at most 600 s per chunk"
copy forged
edit_card forged "c['architecture']['options']['channels'] = [8, 100000000]"
check_broken forged "would allocate more than [0-9]+ MiB"
copy no_card
rm no_card/model.json
check_broken no_card "model.json.*cannot open"

# A corrupted checkpoint (a flipped data byte): its CRC-32 no longer matches.
copy checkpoint
/usr/bin/python3 - checkpoint/checkpoint.safetensors <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
b[8 + n + (len(b) - 8 - n) // 2] ^= 0x10
open(sys.argv[1], 'wb').write(bytes(b))
PY
check_broken checkpoint "checkpoint.safetensors.*is corrupted: checksum"

# Not a directory at all.
code=0
"$exe" model check absent >/dev/null 2>absent.err || code=$?
[[ $code -eq 1 ]] && grep -q "does not exist" absent.err || fail "a missing directory: exit $code: $(cat absent.err)"
echo "model check: the good run passes; 10 broken copies and a missing directory are refused with their reason"
