"""Check on a device that an interrupted supernet training resumes to bit-identical weights.

Trains the digits supernet for ``--epochs`` uninterrupted, then again stopped after half the epochs and
resumed from its checkpoint, and prints the largest weight difference (0 means exact resume).

    python benchmarks/resume_check.py --device cuda [--mode bn|full]
"""

from __future__ import annotations

import argparse
import tempfile
import time


from bnbench.datasets import load_dataset
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import train_supernet


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--mode", default="bn")
    p.add_argument("--epochs", type=int, default=4)
    args = p.parse_args()
    data = load_dataset("digits", device=args.device)
    cfg = TrainConfig(dataset="digits", channels=8, cells=1, epochs=args.epochs, batch_size=64, train_mode=args.mode)
    start = time.perf_counter()
    whole = train_supernet(cfg, data, None, progress=False).model.state_dict()
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        train_supernet(cfg, data, tmp, progress=False, stop_after=args.epochs // 2)
        resumed = train_supernet(cfg, data, tmp, progress=False).model.state_dict()
    diff = max(float((whole[k].double() - resumed[k].double()).abs().max()) for k in whole if whole[k].numel())
    print(f"device {args.device} mode {args.mode}: {args.epochs} epochs in {seconds:.2f} s; "
          f"max |uninterrupted - resumed| over {len(whole)} tensors = {diff:.3g}")


if __name__ == "__main__":
    main()
