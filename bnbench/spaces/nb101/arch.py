"""NAS-Bench-101 cells (Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture Search", ICML 2019).

A cell is a DAG of at most 7 vertices given by an upper-triangular 0/1 adjacency matrix (``matrix[i][j] = 1``:
an edge from vertex i to vertex j > i) and one op per vertex: ``input`` first, ``output`` last, each interior
vertex one of :data:`OPS`. As the official ``ModelSpec`` does, a spec is first **pruned** (vertices that are
not on some input-to-output path are removed, with their edges) and only then checked (at most 7 vertices and
9 edges, input connected to output) and hashed: the **module hash** (``graph_util.hash_module``: iterated MD5
hashing of (out-degree, in-degree, op label) over neighbourhoods, invariant under vertex relabelling) is the
canonical form and the key of every NB101 ground truth.

One-line string form (also the ``score --archs`` line format)::

    {"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv3x3-bn-relu", "output"]}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from bnbench.errors import ArchError

OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")  # the API's canonical op order
INPUT, OUTPUT = "input", "output"
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_INTERIOR = MAX_VERTICES - 2


@dataclass(frozen=True)
class Cell:
    """A pruned, valid NB101 cell: ``matrix`` (V x V, strictly upper triangular) and ``ops`` (V names)."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return int(sum(map(sum, self.matrix)))

    def array(self) -> np.ndarray:
        """The adjacency matrix as an int64 array."""
        return np.asarray(self.matrix, dtype=np.int64).reshape(self.num_vertices, self.num_vertices)


def _describe(matrix: Any, ops: Any) -> str:
    text = to_json(matrix, ops)
    return text if len(text) <= 160 else text[:157] + "..."


def to_json(matrix: Any, ops: Any) -> str:
    """``{"matrix": ..., "ops": ...}`` on one line (whatever the input, for messages)."""
    try:
        m = np.asarray(matrix).astype(int).tolist()
    except (TypeError, ValueError):
        m = matrix
    return json.dumps({"matrix": m, "ops": list(ops) if isinstance(ops, (list, tuple)) else ops},
                      separators=(", ", ": "), default=str)


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, list[str]] | None:
    """Remove vertices off every input-to-output path (official ``ModelSpec._prune``); None if input and output
    are not connected."""
    n = matrix.shape[0]
    from_input, frontier = {0}, [0]
    while frontier:
        top = frontier.pop()
        for v in range(top + 1, n):
            if matrix[top, v] and v not in from_input:
                from_input.add(v)
                frontier.append(v)
    to_output, frontier = {n - 1}, [n - 1]
    while frontier:
        top = frontier.pop()
        for v in range(0, top):
            if matrix[v, top] and v not in to_output:
                to_output.add(v)
                frontier.append(v)
    extraneous = sorted(set(range(n)) - (from_input & to_output))
    if len(extraneous) > n - 2 or n - 1 not in from_input:
        return None
    keep = [v for v in range(n) if v not in extraneous]
    return matrix[np.ix_(keep, keep)], [ops[v] for v in keep]


def make_cell(matrix: Any, ops: Any) -> Cell:
    """Validate, prune and freeze a spec; :class:`ArchError` naming the spec for anything invalid.

    Checks (as the official API): a square 0/1 matrix of at most 7 vertices, strictly upper triangular, one op
    per vertex with ``input`` first, ``output`` last and :data:`OPS` between; after pruning, input connected to
    output and at most 9 edges.
    """
    what = f"NB101 cell {_describe(matrix, ops)}"
    try:
        m = np.asarray(matrix)
        if m.dtype == object or m.ndim != 2:
            raise ValueError
        m = m.astype(np.float64)
    except (TypeError, ValueError):
        raise ArchError(f"{what}: the matrix must be a square list of 0/1 rows") from None
    if m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise ArchError(f"{what}: the matrix must be square with at least 2 vertices, got shape {m.shape}")
    if m.shape[0] > MAX_VERTICES:
        raise ArchError(f"{what}: {m.shape[0]} vertices, more than NB101's {MAX_VERTICES}")
    if not np.isin(m, (0, 1)).all():
        raise ArchError(f"{what}: matrix entries must be 0 or 1")
    m = m.astype(np.int64)
    if np.tril(m).any():
        raise ArchError(f"{what}: the matrix is not strictly upper triangular (edges must go from a vertex to a "
                        "later one)")
    if not isinstance(ops, (list, tuple)) or not all(isinstance(o, str) for o in ops):
        raise ArchError(f"{what}: ops must be a list of op names")
    if len(ops) != m.shape[0]:
        raise ArchError(f"{what}: {len(ops)} ops for {m.shape[0]} vertices")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise ArchError(f"{what}: the first op must be {INPUT!r} and the last {OUTPUT!r}")
    unknown = [o for o in ops[1:-1] if o not in OPS]
    if unknown:
        raise ArchError(f"{what}: unknown op {unknown[0]!r} (NB101 ops: {', '.join(OPS)})")
    pruned = prune(m, list(ops))
    if pruned is None:
        raise ArchError(f"{what}: no path from input to output")
    pm, pops = pruned
    if pm.sum() > MAX_EDGES:
        raise ArchError(f"{what}: {int(pm.sum())} edges after pruning, more than NB101's {MAX_EDGES}")
    return Cell(tuple(tuple(int(v) for v in row) for row in pm), tuple(pops))


def parse(text: str) -> Cell:
    """A cell from its one-line JSON form ``{"matrix": [[...]], "ops": [...]}``."""
    if not isinstance(text, str):
        raise ArchError(f"NB101 cell {text!r}: expected a JSON string like {{\"matrix\": [[...]], \"ops\": [...]}}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ArchError(f"NB101 cell {text[:120]!r}: not JSON ({err.msg}); expected "
                        '{"matrix": [[...]], "ops": [...]}') from None
    if not isinstance(data, dict) or set(data) != {"matrix", "ops"}:
        raise ArchError(f"NB101 cell {text[:120]!r}: expected exactly the keys 'matrix' and 'ops'")
    return make_cell(data["matrix"], data["ops"])


def to_str(cell: Cell) -> str:
    """The one-line JSON form of a (pruned) cell."""
    return json.dumps({"matrix": [list(r) for r in cell.matrix], "ops": list(cell.ops)}, separators=(", ", ": "))


def module_hash(cell: Cell) -> str:
    """The official NB101 module hash (``graph_util.hash_module`` with the API's op labels)."""
    matrix = cell.matrix  # plain tuples: ~5x faster than indexing an array here
    labels = [-1] + [OPS.index(o) for o in cell.ops[1:-1]] + [-2]
    n = len(labels)
    preds = [[w for w in range(n) if matrix[w][v]] for v in range(n)]
    succs = [[w for w in range(n) if matrix[v][w]] for v in range(n)]
    hashes = [hashlib.md5(str((len(succs[v]), len(preds[v]), labels[v])).encode("utf-8")).hexdigest()
              for v in range(n)]
    for _ in range(n):
        hashes = [hashlib.md5(("".join(sorted(hashes[w] for w in preds[v])) + "|"
                               + "".join(sorted(hashes[w] for w in succs[v])) + "|"
                               + hashes[v]).encode("utf-8")).hexdigest() for v in range(n)]
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()
