"""``bnbench score``: indicator scores for a set of architectures, one CSV row per architecture."""

from __future__ import annotations

import argparse
import csv
import sys
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
    p.add_argument("--archs", default="all", help="all | N (N distinct architectures drawn with --seed: a stratified sample of an enumerable space such as NB201, valid specs drawn uniformly in NB101) | FILE (one arch string per line, or a CSV table with the space's architecture columns)")
    p.add_argument("--out", required=True, help="output CSV")
    p.add_argument("--truth-split", default=None,
                   help="train | valid | test | kfold: the truth these scores will be correlated with; indicators "
                        "evaluate on images disjoint from its images (default: the dataset's usual truth)")
    p.set_defaults(func=run)


def _entries(space, path: Path):
    """(line number, text for messages, parse thunk) of every architecture of ``path``: one per line, or one per
    row of a CSV table whose header names the space's record columns (e.g. NB101's ``adjacency,ops``)."""
    lines = path.read_text().splitlines()
    body = [(n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip() and not line.strip().startswith("#")]
    if body and set(f.strip() for f in next(csv.reader([body[0][1]]))) & set(space.record_columns):
        reader = csv.DictReader(line for _, line in body)
        for (number, line), record in zip(body[1:], reader):
            yield number, line, lambda record=record: space.parse_record(record)
        return
    for number, line in body:
        yield number, line, lambda line=line: space.parse(line)


def read_arch_file(space, path: Path) -> np.ndarray:
    """Architectures of a text file, one per line (blank lines and '#' comments skipped), or of a CSV table
    whose header names the space's record columns (``SearchSpace.record_columns``), rows in file order.

    Each architecture is scored once, in the order of its first line: a repeated cell (the same cell after
    parsing, e.g. the same string twice) is skipped with a one-line warning on stderr naming the first repeat
    and the number skipped.  Isomorphic but different cells are distinct benchmark entries and are all kept.
    """
    rows: list[tuple[int, ...]] = []
    first_line: dict[tuple[int, ...], int] = {}
    repeats: list[tuple[int, int, str]] = []  # (line, line of its first occurrence, text)
    for number, line, parse in _entries(space, path):
        try:
            ops = tuple(int(o) for o in parse())
        except ArchError as err:
            raise ArchError(f"{path}:{number}: {err}") from None
        if ops in first_line:
            repeats.append((number, first_line[ops], line))
            continue
        first_line[ops] = number
        rows.append(ops)
    if not rows:
        raise BnbenchError(f"--archs {path}: the file lists no architectures")
    if repeats:
        number, first, text = repeats[0]
        print(f"bnbench: warning: --archs {path}: {len(repeats)} repeated line(s) skipped, each architecture is "
              f"scored once (first repeat: line {number}, {text}, already on line {first})", file=sys.stderr)
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
    from bnbench.experiment import build_context, dataset_name, net_spec, score_indicators, scores_frame, train_config
    from bnbench.indicators import parse_list
    from bnbench.spaces import get_space
    from bnbench.utils.io import atomic_write_text

    opts = common.run_options(args)
    space = get_space(opts.space)
    indicators = parse_list(opts.indicators)
    name = dataset_name(opts, without_data="cifar10-valid")  # the rule correlate and train-supernet share
    opts.dataset = name
    archs = select(space, args.archs, opts.seed)
    cfg = train_config(name, opts.seed, **common.train_overrides(args))
    out = Path(args.out)
    opts.out = str(out.with_name(out.stem + "-work"))
    ctx = build_context(opts, indicators, name, None, cfg, Path(opts.out))
    ctx.space, ctx.network = space, net_spec(name)
    scores = score_indicators(indicators, archs, ctx, None, {})
    atomic_write_text(out, scores_frame(space, archs, scores).to_csv(index=False))
    if ctx.dataset is not None:
        print(f"images: {ctx.dataset.description}")
    print(f"wrote {len(archs)} architectures x {len(indicators)} indicators to {out}")
    return 0
