"""DARTS genotypes (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019): parse, check, print.

A genotype holds two cells, ``normal`` and ``reduce``, each 8 ``(op, input)`` pairs: pairs ``2i`` and ``2i+1``
are the two inputs of intermediate node ``i`` (0..3). Node ``i`` reads states ``0 .. i+1``: 0 and 1 are the
outputs of the two previous cells (after preprocessing), ``k >= 2`` is intermediate node ``k - 2``; the cell
output concatenates nodes 2..5 (``normal_concat = reduce_concat = [2, 3, 4, 5]``, the only concatenation of the
DARTS / NAS-Bench-301 space). Validity: 8 pairs per cell, ops from :data:`OPS`, every input an earlier state
(``0 <= input <= i + 1``), the two inputs of a node distinct.

String form, as ``cnn/genotypes.py`` of the DARTS code writes it (and the ``genotype`` column of NAS-Bench-301
tables)::

    Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...8 pairs], normal_concat=[2, 3, 4, 5],
             reduce=[('max_pool_3x3', 0), ...8 pairs], reduce_concat=[2, 3, 4, 5])

``range(2, 6)`` (how ``model_search.py`` prints the concatenation) is accepted too. Strings are read by a small
parser over Python's syntax tree (``ast``), never evaluated. **Canonical form**: each node's two pairs sorted by
input; genotypes that differ only in the order of a node's two pairs build the same network (the node sums
them) and share it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Sequence

from bnbench.errors import ArchError

# the 7 genotype ops in DARTS's PRIMITIVES order (cnn/genotypes.py), 'none' excluded: it is a supernet-only op
OPS: tuple[str, ...] = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                        "dil_conv_3x3", "dil_conv_5x5")
NONE = "none"
PARAMETERISED = frozenset({"sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"})
CELL_TYPES = ("normal", "reduce")
NODES = 4  # intermediate nodes per cell
# The cell DARTS (second order) found on CIFAR-10, as published in its ``cnn/genotypes.py`` (``DARTS_V2``): 3.3 M
# parameters at C=36, 20 layers without the auxiliary head (:mod:`bnbench.spaces.darts.model`).
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
            "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
            "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
            "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
            "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
PAIRS = 2 * NODES  # (op, input) pairs per cell
CONCAT = (2, 3, 4, 5)
MAX_TEXT = 4000  # longest string accepted (a genotype prints in under 600 characters)
EXAMPLE = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...8 pairs], normal_concat=[2, 3, 4, 5], "
           "reduce=[...8 pairs], reduce_concat=[2, 3, 4, 5])")

Pair = tuple[str, int]


@dataclass(frozen=True)
class Genotype:
    """A checked DARTS genotype: ``normal`` and ``reduce`` are 8 ``(op, input)`` pairs each."""

    normal: tuple[Pair, ...]
    reduce: tuple[Pair, ...]

    def cell(self, kind: str) -> tuple[Pair, ...]:
        """The pairs of cell type ``kind`` (``normal`` or ``reduce``)."""
        return self.normal if kind == "normal" else self.reduce


def _short(text: Any) -> str:
    text = text if isinstance(text, str) else repr(text)
    return text if len(text) <= 140 else text[:137] + "..."


def make_genotype(normal: Any, reduce: Any, normal_concat: Any = CONCAT, reduce_concat: Any = CONCAT,
                  what: str | None = None) -> Genotype:
    """Check and freeze a genotype given as sequences of ``(op, input)`` pairs; ArchError naming ``what`` (default:
    the genotype's string) for wrong lengths, unknown ops, inputs from a later node or repeated inputs."""
    what = what or f"DARTS genotype {_short(to_str_unchecked(normal, reduce))}"
    cells = []
    for kind, pairs, concat in (("normal", normal, normal_concat), ("reduce", reduce, reduce_concat)):
        if not isinstance(pairs, (list, tuple)):
            raise ArchError(f"{what}: {kind} must be a list of {PAIRS} (op, input) pairs")
        if len(pairs) != PAIRS:
            raise ArchError(f"{what}: {kind} has {len(pairs)} (op, input) pairs, expected {PAIRS} (two per node)")
        checked: list[Pair] = []
        for p, pair in enumerate(pairs):
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str)
                    or isinstance(pair[1], bool) or not isinstance(pair[1], int)):
                raise ArchError(f"{what}: {kind} pair {p} is {_short(pair)}, expected (op name, input index)")
            op, src = pair
            if op not in OPS:
                hint = " (a supernet-only op, not part of a genotype)" if op == NONE else ""
                raise ArchError(f"{what}: unknown op {op!r} in {kind}{hint} (DARTS ops: {', '.join(OPS)})")
            node = p // 2
            if not 0 <= src <= node + 1:
                raise ArchError(f"{what}: {kind} node {node} takes input {src}, not an earlier state (node {node} "
                                f"reads 0..{node + 1}: 0 and 1 are the previous cells, k >= 2 is node k-2)")
            checked.append((op, int(src)))
        for node in range(NODES):
            if checked[2 * node][1] == checked[2 * node + 1][1]:
                raise ArchError(f"{what}: {kind} node {node} takes input {checked[2 * node][1]} twice (a node's two "
                                "inputs must be distinct)")
        if tuple(_concat(concat, what, kind)) != CONCAT:
            raise ArchError(f"{what}: {kind}_concat is {_short(concat)}, expected [2, 3, 4, 5] (the DARTS space "
                            "concatenates the four intermediate nodes)")
        cells.append(tuple(checked))
    return Genotype(cells[0], cells[1])


