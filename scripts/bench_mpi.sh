#!/usr/bin/env bash
# Data-parallel training throughput on one machine: 1 process x T threads vs K ranks x T/K threads over MPI
# (same global batch, same data), and the share of step time the ranks spend blocked in the gradient
# all-reduce. Defaults fit a 2-core machine: 1 x 2 threads vs 2 ranks x 1 thread.
#
#   scripts/bench_mpi.sh [PRESET]        (default short_chunk_cnn; MTAG=path/to/mtag, CLIPS, BATCH, EPOCHS)
#
# Prints one line per setup (clips/s of the last epoch from log.jsonl, steps, blocked seconds, fraction) and
# the speed-up. Runs at normal priority: give it an otherwise idle machine and repeat it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mtag=${MTAG:-$here/build/mtag}
preset=${1:-short_chunk_cnn}
clips=${CLIPS:-96}
batch=${BATCH:-16}
epochs=${EPOCHS:-2}
threads=${THREADS:-2}
ranks=${RANKS:-2}
work=${WORK:-$(mktemp -d /tmp/mtag-bench-mpi.XXXXXX)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun -np "$ranks" --oversubscribe --bind-to none)

[[ -f $work/corpus/manifest.csv ]] ||
  "$mtag" --quiet --threads "$threads" synth --clips "$clips" --seconds 4 --sample-rate 16000 --out "$work/corpus" >/dev/null

# clips/s of the last epoch in a run's log.jsonl.
last_rate() { tail -n 1 "$1/log.jsonl" | sed -E 's/.*"clips_per_second": ?([0-9.eE+-]+).*/\1/'; }

echo "bench mpi: $preset, $clips clips of 4 s, global batch $batch, $epochs epochs, $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$work/one" "$work/many"
"$mtag" --quiet --threads "$threads" --seed 1 train --preset "$preset" --data "$work/corpus" --out "$work/one" \
  --epochs "$epochs" --batch-size "$batch" --workers 1 >"$work/one.json"
one=$(last_rate "$work/one")
printf '%-28s %8.2f clips/s\n' "1 rank x $threads threads" "$one"

per=$(( threads / ranks > 0 ? threads / ranks : 1 ))
"${mpirun[@]}" "$mtag" --quiet --threads "$per" --seed 1 train --preset "$preset" --data "$work/corpus" \
  --out "$work/many" --epochs "$epochs" --batch-size "$batch" --workers 1 >"$work/many.json"
many=$(last_rate "$work/many")
summary=$(cat "$work/many.json")
field() { sed -E "s/.*\"$1\":([0-9.eE+-]+).*/\1/" <<<"$summary"; }
printf '%-28s %8.2f clips/s   steps %s, blocked in all-reduce %.2f s = %.1f%% of step time (rank 0)\n' \
  "$ranks ranks x $per thread(s)" "$many" "$(field steps)" "$(field comm_wait_seconds)" \
  "$(awk -v f="$(field comm_fraction)" 'BEGIN{print 100*f}')"
awk -v a="$one" -v b="$many" 'BEGIN{printf "speed-up of %s ranks: %.2fx\n", "'"$ranks"'", b/a}'
echo "(runs kept in $work)"
