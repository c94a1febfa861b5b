#!/usr/bin/env bash
# Audio from streams (dsp/spooled_input.hpp), driven by ctest:  streams.sh MTAG_EXE TMP
# `info`, `tag` and `extract` read '-' (standard input) and pipes such as <(cat ...) through a temporary copy,
# with the same results as the file itself, and remove the copy; '-' twice and an empty stream are refused
# by name; SIGTERM during a copy removes it; other commands refuse a stream, and a FIFO with no writer, at once
# instead of blocking.
set -euo pipefail
exe=$1
tmp=$2/streams
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
enter_scratch "$tmp" "streams"
mkdir -p spool
export TMPDIR=$PWD/spool  # where the copies go; must be empty again after every command

"$exe" -q synth --tone 440 --seconds 3 --channels 2 --out tone.flac || fail "synth tone.flac"
"$exe" -q synth --tone 660 --seconds 3 --out tone.mp3 || fail "synth tone.mp3"
spool_empty() { [[ -z "$(ls -A spool)" ]] || fail "a temporary copy was left behind after $1: $(ls -A spool)"; }

# info: the same header figures as the file; the path shown is the one given.
file_info=$("$exe" info tone.flac)
stdin_info=$("$exe" info - <tone.flac) || fail "info - exited $?"
[[ "$stdin_info" == "${file_info/\"tone.flac\"/\"-\"}" ]] || fail "info - gave '$stdin_info', the file '$file_info'"
pipe_info=$("$exe" info <(cat tone.mp3)) || fail "info <(cat tone.mp3) exited $?"
[[ "$pipe_info" == *'"format":"MP3"'* && "$pipe_info" == *'"path":"/dev/fd/'* ]] || fail "info of a pipe: $pipe_info"
[[ "${pipe_info#*\"format\"}" == "$("$exe" info tone.mp3 | sed 's/.*"format"//')" ]] ||
  fail "info of a pipe differs from the file's: $pipe_info"
spool_empty info

# extract: stdin.npy and the pipe's <N>.npy hold the bytes the files give.
"$exe" -q extract --out direct tone.flac tone.mp3 >/dev/null || fail "extract of the files"
"$exe" -q extract --out streamed - <(cat tone.mp3) <tone.flac >streamed.json || fail "extract of streams"
cmp -s direct/tone.npy streamed/stdin.npy || fail "extract - differs from the FLAC file's features"
pipe_npy=$(ls streamed | grep -v stdin | grep '\.npy$')
[[ -n "$pipe_npy" ]] || fail "extract of a pipe wrote no .npy: $(ls streamed)"
cmp -s direct/tone.mp3.npy "streamed/$pipe_npy" || fail "extract of a pipe differs from the MP3 file's features"
grep -q '"input": "-"' streamed/features.json || fail "features.json does not name '-': $(cat streamed/features.json)"
spool_empty extract

# tag: the same scores for a file and for the same bytes on standard input.
"$exe" -q --seed 5 model init cnn1d --out init --n-tags 4 >/dev/null || fail "model init"
printf 'a\nb\nc\nd\n' >tags.txt
"$exe" -q model import --from safetensors --arch cnn1d init/model.safetensors --out model --tags tags.txt >/dev/null ||
  fail "model import"
file_tags=$("$exe" -q tag --model model --all-scores tone.flac) || fail "tag of the file"
stdin_tags=$("$exe" -q tag --model model --all-scores - <tone.flac) || fail "tag - exited $?"
[[ "$stdin_tags" == "${file_tags/\"tone.flac\"/\"-\"}" ]] || fail "tag - gave '$stdin_tags', the file '$file_tags'"
spool_empty tag

# Refused by name, non-zero exit.
if err=$("$exe" -q extract --out twice - - <tone.flac 2>&1); then fail "extract - - succeeded"; fi
[[ "$err" == *"input '-' (standard input)"*"more than once"* ]] || fail "extract - - said: $err"
if err=$("$exe" info - </dev/null 2>&1); then fail "info of an empty stdin succeeded"; fi
[[ "$err" == *"gave no bytes"* ]] || fail "info of an empty stdin said: $err"
# A stream that is not audio: the failure names '-' (the decoder's message names the temporary copy).
if err=$(head -c 5000 tone.flac | tail -c 3000 | "$exe" -q extract --out bad - 2>&1); then fail "extract of garbage succeeded"; fi
[[ "$err" == *"input '-': audio file '"*"cannot be decoded"* ]] || fail "extract of a garbage stream said: $err"
spool_empty "the refusals"

# SIGTERM while a stream is being copied: mtag dies of the signal (143) and removes the partial copy. (SIGINT
# is ignored by background jobs of a non-interactive shell, so it cannot be sent here; the handler is the same.)
mkfifo slow.wav
"$exe" info slow.wav 2>/dev/null &
pid=$!
exec 3>slow.wav
printf 'RIFF\0\0\0\0WAVE' >&3
for _ in $(seq 200); do [[ -n "$(ls -A spool)" ]] && break; sleep 0.05; done
[[ -n "$(ls -A spool)" ]] || fail "info of a FIFO with a writer made no copy in \$TMPDIR within 10 s"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
exec 3>&-
(( status == 143 )) || fail "info stopped by SIGTERM exited $status, not 143"
spool_empty "SIGTERM during the copy"

# Commands that do not copy streams refuse them at once; a FIFO with no writer must not block them.
mkfifo fifo.wav
if err=$(timeout 60 "$exe" augment fifo.wav out.wav --gain 3 2>&1); then fail "augment of a FIFO succeeded"; fi
[[ "$err" == *"'fifo.wav': is standard input, a pipe or a device, not a regular file"* ]] ||
  fail "augment of a FIFO with no writer said (exit 124 = it blocked): $err"
if err=$("$exe" augment - out.wav --gain 3 <tone.flac 2>&1); then fail "augment - succeeded"; fi
[[ "$err" == *"'-': is standard input"* ]] || fail "augment - said: $err"
[[ ! -e out.wav ]] || fail "augment wrote out.wav from a stream it refused"
echo "streams: info, tag and extract read '-' and pipes as files; refusals named"
