"""Reproduce Abdelfattah et al. (ICLR 2021), Table/Fig. NB201 CIFAR-10: Spearman rho of zero-cost proxies.

NB201 cifar10-valid validation accuracy (200 epochs) on a stratified sample of cells, batch of 64
training images, fixed seed, the ``zc`` model variant. ``--zc-batch per-arch`` (default) is the
reference protocol: each architecture gets its own random, randomly cropped and flipped batch (as
zero-cost-nas's ``next(iter(train_loader))``); ``fixed`` scores every cell on one un-augmented batch. Writes the usual correlate outputs
(results.json, scores.csv, report.md, plots) plus ``zc_reproduction.md``: our rho and tau beside the
published rho. Finished architectures are kept in ``<out>/zc_scores.jsonl``: rerun to resume.

    python benchmarks/zc_reproduce.py --data-dir ../shared/data/cifar10 \\
        --benchmark ../shared/data/nb201/nb201-v1_1-cifar10-valid-200ep.csv --sample-archs 1000 [--jobs 2]

``--export-data FILE`` writes the few training images the ``fixed`` policy reads (everything else
zeroed, so it compresses to a few MB) for a machine without the dataset; ``--data-file FILE`` scores from it.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from bnbench.datasets import Dataset, ImageSplit, load_dataset
from bnbench.datasets.augment import AugmentConfig
from bnbench.experiment import (RunOptions, assemble_results, load_ground_truth, net_spec, score_indicators,
                                scores_frame, select_archs, train_config)
from bnbench.indicators import ScoringContext, parse_list
from bnbench.indicators.zc.store import FILENAME, ScoreStore
from bnbench.report import write_report
from bnbench.report.markdown import markdown_table
from bnbench.spaces import get_space
from bnbench.utils.io import atomic_write_text

NAME = "cifar10-valid"
PUBLISHED = {"synflow": 0.74, "jacob_cov": 0.73, "snip": 0.60, "grad_norm": 0.59, "grasp": 0.51, "fisher": 0.36}
# fisher_naslib reproduces NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B), not zero-cost-nas: rho of
# its published per-architecture fisher values against the cifar10-valid *validation* accuracy, 150 cells (issue 16)
OTHER_REFERENCE = {"fisher_naslib": 0.42}


def export_data(data: Dataset, seed: int, batch: int, lr_samples: int, path: str) -> None:
    """Keep only the training images image_batch / crop_batch draw for ``seed`` (same draws, same order)."""
    n = len(data.train)
    used = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch]
    used = torch.cat([used, torch.randint(n, (lr_samples,), generator=torch.Generator().manual_seed(seed))])
    x = torch.zeros_like(data.train.x)
    x[used] = data.train.x[used]
    np.savez_compressed(path, x=x.numpy(), y=data.train.y.numpy(), mean=data.mean, std=data.std,
                        description=data.description)


def load_data_file(path: str) -> Dataset:
    f = np.load(path)
    train = ImageSplit(torch.from_numpy(f["x"]), torch.from_numpy(f["y"]))
    return Dataset(NAME, train, train, 10, tuple(map(float, f["mean"])), tuple(map(float, f["std"])), 32, AugmentConfig(),
                   f"{f['description']} (images the zero-cost scoring reads; the rest zeroed)")


def seconds_per_arch(out: Path, archs: list[str], variant: str) -> dict[str, float]:
    """Mean compute time per architecture of each proxy, from the store (so resumed runs count it too)."""
    from bnbench.indicators.zc.fisher import NASLIB_VARIANT

    bound = {"fisher_naslib": NASLIB_VARIANT["nb201"]}  # scored on its own network whatever --variant says
    store, wanted, times = ScoreStore(out / FILENAME), set(archs), {}
    for rec in store.records.values():
        if rec["arch"] in wanted and rec["variant"] == bound.get(rec["proxy"], variant):
            times.setdefault(rec["proxy"], []).append(rec["seconds"])
    return {k: float(np.mean(v)) for k, v in times.items()}


def batch_keys(dataset: Dataset, args) -> tuple[str, str]:
    """Store keys of the image batch and the linear-region crops a dataset gives."""
    from bnbench.indicators.zc.common import image_batch
    from bnbench.indicators.zc.te_linear_regions import crop_batch

    ctx = ScoringContext(space=get_space("nb201"), network=net_spec(NAME), dataset=dataset, seed=args.seed,
                         options={"zc_batch_size": args.batch_size, "zc_batch": "fixed"})
    return image_batch(ctx).key, crop_batch(ctx).key


def rho_on(scores: dict[str, tuple[np.ndarray, float]], values: np.ndarray) -> dict[str, float]:
    """Spearman rho of each indicator's finite scores against ``values``."""
    from scipy.stats import spearmanr

    out = {}
    for name, (s, _) in scores.items():
        keep = np.isfinite(s) & np.isfinite(values)
        out[name] = float(spearmanr(s[keep], values[keep])[0])
    return out


