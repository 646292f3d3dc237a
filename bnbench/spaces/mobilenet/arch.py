"""MobileNet architectures: one block choice per searchable layer, and their string form.

A block is ``k<kernel>e<expansion>`` (kernel 3/5/7 x expansion 3/6, in BN-NAS's ``config.blocks_keys`` order, so
choice indices equal BN-NAS's op ids) or ``id`` (identity, only in the depth-search space and only on a layer that
is not the first of its stage). An architecture is written as its 21 blocks joined by ``-``::

    k3e3-k5e6-k7e3-k3e6-k5e3-...-k7e6

and encoded as 21 int64 choice indices (``id`` = 6).

**Canonical form.** The layers after the first of a stage all map ``c -> c`` at stride 1, so an identity layer
anywhere in a stage leaves the same stand-alone network: ``k3e3-id-k5e6-...`` and ``k3e3-k5e6-id-...`` build the
same modules in the same order (same parameters, same function). :func:`canonical` moves a stage's identities to
its end. The string form, the encoding and the truth key keep the positions: in the supernet the two are different
paths (each position has its own shared weights), and BN-NAS / SPOS sample and score them per position.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from bnbench.errors import ArchError
from bnbench.spaces.mobilenet.layout import IDENTITY_LAYERS, NUM_LAYERS, layout

BLOCKS: tuple[str, ...] = ("k3e3", "k3e6", "k5e3", "k5e6", "k7e3", "k7e6")
IDENTITY = "id"
ID = len(BLOCKS)  # encoding of the identity choice
KERNEL = (3, 3, 5, 5, 7, 7)
EXPANSION = (3, 6, 3, 6, 3, 6)
SEPARATOR = "-"


def allowed(identity: bool) -> tuple[tuple[str, ...], ...]:
    """The choice names of each of the 21 layers (``id`` last, where allowed)."""
    ids = set(IDENTITY_LAYERS) if identity else set()
    return tuple(BLOCKS + ((IDENTITY,) if i in ids else ()) for i in range(NUM_LAYERS))


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


def parse(text: str, identity: bool) -> np.ndarray:
    """The 21 choice indices of a ``k3e6-k5e3-...`` string; one-line ArchError naming the input otherwise."""
    if not isinstance(text, str):
        raise ArchError(f"MobileNet architecture {text!r}: expected a string such as {to_str([0] * NUM_LAYERS)}")
    tokens = [t.strip().lower() for t in text.strip().split(SEPARATOR)]
    if len(tokens) != NUM_LAYERS:
        raise ArchError(f"MobileNet architecture {_short(text)!r}: {len(tokens)} layers, expected {NUM_LAYERS} "
                        f"blocks joined by '{SEPARATOR}'")
    names = allowed(identity)
    out = np.empty(NUM_LAYERS, dtype=np.int64)
    for i, token in enumerate(tokens):
        if token in names[i]:
            out[i] = names[i].index(token)
        elif token == IDENTITY:
            why = ("it is the first of its stage (it changes width or stride)" if identity
                   else "this space has no identity choice (use the mobilenet-depth space)")
            raise ArchError(f"MobileNet architecture {_short(text)!r}: layer {i} cannot be {IDENTITY}: {why}")
        else:
            raise ArchError(f"MobileNet architecture {_short(text)!r}: layer {i} has unknown block {token!r} "
                            f"(expected one of {', '.join(names[i])})")
    return out


def check_rows(archs: np.ndarray, identity: bool) -> np.ndarray:
    """``archs`` as an ``(n, 21)`` int64 array of valid choices; ArchError otherwise."""
    rows = np.asarray(archs, dtype=np.int64)
    rows = rows.reshape(1, -1) if rows.ndim == 1 else rows
    if rows.ndim != 2 or rows.shape[1] != NUM_LAYERS:
        raise ArchError(f"MobileNet encodings of shape {np.shape(archs)}: expected (n, {NUM_LAYERS})")
    limit = np.array([len(c) for c in allowed(identity)])
    bad = (rows < 0) | (rows >= limit)
    if bad.any():
        r, i = map(int, np.argwhere(bad)[0])
        raise ArchError(f"MobileNet encoding {rows[r].tolist()}: layer {i} has choice {int(rows[r, i])}, expected "
                        f"0..{limit[i] - 1}")
    return rows


def to_str(arch: Sequence[int]) -> str:
    """``k3e3-...`` of one encoded architecture (indices; ``6`` = ``id``)."""
    names = BLOCKS + (IDENTITY,)
    return SEPARATOR.join(names[int(c)] for c in np.asarray(arch).reshape(-1))


def canonical(arch: Sequence[int]) -> str:
    """The string of the same stand-alone network with every stage's identities moved to the stage's end."""
    row = [int(c) for c in np.asarray(arch).reshape(-1)]
    stages: dict[int, list[int]] = {}
    for l in layout().layers:
        stages.setdefault(l.stage, []).append(l.index)
    out = list(row)
    for idx in stages.values():
        blocks = [row[i] for i in idx if row[i] != ID]
        ordered = blocks + [ID] * (len(idx) - len(blocks))
        for i, c in zip(idx, ordered):
            out[i] = c
    return to_str(out)
