#!/usr/bin/env bash
# SPOS vs FairNAS strict-fair sampling on NB201 (truth for every cell): tau of bn and supernet_acc against the
# cifar10-valid validation accuracy (200 epochs, mean of seeds) on a 1,000-cell stratified sample, at a reduced
# CPU setting, at EQUAL IMAGES SEEN: a FairNAS step passes its batch through m = 5 paths, so FairNAS gets 1/5 of
# SPOS's epochs (same forward/backward passes, 1/5 of the updates). With EQUAL_EPOCHS=1 also FairNAS at equal
# epochs (5x the passes). Usage: [EQUAL_EPOCHS=1] benchmarks/fairnas_vs_spos.sh [SHARED_DATA] [OUT] [MODE=bn|full] [SPOS_EPOCHS=10]
set -euo pipefail
DATA=${1:-../shared/data}
OUT=${2:-runs/bench-fairnas}
MODE=${3:-bn}
EPOCHS=${4:-10}
FAIR_EPOCHS=$(( EPOCHS / 5 > 0 ? EPOCHS / 5 : 1 ))
common=(--space nb201 --dataset cifar10-valid --data-dir "$DATA/cifar10"
        --benchmark "$DATA/nb201/nb201-v1_1-cifar10-valid-200ep.csv" --indicators bn,supernet_acc,params
        --train-mode "$MODE" --channels 16 --cells 1 --resolution 16 --train-fraction 0.4 --batch-size 128
        --val-images 500 --calib-batches 2 --sample-archs 1000 --seed 0 --no-progress)
runs=("spos $EPOCHS" "fairnas $FAIR_EPOCHS")
[ "${EQUAL_EPOCHS:-0}" = 1 ] && runs+=("fairnas $EPOCHS")
for run in "${runs[@]}"; do
  set -- $run
  start=$(date +%s)
  echo "== sampler $1, $2 epochs, train mode $MODE"
  bnbench correlate "${common[@]}" --sampler "$1" --epochs "$2" --out "$OUT/$MODE-$1-$2ep" | sed -n '/^indicator/,/^$/p'
  python - "$OUT/$MODE-$1-$2ep/supernet/supernet.pt" <<'PY'
import sys
from bnbench.train.supernet import load_checkpoint
h = load_checkpoint(sys.argv[1])["history"]
print("training loss by epoch:", ", ".join(f"{e['loss']:.3f}" for e in h),
      f"| forward images/s {sum(e['images_per_s'] for e in h) / len(h):.0f}")
PY
  echo "wall time: $(( $(date +%s) - start )) s"
done
