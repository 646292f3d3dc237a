"""A search restricted to a fixed set of architectures: the cells a benchmark table holds.

NAS-Bench-101's and NAS-Bench-301's truths that bnbench can read here are samples (a few hundred cells of spaces
of 4e5 and 1e18), so a search over the whole space almost never finds a cell whose true accuracy is known. A search
*within* the table's cells measures what can be measured: how well the fitness guides a search among cells whose
truth is known, against random search over the same cells and the best cell of the table. It is not the search of
the whole space, and a table of a few hundred cells makes random search a strong baseline.

The operators stay the space's own; their results are projected onto the set:

* random architectures are drawn uniformly among the set's cells not yet proposed;
* a mutation or crossover child (``SearchSpace.mutate`` / ``crossover``) becomes the set's cell nearest to it
  that was not yet proposed, nearest by Hamming distance over the space's decisions (``SearchSpace.choices``; an
  unused decision, -1, is a value of its own), ties broken at random. A child the set holds is kept as it is.

Cells are de-duplicated by canonical form (NB101 module hash, DARTS pair order, NB201 isomorphism class).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bnbench.errors import BnbenchError


class Candidates:
    """The architectures a search may propose: ``archs`` ``(m, width)`` encodings of ``space``."""

    def __init__(self, space: Any, archs: np.ndarray, label: str = "candidates"):
        archs = np.asarray(archs, dtype=np.int64)
        if archs.ndim != 2 or not len(archs):
            raise BnbenchError(f"search within {label}: no architecture to search among")
        keys = [space.canonical(row) for row in archs]
        first = list({k: i for i, k in enumerate(keys)}.values())  # one cell per canonical form, in table order
        self.space, self.label = space, label
        self.archs = archs[first]
        self.keys = [keys[i] for i in first]
        self.choices = np.asarray(space.choices(self.archs), dtype=np.int64)
        self._index = {k: i for i, k in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.archs)

    def draw(self, rng: np.random.Generator, n: int, seen: set[str]) -> list[np.ndarray]:
        """Up to ``n`` distinct cells not in ``seen`` (canonical forms), uniformly at random."""
        free = [i for i, k in enumerate(self.keys) if k not in seen]
        picked = rng.permutation(len(free))[:n]
        return [self.archs[free[i]].copy() for i in picked]

    def project(self, child: np.ndarray, rng: np.random.Generator, seen: set[str]) -> np.ndarray | None:
        """The cell of the set nearest to ``child`` (Hamming distance over decisions) not in ``seen``; the child's
        own cell where the set holds it; None when every cell was proposed."""
        own = self._index.get(self.space.canonical(child))
        if own is not None and self.keys[own] not in seen:
            return self.archs[own].copy()
        free = np.array([k not in seen for k in self.keys])
        if not free.any():
            return None
        want = np.asarray(self.space.choices(np.asarray(child, dtype=np.int64)[None]), dtype=np.int64)[0]
        distance = (self.choices != want).sum(axis=1).astype(np.float64)
        distance[~free] = np.inf
        nearest = np.flatnonzero(distance == distance.min())
        return self.archs[int(rng.choice(nearest))].copy()