def _concat(concat: Any, what: str, kind: str) -> tuple[int, ...]:
    if isinstance(concat, range):
        return tuple(concat)
    if isinstance(concat, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in concat):
        return tuple(concat)
    raise ArchError(f"{what}: {kind}_concat is {_short(concat)}, expected [2, 3, 4, 5]")


# --- the safe parser -------------------------------------------------------------------------------------------
_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


class _Bad(Exception):
    """Raised inside the parser; turned into one ArchError naming the input."""


def _literal(node: ast.AST) -> Any:
    """The value of a string / int / list / tuple literal or of ``range(a, b)``; _Bad for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)) and not isinstance(node.value, bool):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) is int):
        return -node.operand.value  # a negative input index: refused by the validity check, with its reason
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and not node.keywords and 1 <= len(node.args) <= 2):
        bounds = [_literal(a) for a in node.args]
        if all(isinstance(b, int) for b in bounds) and all(abs(b) < 100 for b in bounds):
            return range(*bounds)
    raise _Bad(f"unexpected {type(node).__name__} (only strings, integers, lists, tuples and range(a, b))")


def parse(text: str) -> Genotype:
    """A genotype from its string form (module docstring); one-line ArchError naming the input otherwise."""
    if not isinstance(text, str):
        raise ArchError(f"DARTS genotype {_short(text)}: expected a string like {EXAMPLE}")
    what = f"DARTS genotype {_short(text.strip())}"
    if len(text) > MAX_TEXT:
        raise ArchError(f"{what}: {len(text)} characters, too long for a genotype")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ArchError(f"{what}: not a Genotype(...) expression; expected {EXAMPLE}") from None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, (ast.Name, ast.Attribute))
            and (tree.func.id if isinstance(tree.func, ast.Name) else tree.func.attr) == "Genotype"):
        raise ArchError(f"{what}: expected Genotype(normal=[...], normal_concat=[...], reduce=[...], "
                        "reduce_concat=[...])")
    try:
        if len(tree.args) > len(_FIELDS):
            raise _Bad(f"{len(tree.args)} positional fields, Genotype has {len(_FIELDS)}")
        fields = dict(zip(_FIELDS, (_literal(a) for a in tree.args)))
        for kw in tree.keywords:
            if kw.arg not in _FIELDS:
                raise _Bad(f"unknown field {kw.arg!r} (Genotype fields: {', '.join(_FIELDS)})")
            if kw.arg in fields:
                raise _Bad(f"field {kw.arg!r} given twice")
            fields[kw.arg] = _literal(kw.value)
    except _Bad as err:
        raise ArchError(f"{what}: {err}") from None
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise ArchError(f"{what}: missing field {missing[0]!r}; expected {EXAMPLE}")
    return make_genotype(fields["normal"], fields["reduce"], fields["normal_concat"], fields["reduce_concat"], what)


def _cell_str(pairs: Sequence[Any]) -> str:
    return "[" + ", ".join(f"({op!r}, {src})" for op, src in pairs) + "]"


def to_str_unchecked(normal: Any, reduce: Any) -> str:
    """The string form of any pair lists (for messages); :func:`to_str` for a checked genotype."""
    try:
        return (f"Genotype(normal={_cell_str(normal)}, normal_concat=[2, 3, 4, 5], reduce={_cell_str(reduce)}, "
                "reduce_concat=[2, 3, 4, 5])")
    except (TypeError, ValueError):
        return f"Genotype(normal={normal!r}, reduce={reduce!r})"


def to_str(genotype: Genotype) -> str:
    """The DARTS string of a genotype (``[2, 3, 4, 5]`` concatenations, pairs in the genotype's own order)."""
    return to_str_unchecked(genotype.normal, genotype.reduce)


def canonical(genotype: Genotype) -> Genotype:
    """The same genotype with each node's two pairs ordered by input (the order a node sums them in is moot)."""
    def cell(pairs: tuple[Pair, ...]) -> tuple[Pair, ...]:
        out: list[Pair] = []
        for node in range(NODES):
            out.extend(sorted(pairs[2 * node:2 * node + 2], key=lambda p: (p[1], p[0])))
        return tuple(out)

    return Genotype(cell(genotype.normal), cell(genotype.reduce))
