#!/usr/bin/env bash
# The CUDA path on a GPU machine: exact resume, the default run on cuda, training throughput and scoring speed.
# Usage: benchmarks/cuda_check.sh [OUT]   (run from the repository root; python3 must hold a CUDA torch)
set -uo pipefail
OUT=${1:-runs/cuda-check}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
python3 benchmarks/resume_check.py --device cuda --mode bn
python3 benchmarks/resume_check.py --device cuda --mode full
/usr/bin/time -f "default run on cuda: %e s wall" python3 -m bnbench correlate --space nb201 --device cuda \
  --no-progress --out "$OUT/default-cuda"
python3 benchmarks/train_throughput.py --device cuda --steps 50
python3 benchmarks/scoring_speed.py --device cuda --archs 50
