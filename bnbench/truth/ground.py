"""A ground truth: one value per architecture for one :class:`TruthSpec`, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np

from bnbench.truth.fail import fail
from bnbench.truth.spec import TruthSpec

_SHOWN = 3  # how many uncovered architectures an error message lists


@dataclass
class GroundTruth:
    """Values of ``spec`` for ``archs`` (the space's truth keys: NB201 official strings, NB101 module hashes),
    in ``archs`` order; ``specs`` holds the architectures' string forms where the keys are not."""

    archs: list[str]
    indices: np.ndarray
    values: np.ndarray
    spec: TruthSpec
    source: str
    aggregation: str = "mean of seeds"
    meta: dict = field(default_factory=dict)
    specs: list[str] | None = None  # each arch in its space's string form, where ``archs`` are keys (NB101 hashes)
    _position: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.archs = list(self.archs)
        self.indices = np.asarray(self.indices, dtype=np.int64)
        self.values = np.asarray(self.values, dtype=np.float64)
        if not (len(self.archs) == len(self.indices) == len(self.values)):
            raise fail(self.source, f"ground truth with {len(self.archs)} archs, {len(self.indices)} indices and "
                                    f"{len(self.values)} values: expected equal lengths")

    def __len__(self) -> int:
        return len(self.archs)

    def description(self) -> str:
        """E.g. ``cifar10-valid / validation / 200 epochs / mean of seeds``."""
        return self.spec.describe(self.aggregation)

    def positions(self, archs: Iterable[str]) -> np.ndarray:
        """Row of each arch in this truth; BenchmarkError listing the first few archs it does not cover."""
        if self._position is None:
            self._position = {a: i for i, a in enumerate(self.archs)}
        archs = list(archs)
        rows = [self._position.get(a, -1) for a in archs]
        missing = [a for a, r in zip(archs, rows) if r < 0]
        if missing:
            shown = ", ".join(missing[:_SHOWN]) + (", ..." if len(missing) > _SHOWN else "")
            raise fail(self.source, f"{len(missing)} of {len(archs)} architectures are not in the ground truth "
                                    f"({self.description()}): {shown}")
        return np.asarray(rows, dtype=np.int64)

    def lookup(self, archs: Sequence[str]) -> np.ndarray:
        """Values for ``archs`` in the given order."""
        return self.values[self.positions(archs)]

    def index_of(self, arch: str) -> int:
        """The official benchmark index of ``arch`` (-1 where the source has none)."""
        return int(self.indices[self.positions([arch])[0]])

    def canonical_order(self) -> GroundTruth:
        """The same truth with rows sorted by benchmark index, then (rows without an index, last) by
        architecture string: samples drawn from it depend on the set of rows, never on the file's row order."""
        missing = self.indices < 0
        order = np.lexsort((np.asarray(self.archs, dtype=object).astype(str), self.indices, missing))
        return self.subset([self.archs[i] for i in order])

    def subset(self, archs: Iterable[str]) -> GroundTruth:
        """The truth restricted to ``archs``, in their order."""
        archs = list(archs)
        rows = self.positions(archs)
        specs = None if self.specs is None else [self.specs[i] for i in rows]
        return replace(self, archs=archs, indices=self.indices[rows], values=self.values[rows], meta=dict(self.meta),
                       specs=specs)

    def arch_strings(self) -> list[str]:
        """Each row's architecture in its space's string form (``specs`` where ``archs`` are keys)."""
        return list(self.specs) if self.specs is not None else list(self.archs)
