"""Agreement of bnbench's zero-cost proxies with NAS-Bench-Suite-Zero's published per-architecture values.

NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B) publishes, per architecture, the zero-cost proxies
NASLib computed (``naslib/data/zc_nasbench101.json`` / ``zc_nasbench301.json``, automl/NASLib commit 22280f71;
not shipped with bnbench: pass the file). This scores ``--sample-archs`` cells drawn from the file with bnbench on
the same network (``--model-variant zc``, the space's default width and depth) and batch size (the space's
``zc_batch_size``, 32) and prints, per proxy: Spearman rho and Kendall tau of ours against theirs and the median
ratio ours / theirs; with ``--second-seed``, rho between two bnbench scoring seeds (other weights and batch), the
proxy's own noise floor: a low agreement with the published values is a convention difference only where it is
well below that floor. Scores are kept in ``<out>/zc_scores.jsonl`` (rerun to resume).

    python benchmarks/zc_agreement.py --space darts --published zc_nasbench301.json \\
        --data-dir ../shared/data/cifar10 --sample-archs 30 --seed 0 --second-seed 1

Conventions: they publish synflow as its natural log (NASLib ``zerocost.py``: ln s, -ln(-s) for s < 0), ``flops``
in millions (tensorwatch's count, compared with our ``macs``), ``params`` in millions, ``jacov`` = ``jacob_cov``; params
and macs are counted here on the scored (``zc``) network. Keys: NB301 is NASLib's compact encoding, per cell
8 (input, op index) pairs, op order of ``naslib/search_spaces/nasbench301/conversions.py``; NB101 the flattened
7x7 adjacency followed by 7 op indices (input, output, maxpool3x3, conv1x1-bn-relu, conv3x3-bn-relu).

Measured on 30 NB301 cells (--seed 0 --second-seed 1, fixed batch of 32, one CPU thread, about 50 s per cell
and seed), Spearman ours vs published [ours seed 0 vs seed 1]: synflow 0.999 [1.000], l2_norm 0.998 [0.998],
grad_norm 0.964 [0.966], fisher 0.952 [0.917], snip 0.946 [0.954], grasp 0.392 [0.469], plain 0.247 [0.277],
jacob_cov 0.033 [0.080], epe_nas -0.108 [0.033], params 1.000, macs 0.998 (their flops 5 % above). No proxy
agrees with the published values worse than with itself: no convention difference (README, zero-cost section).
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import random
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

from bnbench.datasets import load_dataset
from bnbench.experiment import net_spec
from bnbench.indicators import ScoringContext, parse_list
from bnbench.spaces import get_space
from bnbench.spaces.counting import measured_cost

PROXIES = ("synflow", "snip", "grad_norm", "fisher", "grasp", "jacob_cov", "plain", "l2_norm", "epe_nas")
PUBLISHED_NAME = {"jacob_cov": "jacov", "macs": "flops"}
BENCHMARK = {"darts": "nasbench301", "nb101": "nasbench101"}
NB301_OPS = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
             "dil_conv_5x5")  # NASLib conversions.py convert_compact_to_genotype
NB101_OPS = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")  # NASLib nasbench101 encoding
DATASET = "cifar10"  # CIFAR-10 training images, as NASLib's zero-cost runner


def key_to_arch(space: str, key: str) -> str:
    """The bnbench architecture string of one published key (module docstring); ValueError for a malformed key."""
    value = ast.literal_eval(key)
    if space == "darts":
        from bnbench.spaces.darts import arch as A

        return A.to_str(A.make_genotype(*[[(NB301_OPS[op], src) for src, op in cell] for cell in value]))
    n = int((math.isqrt(4 * len(value) + 1) - 1) // 2)  # n*n adjacency entries + n ops
    if n * n + n != len(value):
        raise ValueError(f"NB101 key of {len(value)} numbers: expected n*n + n")
    matrix = np.asarray(value[:n * n]).reshape(n, n).tolist()
    return json.dumps({"matrix": matrix, "ops": [NB101_OPS[o] for o in value[n * n:]]})


def published_log(x: float) -> float:
    """NASLib's log of synflow: ln x for x > 0, -ln(-x) for x < 0, 0 kept."""
    return math.log(x) if x > 0 else -math.log(-x) if x < 0 else 0.0


