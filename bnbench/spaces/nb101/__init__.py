"""NAS-Bench-101 search space (Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture Search",
ICML 2019): cells, stand-alone networks, weight-sharing supernet, sampling, exact cost.

Representations, and how to walk them:

* **string**: the one-line JSON spec ``{"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input",
  "conv3x3-bn-relu", "output"]}``; a spec is pruned (vertices off every input-to-output path removed) and only
  then checked, as the official ``ModelSpec`` does, so unpruned benchmark matrices parse; ``to_str`` gives the
  pruned cell (:mod:`~bnbench.spaces.nb101.arch`: ``parse``, ``make_cell``, ``to_str``).
* **encoding**: 26 int64 per cell: the 21 upper-triangular adjacency bits of the pruned cell embedded in 7
  positions (input 0, its interior vertices at 1..k in their order, output 6), then the op of positions 1..5
  (index into ``arch.OPS``, -1 where unused) (:mod:`~bnbench.spaces.nb101.encoding`: ``embed``, ``decode``,
  ``check_rows``). ``parse(to_str(row)) == row`` exactly; isomorphic cells given in different vertex orders keep
  different rows (and the same hash).
* **decisions / choices**: the 5 position ops, then the 21 edges (absent / present); ``choices`` is -1 where a
  position is unused or an edge has an unused endpoint.
* **canonical form** and **truth key**: the official module hash (``arch.module_hash``), which every NB101
  ground truth is keyed by.
* **population**: 423,624 cells, too many to materialise (``all_archs`` raises; there is no enumeration order
  short of hashing every one of the ~510 million labelled specs). ``sample(n, seed)`` draws distinct cells
  with the NASBench / NASLib random-spec sampler, ``random_paths`` the same with replacement
  (:mod:`~bnbench.spaces.nb101.sampling`, which states the distribution).

Networks: :mod:`~bnbench.spaces.nb101.model` (the stand-alone network as the official TF code builds it;
variants ``official`` and ``zc``), :mod:`~bnbench.spaces.nb101.supernet` (the weight-sharing supernet and its op
slots), :mod:`~bnbench.spaces.nb101.cost` (vectorised exact params / MACs / FLOPs). The interface adapter is
``SPACE`` (:mod:`~bnbench.spaces.nb101.space`).
"""

from __future__ import annotations

from bnbench.spaces.nb101.space import SPACE, NB101Options, NB101Space

__all__ = ["NB101Options", "NB101Space", "SPACE"]
