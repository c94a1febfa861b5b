#!/usr/bin/env bash
# One training run per CNN family on a 1000-clip `mtag synth` corpus, each within a 15-minute budget on
# 2 cores, then the test split scored with `mtag eval` (macro ROC-AUC, PR-AUC and genre accuracy).
# This reproduces the figures of the models issue; it is not part of the test suite (about 45 minutes).
#
#   scripts/family_runs.sh [OUT]            (default OUT: ./family_runs; MTAG_THREADS=2)
#
# Families and configs (max_minutes 14.5: training stops after the epoch in which the budget runs out, so
# each run ends within 15 minutes):
#   cnn1d            the preset as published in nn/models (log-mel bins as channels, 1-D convs over time)
#   short_chunk_cnn  the preset (3.7 M parameters), with Adam at lr 1e-3 instead of Won et al.'s 1e-4 for
#                    the short budget
#   sample_cnn       the preset (Lee et al.'s 3^9 model, 1.9 M parameters), Adam at lr 1e-3 instead of the
#                    paper's SGD for the short budget
# All three use Adam (lr 1e-3) and 4 evaluation chunks per clip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mtag="$root/build/mtag"
[ -x "$mtag" ] || "$root/scripts/build.sh"
out=${1:-family_runs}
threads=${MTAG_THREADS:-2}
mkdir -p "$out"

if [ ! -f "$out/corpus/manifest.csv" ]; then
    "$mtag" --threads "$threads" synth --clips 1000 --seconds 10 --seed 7 --out "$out/corpus"
fi

cat > "$out/cnn1d.json" <<'JSON'
{"model": {"preset": "cnn1d"}, "epochs": 200, "max_minutes": 14.5}
JSON
cat > "$out/short_chunk_cnn.json" <<'JSON'
{"model": {"preset": "short_chunk_cnn"},
 "optimizer": {"name": "adam", "lr": 0.001, "weight_decay": 0.0001},
 "evaluation": {"eval_chunks": 4}, "epochs": 200, "max_minutes": 14.5}
JSON
cat > "$out/sample_cnn.json" <<'JSON'
{"model": {"preset": "sample_cnn"},
 "optimizer": {"name": "adam", "lr": 0.001},
 "evaluation": {"eval_chunks": 4}, "epochs": 200, "max_minutes": 14.5}
JSON

for family in cnn1d short_chunk_cnn sample_cnn; do
    echo "== $family"
    rm -rf "${out:?}/$family"
    "$mtag" --threads "$threads" train --config "$out/$family.json" --data "$out/corpus" --out "$out/$family"
    "$mtag" --threads "$threads" eval --model "$out/$family" --data "$out/corpus" --split test \
        > "$out/$family.eval.json"
    grep -o '"roc_auc_macro":[^,]*,"pr_auc_macro":[^,]*' "$out/$family.eval.json"
    grep -o '"genre":{[^}]*"accuracy":[^,]*' "$out/$family.eval.json" | grep -o '"accuracy":.*'
done
