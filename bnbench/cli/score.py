"""``bnbench score``: indicator scores for a set of architectures, one CSV row per architecture."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bnbench.cli import common
from bnbench.errors import ArchError, BnbenchError


def register(sub) -> None:
    p = sub.add_parser("score", help="score architectures with indicators (CSV: arch, one column per indicator)")
    common.add_space(p)
    common.add_data(p)
    common.add_training(p)
    common.add_scoring(p, default=None)
    p.add_argument("--archs", default="all", help="all | N (stratified sample with --seed) | FILE (one arch string per line)")
    p.add_argument("--out", required=True, help="output CSV")
    p.set_defaults(func=run)


def read_arch_file(space, path: Path) -> np.ndarray:
    """Architectures of a text file, one per line (blank lines and '#' comments skipped)."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            rows.append(space.parse(line))
        except ArchError as err:
            raise ArchError(f"{path}:{number}: {err}") from None
    if not rows:
        raise BnbenchError(f"--archs {path}: the file lists no architectures")
    return np.asarray(rows, dtype=np.int64)


def select(space, spec: str, seed: int) -> np.ndarray:
    if spec == "all":
        return space.all_archs()
    if spec.isdigit():
        return space.sample(int(spec), seed)
    path = Path(spec)
    if not path.is_file():
        raise BnbenchError(f"--archs {spec!r}: expected 'all', a number, or an existing file of architecture strings")
    return read_arch_file(space, path)


def run(args: argparse.Namespace) -> int:
    from bnbench.experiment import build_context, net_spec, score_indicators, scores_frame, train_config
    from bnbench.indicators import parse_list
    from bnbench.spaces import get_space
    from bnbench.utils.io import atomic_write_text

    opts = common.run_options(args)
    space = get_space(opts.space)
    indicators = parse_list(opts.indicators)
    name = opts.dataset or "cifar10-valid"
    opts.dataset = name
    archs = select(space, args.archs, opts.seed)
    cfg = train_config(name, opts.seed, **common.train_overrides(args))
    out = Path(args.out)
    opts.out = str(out.with_name(out.stem + "-work"))
    ctx = build_context(opts, indicators, name, None, cfg, Path(opts.out))
    ctx.space, ctx.network = space, net_spec(name)
    scores = score_indicators(indicators, archs, ctx, None, {})
    atomic_write_text(out, scores_frame(space, archs, scores).to_csv(index=False))
    print(f"wrote {len(archs)} architectures x {len(indicators)} indicators to {out}")
    return 0