def scored_costs(space, archs: np.ndarray, ctx: ScoringContext, variant: str) -> dict[str, np.ndarray]:
    """Parameters and MACs (millions, one image) of the networks the proxies score."""
    spec = ctx.network
    x = torch.zeros(1, spec.in_channels, spec.resolution, spec.resolution)
    counts = [measured_cost(space.network(row, spec.space_options(space), spec.num_classes, spec.in_channels,
                                          variant=variant), x) for row in archs]
    return {name: np.array([c[name] / 1e6 for c in counts]) for name in ("params", "macs")}


def score(space, archs: np.ndarray, data, seed: int, variant: str, policy: str, out: Path,
          jobs: int) -> dict[str, np.ndarray]:
    """bnbench's values of every compared proxy (synflow as NASLib's log) plus params and macs."""
    ctx = ScoringContext(space=space, network=net_spec(DATASET), dataset=data, seed=seed, progress=False,
                         options={"model_variant": variant, "zc_batch": policy, "cache_dir": str(out), "jobs": jobs})
    values = {ind.name: np.asarray(ind(archs, ctx), dtype=float) for ind in parse_list(",".join(PROXIES))}
    values["synflow"] = np.array([published_log(v) if np.isfinite(v) else np.nan for v in values["synflow"]])
    return {**values, **scored_costs(space, archs, ctx, variant)}


def agreement(a: np.ndarray, b: np.ndarray) -> tuple[int, float, float, float]:
    """(n, Spearman rho, Kendall tau, median a/b) over the pairs where both are finite."""
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    ratio = float(np.median(a / b)) if len(a) and (b != 0).all() else float("nan")
    return int(keep.sum()), float(spearmanr(a, b)[0]), float(kendalltau(a, b)[0]), ratio


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--space", choices=sorted(BENCHMARK), required=True)
    p.add_argument("--published", required=True, help="NASLib's zc_nasbench301.json / zc_nasbench101.json")
    p.add_argument("--data-dir", required=True, help="root holding cifar-10-batches-py/")
    p.add_argument("--sample-archs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0, help="sample of published cells and bnbench scoring seed")
    p.add_argument("--second-seed", type=int, default=None, help="also score with this seed: ours seed-to-seed")
    p.add_argument("--variant", default="zc")
    p.add_argument("--zc-batch", choices=("fixed", "per-arch"), default="fixed",
                   help="fixed: one un-augmented batch; per-arch: a random augmented batch per cell, as NASLib")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default="runs/zc-agreement")
    args = p.parse_args()
    torch.set_num_threads(1)
    published = json.loads(Path(args.published).read_text())[BENCHMARK[args.space]][DATASET]
    keys = sorted(published)
    random.Random(args.seed).shuffle(keys)
    keys = keys[:args.sample_archs]
    space = get_space(args.space)
    archs = space.parse_many([key_to_arch(args.space, k) for k in keys])
    data = load_dataset(DATASET, args.data_dir)
    ours = score(space, archs, data, args.seed, args.variant, args.zc_batch, Path(args.out), args.jobs)
    other = (score(space, archs, data, args.second_seed, args.variant, args.zc_batch, Path(args.out),
                   args.jobs)
             if args.second_seed is not None else {})
    print(f"{args.space}: {len(keys)} published cells (sample seed {args.seed}), variant {args.variant}, batch "
          f"{space.zc_batch_size} ({args.zc_batch}), scoring seed {args.seed}" + (f" [seed-to-seed: {args.second_seed}]" if other else ""))
    print("| proxy | n | Spearman | Kendall | median ours/published | Spearman seed-to-seed |\n|---|---|---|---|---|---|")
    for name, values in ours.items():
        theirs = np.array([published[k].get(PUBLISHED_NAME.get(name, name), np.nan) for k in keys], dtype=float)
        n, rho, tau, ratio = agreement(values, theirs)
        self_rho = f"{agreement(values, other[name])[1]:.3f}" if name in other else "-"
        print(f"| {name} | {n} | {rho:.3f} | {tau:.3f} | {ratio:.3f} | {self_rho} |")


if __name__ == "__main__":
    main()
