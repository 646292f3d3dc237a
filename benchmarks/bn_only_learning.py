"""Does a BN-only supernet learn? Training-loss and one-shot-accuracy curves per ``bn_scope`` (issue 13).

For each setting the supernet is trained by bnbench's own trainer (``train_supernet``, SPOS, cosine schedule),
one epoch at a time from its checkpoint, and after every ``--every`` epochs it prints

* the mean SPOS training loss of the epoch (chance on 10 classes: ln 10 = 2.303),
* the one-shot accuracy (BN statistics recalibrated per subnet, 1,000 held-out images) of ``--cells``
  random cells: mean and best,
* the gradient norms ||dL/dgamma|| of the ops' last BNs, of every other BN and of the classifier weight
  (mean over 8 batches with random paths, whether or not they are trained),
* the mean |gamma - 1| of the ops' last BNs (the BN-NAS score reads mean |gamma|; 0 = untouched).

Example (the digits default supernet, C=16, N=2, 30 epochs; about 5 minutes on 2 cores)::

    python benchmarks/bn_only_learning.py --epochs 30 --settings last,all,last+classifier,all+classifier,full

Measured 2026-12-02 on this 2-core CPU (one thread), digits, C=16 N=2, batch 64, lr 0.1 (BN-only) / 0.05 (full),
loss in the last epoch, one-shot accuracy of 20 random cells (mean / best); ``--epochs 30 --every 30`` and
``--epochs 100 --every 100``:

    setting           30 epochs: loss  one-shot %     100 epochs: loss  one-shot %
    last (BN-NAS)          2.347      10.2 / 12.4          2.340       10.2 / 13.2
    all                    2.296      11.9 / 19.2            -
    last+classifier        2.239      18.8 / 57.3          2.239       20.6 / 51.7
    all+classifier         2.225      22.1 / 57.0          2.172       28.7 / 61.4
    full                   1.327      64.1 / 81.4          0.358       88.8 / 96.5

BN-NAS's own recipe (``--lr 0.25 --label-smoothing 0.1 --grad-clip 5``) leaves ``last`` at 2.338 and 9.5 / 13.4 %
after 30 epochs. With the classifier frozen the SPOS loss never leaves chance and no subnet learns, at any learning rate tried
(lr 1: 2.340) or length (100 epochs); a single *fixed* path trained the same way falls to 1.98, so BN-only
training can fit one random network but a frozen random classifier cannot read thousands of different paths.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from bnbench.datasets import BatchAugmenter, iterate_batches, load_dataset
from bnbench.indicators.supernet_acc import batched, fixed_images
from bnbench.spaces import get_space
from bnbench.train import loop
from bnbench.train.config import TrainConfig
from bnbench.train.params import op_last_bns
from bnbench.train.supernet import train_supernet

LN10 = float(np.log(10))


def grad_norms(model, data, cfg: TrainConfig, space, batches: int = 8, seed: int = 0) -> dict[str, float]:
    """Mean ||dL/dtheta|| over ``batches`` (random path, random batch) of three parameter groups."""
    model.train()
    saved = {k: v.clone() for k, v in model.state_dict().items()}  # BN running stats move in train mode
    op_bns = op_last_bns(model)
    op_ids = {id(m) for m in op_bns}
    other = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d) and m.affine and id(m) not in op_ids]
    for p in model.parameters():
        p.requires_grad_(True)
    aug = BatchAugmenter(data.mean, data.std, data.augment, cfg.resolution)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    sums = {"op_bn_gamma": [], "other_bn_gamma": [], "classifier": []}
    for (x, y), arch in zip(iterate_batches(data.train, cfg.batch_size, aug, train=True, generator=gen, shuffle=True,
                                            drop_last=True), space.random_paths(rng, batches)):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x, tuple(int(a) for a in arch)), y).backward()
        for key, mods in (("op_bn_gamma", op_bns), ("other_bn_gamma", other)):
            grads = [m.weight.grad.flatten() for m in mods if m.weight.grad is not None]
            sums[key].append(float(torch.cat(grads).norm()) if grads else 0.0)
        sums["classifier"].append(float(model.classifier.weight.grad.norm()))
    model.zero_grad(set_to_none=True)
    model.load_state_dict(saved)
    return {k: float(np.mean(v)) for k, v in sums.items()}


@torch.no_grad()
def one_shot(model, data, cfg: TrainConfig, archs: np.ndarray) -> tuple[float, float]:
    """(mean, best) one-shot accuracy (%) of ``archs`` with BN statistics recalibrated per subnet."""
    aug = BatchAugmenter(data.mean, data.std, data.augment, cfg.resolution)
    calib, _ = fixed_images(data.train, 4 * cfg.batch_size, aug, 0)
    val = batched(*fixed_images(data.eval, 1000, aug, 1), 256)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    accs = []
    for arch in archs:
        forward = lambda x, a=tuple(int(v) for v in arch): model(x, a)  # noqa: E731
        loop.recalibrate_bn(model, forward, [calib[i:i + cfg.batch_size] for i in range(0, len(calib), cfg.batch_size)])
        model.eval()
        accs.append(loop.accuracy(forward, val))
    model.load_state_dict(saved)
    return float(np.mean(accs)), float(np.max(accs))


def gamma_shift(model) -> float:
    g = torch.cat([m.weight.detach().abs().flatten() for m in op_last_bns(model)])
    return float((g - 1).abs().mean())


def curve(setting: str, args, data, space, archs: np.ndarray, work: Path):
    mode, scope = ("full", "last") if setting == "full" else ("bn", setting)
    cfg = TrainConfig(dataset=args.dataset, space="nb201", channels=args.channels, cells=args.cells_per_stage,
                      epochs=args.epochs, batch_size=args.batch_size, train_mode=mode, bn_scope=scope, lr=args.lr
                      if mode == "bn" else None, seed=args.seed, resolution=args.resolution,
                      train_fraction=args.train_fraction, label_smoothing=args.label_smoothing,
                      grad_clip=args.grad_clip)
    run_dir = work / setting.replace("+", "_")
    rows = []
    for epoch in range(0, args.epochs + 1):
        result = train_supernet(cfg, data, run_dir, progress=False, stop_after=epoch, announce=lambda _: None)
        if epoch % args.every and epoch != args.epochs:
            continue
        loss = result.history[-1]["loss"] if result.history else float("nan")
        mean, best = one_shot(result.model, data, cfg, archs)
        row = {"setting": setting, "epoch": epoch, "loss": loss, "one_shot_mean": mean, "one_shot_best": best,
               "gamma_shift": gamma_shift(result.model), **grad_norms(result.model, data, cfg, space)}
        rows.append(row)
        print(f"{setting:16s} {epoch:4d} {loss:8.3f} {mean:7.1f} {best:7.1f} {row['gamma_shift']:8.3f} "
              f"{row['op_bn_gamma']:9.3f} {row['other_bn_gamma']:9.3f} {row['classifier']:9.3f}", flush=True)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--settings", default="last,all,last+classifier,all+classifier,full",
                   help="comma-separated bn_scope values, or 'full'")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells-per-stage", type=int, default=2)
    p.add_argument("--resolution", type=int, default=None, help="input side in pixels (default: native)")
    p.add_argument("--train-fraction", type=float, default=1.0)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--every", type=int, default=5, help="evaluate every this many epochs")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1, help="BN-only learning rate (full training: its default)")
    p.add_argument("--label-smoothing", type=float, default=0.0, help="BN-NAS's code: 0.1")
    p.add_argument("--grad-clip", type=float, default=None, help="gradient L2-norm clip (BN-NAS's code: 5)")
    p.add_argument("--cells", type=int, default=20, help="random cells evaluated one-shot")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", default=None, help="also write the rows here")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    data = load_dataset(args.dataset, args.data_dir, seed=args.seed, train_fraction=args.train_fraction)
    space = get_space("nb201")
    archs = space.sample(args.cells, 123)
    print(f"# {args.dataset}, C={args.channels} N={args.cells_per_stage}, chance loss ln 10 = {LN10:.3f}; "
          f"one-shot accuracy of {args.cells} random cells", file=sys.stderr)
    print(f"{'setting':16s} {'ep':>4s} {'loss':>8s} {'mean%':>7s} {'best%':>7s} {'|g|-1':>8s} {'dL/dg op':>9s} "
          f"{'dL/dg oth':>9s} {'dL/dW cls':>9s}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for setting in args.settings.split(","):
            rows += curve(setting.strip(), args, data, space, archs, Path(tmp))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
