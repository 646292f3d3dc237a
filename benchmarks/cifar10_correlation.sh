#!/usr/bin/env bash
# Real-data check of issue 2: bn, supernet_acc and params against NB201 cifar10-valid validation
# accuracy (200 epochs, mean of seeds) on a 1,000-cell stratified sample, at a reduced CPU setting.
# Usage: benchmarks/cifar10_correlation.sh [SHARED_DATA] [OUT]   (prints the table and the wall time)
set -euo pipefail
DATA=${1:-../shared/data}
OUT=${2:-runs/bench-cifar10-1000}
start=$(date +%s)
bnbench correlate --space nb201 --dataset cifar10-valid \
  --data-dir "$DATA/cifar10" --benchmark "$DATA/nb201/nb201-v1_1-cifar10-valid-200ep.csv" \
  --indicators bn,supernet_acc,params --train-mode bn --channels 16 --cells 1 --resolution 16 \
  --train-fraction 0.4 --epochs 10 --batch-size 128 --val-images 500 --calib-batches 2 \
  --sample-archs 1000 --seed 0 --no-progress --out "$OUT"
echo "wall time: $(( $(date +%s) - start )) s"
