"""NAS-Bench-201 cell encoding (Dong & Yang, ICLR 2020).

A cell is a DAG over 4 nodes; node ``j`` sums one operation applied to every earlier node ``i < j``,
so a cell is 6 operations on the edges (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2), each one of
:data:`OPS`. The official string lists them node by node::

    |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|

Internally a cell is a tuple of 6 op indices (edge order above); ``encode`` maps it to an integer
code ``sum(op_e * 5**e)`` so that all 15,625 cells are the integers ``0..15624``. That code is an
enumeration order, *not* the benchmark's own index, which comes from the ground-truth source.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from bnbench.errors import ArchError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4
EDGES: tuple[tuple[int, int], ...] = tuple((j, i) for j in range(1, NUM_NODES) for i in range(j))  # (to, from)
NUM_EDGES = len(EDGES)
NUM_ARCHS = len(OPS) ** NUM_EDGES

Arch = tuple[int, ...]
_TOKEN = re.compile(r"^(?P<op>[A-Za-z0-9_]+)~(?P<src>\d+)$")


def parse(text: str) -> Arch:
    """Parse an official NB201 string into a tuple of 6 op indices; :class:`ArchError` when malformed."""
    if not isinstance(text, str):
        raise ArchError(f"architecture {text!r}: expected a string like '|nor_conv_3x3~0|+|...|'")
    nodes = text.strip().split("+")
    if len(nodes) != NUM_NODES - 1:
        raise ArchError(f"architecture {text!r}: expected {NUM_NODES - 1} nodes separated by '+', got {len(nodes)}")
    ops: list[int] = []
    for j, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
            raise ArchError(f"architecture {text!r}: node {j} {node!r} must be enclosed in '|'")
        tokens = node[1:-1].split("|")
        if len(tokens) != j:
            raise ArchError(f"architecture {text!r}: node {j} needs {j} inputs, got {len(tokens)}")
        for i, token in enumerate(tokens):
            ops.append(_parse_token(text, token, expected_src=i))
    return tuple(ops)


def _parse_token(text: str, token: str, expected_src: int) -> int:
    match = _TOKEN.match(token)
    if not match:
        raise ArchError(f"architecture {text!r}: malformed edge {token!r} (expected op~input)")
    op, src = match["op"], int(match["src"])
    if op not in OPS:
        raise ArchError(f"architecture {text!r}: unknown op {op!r} (NB201 ops: {', '.join(OPS)})")
    if src != expected_src:
        raise ArchError(f"architecture {text!r}: edge {token!r} should read from node {expected_src}")
    return OPS.index(op)


def to_str(arch: Sequence[int]) -> str:
    """Official NB201 string of a tuple of 6 op indices."""
    check(arch)
    parts, e = [], 0
    for j in range(1, NUM_NODES):
        parts.append("|" + "|".join(f"{OPS[arch[e + i]]}~{i}" for i in range(j)) + "|")
        e += j
    return "+".join(parts)


def check(arch: Sequence[int]) -> Arch:
    arch = tuple(int(o) for o in arch)
    if len(arch) != NUM_EDGES or any(not 0 <= o < len(OPS) for o in arch):
        raise ArchError(f"architecture {arch!r}: expected {NUM_EDGES} op indices in 0..{len(OPS) - 1}")
    return arch


def encode(arch: Sequence[int]) -> int:
    """Enumeration code of a cell: ``sum(op_e * 5**e)``."""
    return int(sum(o * len(OPS) ** e for e, o in enumerate(check(arch))))


def decode(code: int) -> Arch:
    if not 0 <= code < NUM_ARCHS:
        raise ArchError(f"architecture code {code}: expected 0..{NUM_ARCHS - 1}")
    return tuple((code // len(OPS) ** e) % len(OPS) for e in range(NUM_EDGES))


def all_archs() -> list[Arch]:
    """All 15,625 cells in enumeration-code order."""
    return [decode(c) for c in range(NUM_ARCHS)]


def ops_matrix(archs: Iterable[Sequence[int]]) -> np.ndarray:
    """``(n, 6)`` int64 matrix of op indices, the input of vectorised scorers."""
    return np.asarray([check(a) for a in archs], dtype=np.int64).reshape(-1, NUM_EDGES)


def parse_many(texts: Iterable[str]) -> np.ndarray:
    return ops_matrix(parse(t) for t in texts)


def sample(n: int, rng: np.random.Generator, replace: bool = False) -> list[Arch]:
    """``n`` cells drawn uniformly (without replacement unless ``replace``)."""
    codes = rng.choice(NUM_ARCHS, size=n, replace=replace)
    return [decode(int(c)) for c in codes]


def canonical(arch: Sequence[int] | str) -> str:
    """Isomorphism-canonical form, identical to NATS-Bench's ``UniqueString``.

    Each node is a symbolic sum of its inputs: ``skip_connect`` passes the input expression through,
    a parametric op or pool wraps it as ``(expr)@op``, ``none`` gives the zero ``#``; terms are sorted
    so that the order of summands does not matter. As in NATS-Bench (``to_unique_str(consider_zero=True)``),
    an edge is zero when its op is ``none`` or its source expression is exactly ``#`` (a node whose
    only input is zero); sums that contain zeros keep them, which yields the benchmark's 6,466 classes.
    """
    ops = parse(arch) if isinstance(arch, str) else check(arch)
    nodes = ["0"]
    for e0, j in _node_slices():
        terms = [_term(OPS[ops[e0 + i]], nodes[i]) for i in range(j)]
        nodes.append("+".join(sorted(terms)))
    return nodes[-1]


def _node_slices() -> list[tuple[int, int]]:
    return [(j * (j - 1) // 2, j) for j in range(1, NUM_NODES)]


def _term(op: str, src: str) -> str:
    if op == "none" or src == "#":
        return "#"
    if op == "skip_connect":
        return src
    return f"({src})@{op}"


def all_canonical() -> list[str]:
    """Canonical form of every cell, in enumeration-code order (memoised)."""
    global _CANON
    if _CANON is None:
        _CANON = [canonical(a) for a in all_archs()]
    return _CANON


_CANON: list[str] | None = None
