#!/usr/bin/env bash
# The validation ROC-AUC of cnn1d trained with each of the 11 optimizers of nn/optim, at their usual
# learning rates, for the same budget (epochs, data, seed, threads), on the synthetic demo corpus.
# Prints a Markdown table (and writes it to OUT/survey.md). Everything goes through `mtag train --config`,
# so this is also an end-to-end check that every optimizer name is reachable.
#
#   scripts/optimizer_survey.sh [OUT]       (default OUT: survey/)
#   env: MTAG (build/mtag), CLIPS (1200), CLIP_SECONDS (8), EPOCHS (30), THREADS (1), SEED (0)
#
# Usual rates: the SGD family and AdaGrad at 1e-2 (Keras SGD, torch Adagrad defaults), RMSProp at 1e-3
# (Keras's default; torch's 1e-2 diverges on this model), the Adam family at 1e-3 (Kingma & Ba 2015 and
# every variant's paper). Early stopping is off so that every run trains exactly EPOCHS epochs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mtag=${MTAG:-$root/build/mtag}
out=${1:-survey}
clips=${CLIPS:-1200}
seconds=${CLIP_SECONDS:-8}
epochs=${EPOCHS:-30}
threads=${THREADS:-1}
seed=${SEED:-0}
mkdir -p "$out"
if [ ! -f "$out/corpus/manifest.csv" ]; then
    "$mtag" --quiet --threads "$threads" --seed "$seed" synth --clips "$clips" --seconds "$seconds" --sample-rate 16000 \
        --out "$out/corpus"
fi
declare -A rate=([sgd]=1e-2 [momentum]=1e-2 [nesterov]=1e-2 [adagrad]=1e-2 [rmsprop]=1e-3 [adam]=1e-3
                 [amsgrad]=1e-3 [adamw]=1e-3 [radam]=1e-3 [diffgrad]=1e-3 [adabelief]=1e-3)
names="sgd momentum nesterov adagrad rmsprop adam amsgrad adamw radam diffgrad adabelief"
table="$out/survey.md"
{
    echo "cnn1d on the synthetic corpus ($clips clips of ${seconds} s, seed $seed), $epochs epochs, batch 32, $threads thread(s)"
    echo
    echo "| optimizer | lr | best val ROC-AUC (epoch) | last-epoch val ROC-AUC | last train loss | seconds |"
    echo "| --- | --- | --- | --- | --- | --- |"
} > "$table"
for name in $names; do
    cat > "$out/$name.json" <<JSON
{"model": {"preset": "cnn1d"}, "data": {"path": "$out/corpus"},
 "optimizer": {"name": "$name", "lr": ${rate[$name]}},
 "epochs": $epochs, "early_stopping": {"patience": 0}}
JSON
    rm -rf "$out/run_$name"
    summary=$("$mtag" --quiet --threads "$threads" --seed "$seed" train --config "$out/$name.json" --out "$out/run_$name")
    /usr/bin/python3 - "$name" "${rate[$name]}" "$summary" "$out/run_$name/log.jsonl" >> "$table" <<'PY'
import json, sys
name, lr, summary, log = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
lines = [json.loads(l) for l in open(log) if l.strip() and '"epoch"' in l and "roc_auc_macro" in l]
last = lines[-1]
print(f"| {name} | {lr} | {summary['best_value']:.4f} ({summary['best_epoch']}) | {last['roc_auc_macro']:.4f} | "
      f"{last['train_loss']:.4f} | {summary['seconds']:.0f} |")
PY
    tail -1 "$table"
done
cat "$table"