def table(results: dict, seconds: dict[str, float], rho_test: dict[str, float]) -> str:
    rows = []
    for name, stats in results["indicators"].items():
        fmt = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
        rows.append([name, fmt(stats.get("spearman_rho")), fmt(stats.get("kendall_tau")), fmt(rho_test.get(name)),
                     fmt(PUBLISHED.get(name, OTHER_REFERENCE.get(name))), str(stats["n"]), str(stats.get("n_nan", 0)),
                     f"{seconds.get(name, float('nan')):.2f}"])
    head = ["proxy", "rho (ours)", "tau (ours)", "rho vs test acc (ours)", "rho (published)", "n", "NaN (dropped)",
            "s/arch"]
    cfg = results["config"]
    return ("# Zero-cost proxies on NB201 CIFAR-10 (cifar10-valid, 200-epoch validation accuracy)\n\n"
            f"{results['ground_truth']['n']} stratified cells (seed {results['seeds']['sample']}), batch "
            f"{cfg['scoring'].get('zc_batch_size')} ({cfg['scoring'].get('zc_batch')} batch policy), model variant `{cfg['scoring'].get('model_variant')}`. Published: "
            "Abdelfattah et al., ICLR 2021 (all 15,625 cells, Spearman rho against the cifar10-valid networks' CIFAR-10 "
            "*test* accuracy, NB201 v1.0: their `nasbench2_pred.py` records `info['test-accuracy']`; "
            "'rho vs test acc' is ours against that target). `fisher_naslib`'s published figure is NAS-Bench-Suite-Zero's "
            "(Krishnakumar et al., NeurIPS 2022 D&B: its per-architecture fisher values, rho against the validation "
            "accuracy on 150 cells).\n\n" + markdown_table(head, rows) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--data-file", default=None, help="an --export-data file instead of --data-dir")
    p.add_argument("--export-data", default=None, metavar="FILE")
    p.add_argument("--benchmark", default="../shared/data/nb201/nb201-v1_1-cifar10-valid-200ep.csv")
    p.add_argument("--sample-archs", type=int, default=1000)
    p.add_argument("--proxies", default=",".join([*PUBLISHED, *OTHER_REFERENCE]))
    p.add_argument("--variant", default="zc")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--zc-batch", choices=("per-arch", "fixed"), default="per-arch",
                   help="per-arch: a random augmented batch per cell, as the reference (default); fixed: one batch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy 2-core machine)")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--out", default="runs/zc-reproduce")
    args = p.parse_args()
    if args.export_data:
        if args.zc_batch != "fixed":
            raise SystemExit("--export-data keeps only the images of the fixed batch policy: add --zc-batch fixed")
        data = load_dataset(NAME, args.data_dir)
        export_data(data, args.seed, args.batch_size, 3000, args.export_data)
        if batch_keys(data, args) != batch_keys(load_data_file(args.export_data), args):
            raise SystemExit("the exported file does not reproduce the scoring batches")
        print(f"wrote {args.export_data}")
        return
    torch.set_num_threads(args.threads)
    scoring = {"model_variant": args.variant, "zc_batch_size": args.batch_size, "zc_batch": args.zc_batch,
               "jobs": args.jobs}
    opts = RunOptions(dataset=NAME, data_dir=args.data_dir, device=args.device, benchmark=args.benchmark,
                      indicators=args.proxies, sample_archs=args.sample_archs, seed=args.seed, out=args.out,
                      n_boot=args.bootstrap, scoring=scoring)
    space, out = get_space("nb201"), Path(args.out)
    truth = load_ground_truth(opts, NAME)
    ops, values = select_archs(space, truth, args.sample_archs, args.seed)
    data = load_data_file(args.data_file) if args.data_file else load_dataset(NAME, args.data_dir)
    ctx = ScoringContext(space=space, network=net_spec(NAME, truth), dataset=data.to(args.device), seed=args.seed,
                         options={**scoring, "cache_dir": str(out)})
    indicators = parse_list(args.proxies)
    scores = score_indicators(indicators, ops, ctx, None, {})
    cfg = train_config(NAME, args.seed)
    results = assemble_results(opts, NAME, cfg, truth, space, indicators, ops, scores, values, ctx.network)
    write_report(out, results, scores_frame(space, ops, scores, values), "truth",
                 {i.name: i.higher_is_better for i in indicators})
    device = torch.cuda.get_device_name() if ctx.dataset.train.x.is_cuda else f"CPU, {torch.get_num_threads()} thread(s)"
    test = load_ground_truth(dataclasses.replace(opts, truth_split="test"), NAME)
    rho_test = rho_on(scores, np.asarray(test.lookup([space.to_str(o) for o in ops]), dtype=float))
    text = table(results, seconds_per_arch(out, [space.to_str(o) for o in ops], args.variant), rho_test) \
        + f"\nDevice: {device}.\n"
    atomic_write_text(out / "zc_reproduction.md", text)
    print(text)


if __name__ == "__main__":
    main()
