"""NAS-Bench-101 through the search-space interface (:class:`bnbench.spaces.base.SearchSpace`).

Representations: see :mod:`bnbench.spaces.nb101` (string, encoding, canonical form, truth key). Decisions: the
op of each of the 5 interior positions (conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3; -1 where unused), then
the 21 edges ``i->j`` of the 7-position DAG (absent / present; -1 where an endpoint is unused).

Options: ``stem_channels`` (``--channels``), ``num_stacks``, ``cells_per_stack`` (``--cells``), ``bn_every_op``.
The benchmark's networks are 128 / 3 / 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Sequence

import numpy as np
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces.base import Decision, SearchSpace, SpaceOptions
from bnbench.spaces.nb101 import arch as A
from bnbench.spaces.nb101.encoding import NUM_BITS, PAIRS, WIDTH, _ROWS, _COLS, check_rows, decode, embed
from bnbench.spaces.nb101 import sampling
from bnbench.spaces.nb101.sampling import random_cells, sample_distinct, strata

NUM_CELLS = 423_624  # unique cells (module-hash classes) of NAS-Bench-101
EDGE_CHOICES = ("absent", "present")


@dataclass(frozen=True)
class NB101Options(SpaceOptions):
    """Build options of NB101 networks and supernets (defaults: the benchmark's CIFAR-10 network)."""

    stem_channels: int = 128
    num_stacks: int = 3
    cells_per_stack: int = 3
    bn_every_op: bool = False

    COMMON: ClassVar[dict[str, str]] = {"channels": "stem_channels", "cells": "cells_per_stack"}

    def __post_init__(self) -> None:
        for name in ("stem_channels", "num_stacks", "cells_per_stack"):
            if getattr(self, name) < 1:
                raise BnbenchError(f"nb101 option {name}={getattr(self, name)}: expected a positive integer")
        if self.stem_channels < NB101Space.min_channels:
            raise BnbenchError(f"nb101 option stem_channels={self.stem_channels}: at least 4 (up to 4 interior "
                               "vertices share a cell's output channels)")


@lru_cache(maxsize=1 << 17)
def _hash(row: tuple[int, ...]) -> str:
    return A.module_hash(decode(row))


def _key(arch: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(arch).reshape(-1))


class NB101Space(SearchSpace):
    """NAS-Bench-101 (Ying et al., ICML 2019): one cell of up to 7 vertices and 9 edges, 3 stacks of 3 cells."""

    name = "nb101"
    aliases = ("nas-bench-101", "nasbench101", "nasbench", "nb-101")
    summary = "NAS-Bench-101 cells: DAGs of up to 7 vertices and 9 edges, 3 vertex ops, unique up to the module hash"
    decisions = (tuple(Decision(f"vertex {p} op", A.OPS) for p in range(1, A.NUM_INTERIOR + 1))
                 + tuple(Decision(f"edge {i}->{j}", EDGE_CHOICES) for i, j in PAIRS))
    width = WIDTH
    size = NUM_CELLS
    Options = NB101Options
    variants = ("official", "zc")
    default_truth_epochs = 108
    min_channels = 4  # narrowest buildable width: up to 4 interior vertices share a cell's output channels
    min_resolution = 4  # smallest input side of the default 3 stacks in the zc variant (floor pools: 4 -> 2 -> 1)
    # SPOS img/s on one core, full / BN-only: digits (16/1, 1x8x8) 2,600 / 4,000, i.e. ~10 s for the digits preset's
    # 30 epochs; default (16/3: the benchmark's 3x3 cells at 1/8 of its width, 32x32) 97 / 127, vs 61 / 77 for
    # NB201's default supernet (C=16, N=5)
    presets = {"digits": dict(channels=16, cells=1), "default": dict(channels=16, cells=3)}
    # NB101 trains on 40k CIFAR-10 images, validates on 10k held out from them and tests on the 10k test set:
    # its truth tables label that protocol nb101-cifar10, distinct from NB201's cifar10 setting
    truth_datasets = {"cifar10": "nb101-cifar10"}
    # its validation images are 10k of CIFAR-10's 50k training images (which ones, this copy cannot tell): for the
    # indicators' images they play the role of training images, so indicators evaluate on the 10k test set
    truth_image_splits = {("cifar10", "valid"): "train"}
    # NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B), the published per-architecture zero-cost values
    # on NB101, scored every cell on one batch of 32 augmented CIFAR-10 training images (NASLib's
    # scripts/zc/create_configs_benchmarks.py default); see bnbench.spaces.nb101.model for the network.
    zc_batch_size = 32
    record_columns = ("arch", "adjacency")  # score --archs table.csv: a JSON spec, or adjacency + ops columns
    arch_help = ('one-line JSON {"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv3x3-bn-relu", '
                 '"output"]} (pruned as the official ModelSpec before it is checked)')

    # --- representations ---------------------------------------------------------------------------------------
    def parse(self, text: str) -> np.ndarray:
        return embed(A.parse(text))

    def parse_record(self, record: dict[str, str]) -> np.ndarray:
        """A table row: ``adjacency`` and ``ops`` columns (JSON, official op names, raw matrices pruned as the
        official ModelSpec does), or an ``arch`` column holding the one-line JSON form."""
        import json

        from bnbench.errors import ArchError

        if record.get("adjacency") is not None and record.get("ops") is not None:
            try:
                spec = {"matrix": json.loads(record["adjacency"]), "ops": json.loads(record["ops"])}
            except json.JSONDecodeError as err:
                raise ArchError(f"NB101 row adjacency={record['adjacency'][:80]!r}: not JSON ({err.msg})") from None
            return self.parse(json.dumps(spec))
        return super().parse_record(record)

    def to_str(self, arch: Sequence[int]) -> str:
        return A.to_str(decode(arch))

    def cell(self, arch: Sequence[int]) -> A.Cell:
        """The pruned :class:`~bnbench.spaces.nb101.arch.Cell` of an encoded architecture."""
        return decode(arch)

    def canonical(self, arch: Sequence[int]) -> str:
        """The official module hash (isomorphism class)."""
        return _hash(_key(arch))

    def truth_key(self, arch: Sequence[int]) -> str:
        """The module hash: what the benchmark (and every NB101 truth table) is keyed by."""
        return _hash(_key(arch))

    # --- populations -------------------------------------------------------------------------------------------
    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` cells of distinct module hash, drawn as NASBench / NASLib draw random specs (uniform over valid
        specs, not over hash classes: see :mod:`bnbench.spaces.nb101.sampling`)."""
        return sample_distinct(int(n), seed, NUM_CELLS)

    def random_paths(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` cells drawn with replacement by the same sampler (SPOS: one path per training step)."""
        return random_cells(rng, n)

    def mutate(self, arch: Sequence[int], prob: float, rng: np.random.Generator) -> np.ndarray:
        """Bit flips and op redraws on the embedded 7-vertex spec, redrawn until valid
        (:func:`bnbench.spaces.nb101.sampling.mutate`)."""
        return sampling.mutate(check_rows(np.asarray(arch)[None])[0], prob, rng)

    def crossover(self, a: Sequence[int], b: Sequence[int], rng: np.random.Generator) -> np.ndarray:
        """Bits and ops of the embedded specs from either parent, redrawn until valid
        (:func:`bnbench.spaces.nb101.sampling.crossover`)."""
        return sampling.crossover(check_rows(np.asarray(a)[None])[0], check_rows(np.asarray(b)[None])[0], rng)

    def fair_paths(self, rng: np.random.Generator, steps: int) -> np.ndarray:
        """FairNAS strict fairness over the op choices, ``(steps, 3, WIDTH)``: per step one cell structure drawn
        as SPOS draws it, shared by the step's 3 paths, and each used position's op an independent permutation of
        the 3 ops across them, so every op of every used position runs exactly once per step. FairNAS (Chu et
        al., ICCV 2021) is defined for layer-wise op choices; the adjacency bits (2 choices, constrained by
        validity) are structure, not ops, and are not balanced within a step (they are across steps, as in SPOS)."""
        from bnbench.spaces.sampling import strict_fair_rows

        rows = random_cells(rng, steps)
        ops = strict_fair_rows(rng, steps, [len(A.OPS)] * A.NUM_INTERIOR)  # (steps, 3, 5)
        out = np.repeat(rows[:, None, :], len(A.OPS), axis=1)
        used = out[..., NUM_BITS:] >= 0
        out[..., NUM_BITS:] = np.where(used, ops, -1)
        return out

    def strata(self, archs: np.ndarray) -> np.ndarray:
        """``100 #conv3x3 + 10 #conv1x1 + #maxpool3x3`` of each pruned cell."""
        return strata(check_rows(archs))

    def conv_ops(self, archs: np.ndarray) -> np.ndarray:
        """Convolution vertices (conv3x3-bn-relu, conv1x1-bn-relu) of each pruned cell."""
        ops = check_rows(archs)[:, NUM_BITS:]
        return ((ops == A.OPS.index("conv3x3-bn-relu")) | (ops == A.OPS.index("conv1x1-bn-relu"))).sum(1).astype(np.int64)

    def choices(self, archs: np.ndarray) -> np.ndarray:
        """``(n, 26)``: the 5 position ops (the encoding's op codes), then the 21 edge bits, -1 where an endpoint
        is unused."""
        rows = check_rows(archs)
        ops = rows[:, NUM_BITS:]
        used = np.concatenate([np.ones((len(rows), 1), bool), ops >= 0, np.ones((len(rows), 1), bool)], axis=1)
        edges = np.where(used[:, _ROWS] & used[:, _COLS], rows[:, :NUM_BITS], -1)
        return np.concatenate([ops, edges], axis=1)

    # --- networks ------------------------------------------------------------------------------------------------
    def network(self, arch: Sequence[int], options: NB101Options | None = None, num_classes: int = 10,
                in_channels: int = 3, variant: str = "official", bn: bool = True) -> nn.Module:
        from bnbench.spaces.nb101.model import Network

        o = options or NB101Options()
        return Network(decode(arch), o.stem_channels, o.num_stacks, o.cells_per_stack, num_classes, in_channels,
                       o.bn_every_op, variant=variant, bn=bn)

    def supernet(self, options: NB101Options | None = None, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
        from bnbench.spaces.nb101.supernet import Supernet

        o = options or NB101Options()
        return Supernet(o.stem_channels, o.num_stacks, o.cells_per_stack, num_classes, in_channels, o.bn_every_op)

    def cost(self, archs: np.ndarray, options: NB101Options | None = None, num_classes: int = 10,
             in_channels: int = 3, resolution: int = 32) -> dict[str, np.ndarray]:
        from bnbench.spaces.nb101.cost import cost

        o = options or NB101Options()
        return cost(archs, o.stem_channels, o.num_stacks, o.cells_per_stack, num_classes, in_channels,
                    o.bn_every_op, resolution)


SPACE = NB101Space()
