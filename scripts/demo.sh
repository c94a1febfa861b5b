#!/usr/bin/env bash
# The main job on built-in data: set up, build, then run mtag end to end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
mtag="$root/build/mtag"
out="$root/demo"
mkdir -p "$out"

echo "== mtag synth: a 440 Hz test tone (3 s, 44.1 kHz stereo)"
"$mtag" synth --tone 440 --seconds 3 --sample-rate 44100 --channels 2 --out "$out/tone.flac"
echo "== mtag info"
"$mtag" info "$out/tone.flac"
echo "== mtag synth: the synthetic demo corpus (300 clips of 10 s)"
"$mtag" synth --clips 300 --seconds 10 --out "$out/corpus"
head -4 "$out/corpus/manifest.csv"
