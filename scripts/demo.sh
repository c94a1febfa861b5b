#!/usr/bin/env bash
# The main job on built-in data: set up, build, render a synthetic corpus, train a 2-D CNN on it,
# evaluate it and tag a few files. Budget: under 10 minutes on 2 cores (the training stops after the
# epoch in which its --max-minutes budget runs out, keeping the best model).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# MTAG_DEMO_SKIP_BUILD=1 reuses an existing build/mtag.
if [ "${MTAG_DEMO_SKIP_BUILD:-0}" != 1 ] || [ ! -x "$root/build/mtag" ]; then "$root/scripts/build.sh"; fi
mtag="$root/build/mtag"
out="$root/demo"
mkdir -p "$out"
threads=${MTAG_DEMO_THREADS:-2}
clips=${MTAG_DEMO_CLIPS:-500}
minutes=${MTAG_DEMO_MINUTES:-4}
seconds=${MTAG_DEMO_SECONDS:-8}

echo "== mtag synth: a 440 Hz test tone (3 s, 44.1 kHz stereo)"
"$mtag" synth --tone 440 --seconds 3 --sample-rate 44100 --channels 2 --out "$out/tone.flac"
echo "== mtag info"
"$mtag" info "$out/tone.flac"

echo "== mtag synth: the synthetic demo corpus ($clips clips of $seconds s, 16 kHz)"
if [ ! -f "$out/corpus/manifest.csv" ]; then
    "$mtag" --threads "$threads" synth --clips "$clips" --seconds "$seconds" --sample-rate 16000 --out "$out/corpus"
fi
head -4 "$out/corpus/manifest.csv"
"$mtag" dataset stats --data "$out/corpus" --no-durations | head -c 400; echo

echo "== mtag train: a small short_chunk_cnn (2-D CNN on 64-band log-mel, 2 s chunks), $minutes min budget"
cat > "$out/train.json" <<JSON
{"model": {"preset": "short_chunk_cnn", "n_mels": 64, "input_frames": 126,
           "channels": [32, 32, 64, 64, 64, 128], "dense": 128, "dropout": 0.3},
 "features": {"kind": "logmel", "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 64},
 "optimizer": {"name": "adam", "lr": 0.001},
 "batch_size": 16, "epochs": 30, "evaluation": {"eval_chunks": 3},
 "early_stopping": {"patience": 6}}
JSON
rm -rf "$out/run"
"$mtag" --threads "$threads" train --config "$out/train.json" --data "$out/corpus" --out "$out/run" \
    --max-minutes "$minutes"

echo "== mtag eval: the test split (--report: also run/eval.json and run/report.html)"
pictures="$root/build/demo"
mkdir -p "$pictures"
"$mtag" --threads "$threads" eval --model "$out/run" --data "$out/corpus" --split test --report > "$pictures/eval.json"
head -c 300 "$pictures/eval.json"; echo

echo "== mtag plot / mtag report: one picture of each kind into $pictures"
clip=$(awk -F, 'NR > 1 && $NF == "test" { print "'"$out/corpus/"'" $1; exit }' "$out/corpus/manifest.csv")
"$mtag" plot spectrogram "$out/tone.flac" --feature mel --out "$pictures/spectrogram_mel.png"
"$mtag" plot spectrogram "$clip" --feature cqt --out "$pictures/spectrogram_cqt.png"
"$mtag" plot spectrogram "$clip" --feature stft --cmap viridis --duration 4 --out "$pictures/spectrogram_stft.png"
"$mtag" plot spectrogram "$clip" --feature waveform --duration 0.05 --out "$pictures/waveform.png"
"$mtag" --threads "$threads" plot taggram --model "$out/run" "$clip" --top 10 --out "$pictures/taggram.png"
"$mtag" plot curves "$out/run" --out "$pictures/curves.png"
"$mtag" plot confusion --eval "$pictures/eval.json" --group genre --out "$pictures/confusion.png"
"$mtag" plot roc --eval "$pictures/eval.json" --out "$pictures/roc.png"
"$mtag" plot tags --eval "$pictures/eval.json" --out "$pictures/tags.png"
"$mtag" --threads "$threads" report "$out/run" --eval "$pictures/eval.json" --out "$pictures/report.html"

echo "== mtag tag: three clips of the test split"
files=$(awk -F, 'NR > 1 && $NF == "test" { print "'"$out/corpus/"'" $1 }' "$out/corpus/manifest.csv" | head -3)
# shellcheck disable=SC2086
"$mtag" --threads "$threads" tag --model "$out/run" --top-k 3 $files

echo "== mtag tag with a published model: Choi et al.'s MusicTaggerCRNN (MSD top-50 tags, MIT licence)"
# The weights come from upstream (checksummed) into ~/.cache/mtag/models, or from ../shared when it is there.
shared="$root/../shared/pretrained/choi2016"
if [ -z "${MTAG_MODEL_MIRROR:-}" ] && [ -d "$shared" ]; then export MTAG_MODEL_MIRROR="$shared"; fi
"$mtag" model fetch choi2016_crnn
songs=()
for song in bensound-cute.mp3 bensound-actionable.mp3; do [ -f "$shared/$song" ] && songs+=("$shared/$song"); done
if [ ${#songs[@]} -gt 0 ]; then
    "$mtag" --threads "$threads" tag --model choi2016_crnn --top-k 5 --format table "${songs[@]}"
else
    echo "(no songs at $shared: tag your own with: $mtag tag --model choi2016_crnn song.mp3)"
fi
