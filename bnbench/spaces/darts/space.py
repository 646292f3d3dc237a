"""The DARTS cell space through the search-space interface (:class:`bnbench.spaces.base.SearchSpace`).

Representations: see :mod:`bnbench.spaces.darts` (string, encoding, canonical form, truth key). Decisions: the 14
edges ``node i <- input j`` of the normal cell, then the 14 of the reduction cell, each with the 7 genotype ops
(-1 where the genotype does not use the edge: 6 of each cell's 14).

Options (:class:`DARTSOptions`): ``C`` (``--channels``) and ``layers`` (``--cells``), None for the network
variant's default (``official``: DARTS's CIFAR-10 evaluation network, 36 / 20; ``zc``: NASLib's zero-cost network,
32 / 8; the supernet: 16 / 8); ``auxiliary``, ``drop_path_prob`` (stand-alone networks only), ``bn_every_op``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces.base import Decision, SearchSpace, SpaceOptions
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.encoding import EDGES, WIDTH, canonical_rows, check_rows, choices, decode, encode
from bnbench.spaces.darts import sampling
from bnbench.spaces.darts.sampling import random_genotypes, sample_distinct, strata

SUPERNET_DEFAULTS = dict(C=16, layers=8)  # supernet without C / layers: DARTS's search network (16 / 8)


@dataclass(frozen=True)
class DARTSOptions(SpaceOptions):
    """Build options of DARTS networks and supernets (module docstring; None: the variant's default)."""

    C: int | None = None
    layers: int | None = None
    auxiliary: bool = False
    drop_path_prob: float = 0.0
    bn_every_op: bool = False

    COMMON: ClassVar[dict[str, str]] = {"channels": "C", "cells": "layers"}
    # what None means, shown by `bnbench spaces` (the defaults belong to the network variant)
    DEFAULT_NOTES: ClassVar[dict[str, str]] = {"C": "36 (zc variant: 32)", "layers": "20 (zc variant: 8)"}

    def __post_init__(self) -> None:
        for name in ("C", "layers"):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                number = int(value)
                if isinstance(value, bool) or number != float(value) or number < 1:
                    raise ValueError
            except (TypeError, ValueError):
                raise BnbenchError(f"darts option {name}={value!r}: expected a positive integer") from None
            object.__setattr__(self, name, number)
        if not 0.0 <= float(self.drop_path_prob) < 1.0:
            raise BnbenchError(f"darts option drop_path_prob={self.drop_path_prob!r}: expected 0 <= p < 1")


def _key(arch: Sequence[int]) -> np.ndarray:
    return np.asarray(arch, dtype=np.int64).reshape(1, -1)


class DARTSSpace(SearchSpace):
    """The DARTS cell space (Liu et al., ICLR 2019): a normal and a reduction cell of 4 nodes, 2 inputs each."""

    name = "darts"
    aliases = ("nb301", "nas-bench-301", "nasbench301", "darts-cell", "nb-301")
    summary = ("DARTS cells (NAS-Bench-301): a normal and a reduction cell, 4 nodes x 2 (op, input) pairs, 7 ops; "
               "about 1e18 genotypes")
    decisions = tuple(Decision(f"{kind} edge {i}<-{j}", A.OPS) for kind in A.CELL_TYPES for i, j in EDGES)
    width = WIDTH
    size = None
    Options = DARTSOptions
    variants = ("official", "zc")
    default_truth_epochs = 100  # NAS-Bench-301's training budget
    min_channels = 1
    min_resolution = 4  # FactorizedReduce needs even sides: 4 -> 2 -> 1 through the two reductions
    # Supernet presets. digits: C=4, 3 cells (normal, reduction, reduction: 8x8 -> 4 -> 2); default: C=8, 5 cells
    # (N R N R N). SPOS img/s on one core of this (loaded) 2-core machine, full / BN-only, batch 64: digits 770 /
    # 1,100 (~40 s for the preset's 30 epochs of 1,000 images); CIFAR 8/5 37 / 51; DARTS's search-network size
    # 16/8 12 / 16 (too slow for a CPU default; pass --channels 16 --cells 8)
    presets = {"digits": dict(channels=4, cells=3), "default": dict(channels=8, cells=5)}
    # NAS-Bench-301's CIFAR-10 validation accuracy is measured on images held out of CIFAR-10's training set (its
    # DARTS pipeline), a protocol of its own: labelled nb301-cifar10, and the indicators evaluate on the test set
    truth_datasets = {"cifar10": "nb301-cifar10"}
    truth_image_splits = {("cifar10", "valid"): "train"}
    zc_batch_size = 32  # NAS-Bench-Suite-Zero: one batch of 32 CIFAR-10 training images (NASLib's zc configs)
    record_columns = ("genotype", "arch", "architecture")
    arch_help = ("a DARTS genotype string " + A.EXAMPLE + " (range(2, 6) accepted for the concatenations)")

    # --- representations ---------------------------------------------------------------------------------------
    def parse(self, text: str) -> np.ndarray:
        return encode(A.parse(text))

    def to_str(self, arch: Sequence[int]) -> str:
        return A.to_str(decode(arch))

    def genotype(self, arch: Sequence[int]) -> A.Genotype:
        """The :class:`~bnbench.spaces.darts.arch.Genotype` of an encoded architecture."""
        return decode(arch)

    def canonical(self, arch: Sequence[int]) -> str:
        """The string of the canonical genotype (each node's pairs in input order)."""
        return A.to_str(decode(canonical_rows(_key(arch))[0]))

    def truth_key(self, arch: Sequence[int]) -> str:
        """The canonical string: DARTS truth tables (:mod:`bnbench.truth.darts_csv`) are keyed by it."""
        return self.canonical(arch)

    # --- populations -------------------------------------------------------------------------------------------
    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` genotypes of distinct canonical form drawn uniformly (:mod:`bnbench.spaces.darts.sampling`)."""
        return sample_distinct(int(n), seed)

    def random_paths(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` genotypes drawn uniformly with replacement (SPOS: one path per training step)."""
        return random_genotypes(rng, n)

    def mutate(self, arch: Sequence[int], prob: float, rng: np.random.Generator) -> np.ndarray:
        """Per (op, input) pair: op and input redrawn with probability ``prob`` each, inputs kept distinct
        (:func:`bnbench.spaces.darts.sampling.mutate`)."""
        return sampling.mutate(check_rows(np.asarray(arch)[None])[0], prob, rng)

    def crossover(self, a: Sequence[int], b: Sequence[int], rng: np.random.Generator) -> np.ndarray:
        """Per intermediate node of both cells, its two pairs from either parent
        (:func:`bnbench.spaces.darts.sampling.crossover`)."""
        return sampling.crossover(check_rows(np.asarray(a)[None])[0], check_rows(np.asarray(b)[None])[0], rng)

    def fair_paths(self, rng: np.random.Generator, steps: int) -> np.ndarray:
        """FairNAS strict fairness over the op choices, ``(steps, 7, WIDTH)``: per step one pair of cell
        structures (each node's two inputs) drawn as SPOS draws them, shared by the step's 7 paths, and each used
        edge's op an independent permutation of the 7 ops across them, so every op of every used edge runs exactly
        once per step. The inputs are structure, not op choices: balanced across steps (as in SPOS), not within."""
        from bnbench.spaces.sampling import strict_fair_rows

        rows = random_genotypes(rng, steps)
        m = len(A.OPS)
        out = np.repeat(rows[:, None, :], m, axis=1)
        out[..., 0::2] = strict_fair_rows(rng, steps, [m] * (WIDTH // 2))  # the op column of every (op, input) pair
        return out

    def strata(self, archs: np.ndarray) -> np.ndarray:
        """Number of parameterised ops (sep / dil convolutions) over both cells."""
        return strata(check_rows(archs))

    def conv_ops(self, archs: np.ndarray) -> np.ndarray:
        """Convolution ops (sep_conv, dil_conv) over the normal and the reduction cell (0..16)."""
        return strata(check_rows(archs))

    def choices(self, archs: np.ndarray) -> np.ndarray:
        """``(n, 28)``: the op on each edge of the normal cell, then of the reduction cell; -1 where unused."""
        return choices(archs)

    # --- networks ------------------------------------------------------------------------------------------------
    def network(self, arch: Sequence[int], options: DARTSOptions | None = None, num_classes: int = 10,
                in_channels: int = 3, variant: str = "official", bn: bool = True) -> nn.Module:
        from bnbench.spaces.darts.model import Network

        o = options or DARTSOptions()
        return Network(decode(arch), o.C, o.layers, num_classes, in_channels, o.auxiliary, o.drop_path_prob,
                       o.bn_every_op, variant=variant, bn=bn)

    def supernet(self, options: DARTSOptions | None = None, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
        from bnbench.spaces.darts.supernet import Supernet

        o = options or DARTSOptions()
        return Supernet(o.C or SUPERNET_DEFAULTS["C"], o.layers or SUPERNET_DEFAULTS["layers"], num_classes,
                        in_channels, o.bn_every_op)

    def relaxed_supernet(self, channels: int | None = None, cells: int | None = None, num_classes: int = 10,
                         in_channels: int = 3, partial: int = 1, edge_norm: bool = False,
                         affine: bool = False) -> nn.Module:
        """DARTS's search network (:mod:`bnbench.spaces.darts.relaxed`); default C=16, 8 cells as DARTS searches."""
        from bnbench.spaces.darts.relaxed import RelaxedDartsSupernet

        return RelaxedDartsSupernet(channels or 16, cells or 8, num_classes, in_channels, partial, edge_norm, affine)

    def cost(self, archs: np.ndarray, options: DARTSOptions | None = None, num_classes: int = 10,
             in_channels: int = 3, resolution: int = 32) -> dict[str, np.ndarray]:
        from bnbench.spaces.darts.cost import cost

        o = options or DARTSOptions()
        return cost(archs, o.C, o.layers, num_classes, in_channels, resolution, o.auxiliary, o.bn_every_op)


SPACE = DARTSSpace()
