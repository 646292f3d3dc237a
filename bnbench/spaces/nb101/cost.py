"""Exact parameter, MAC and FLOP counts of stand-alone NB101 networks, vectorised over encoded cells.

The same closed form as :func:`bnbench.spaces.nb101.model.cost` (which it is tested against), computed for all
cells at once on their ``(n, 7, 7)`` embedded matrices: NB101 costs are not additive over ops (a vertex's width
depends on the whole graph), but :func:`~bnbench.spaces.nb101.model.vertex_channels` is a handful of array
operations per cell position. 10,000 cells take a few milliseconds.

Conventions (``bnbench.indicators.cost``): ``params`` every trainable tensor (BN running statistics excluded;
the benchmark's ``trainable_parameters``); ``macs`` per convolution ``k*k*c_in*c_out*H*W`` (no conv has a bias),
per dense layer ``in*out + out``; ``flops`` 2 per multiply-accumulate, biases not counted:
``2 * (macs - num_classes)``. The official network's ceil-mode downsampling (the ``zc`` variant's floor mode
gives the same sides whenever they are even).
"""

from __future__ import annotations

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.spaces.nb101 import arch as A
from bnbench.spaces.nb101.encoding import NUM_BITS, check_rows, full_matrices

_KERNEL = np.array([3, 1, 0])  # per op index (arch.OPS order); 0: no conv (maxpool3x3)


def vertex_widths(matrices: np.ndarray, used: np.ndarray, c_in: int, c_out: int) -> np.ndarray:
    """``(n, 7)`` widths of the 7 positions (0 where unused) for embedded matrices, as ``vertex_channels``."""
    n = len(matrices)
    feeds = matrices[:, 1:6, 6].astype(bool)
    count = feeds.sum(axis=1)
    if (count > c_out).any():
        worst = int(count.max())
        raise BnbenchError(f"NB101 network: {c_out} channels cannot be split among the {worst} vertices feeding "
                           f"the output (use at least {worst})")
    safe = np.maximum(count, 1)
    share, extra = c_out // safe, c_out % safe
    rank = np.cumsum(feeds, axis=1) - 1
    widths = np.zeros((n, 7), dtype=np.int64)
    widths[:, 0], widths[:, 6] = c_in, c_out
    widths[:, 1:6] = np.where(feeds, share[:, None] + (rank < extra[:, None]), 0)
    for v in range(5, 0, -1):
        later = np.where(matrices[:, v, v + 1:6].astype(bool), widths[:, v + 1:6], 0)
        inner = later.max(axis=1) if later.shape[1] else np.zeros(n, dtype=np.int64)
        widths[:, v] = np.where(used[:, v] & ~feeds[:, v - 1], np.maximum(widths[:, v], inner), widths[:, v])
    return widths


def cost(archs: np.ndarray, stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
         num_classes: int = 10, in_channels: int = 3, bn_every_op: bool = False, resolution: int = 32,
         bn: bool = True) -> dict[str, np.ndarray]:
    """``{"params", "macs", "flops"}`` (int64 counts, one per row of ``archs``) of the official stand-alone
    networks; ArchError for a row that encodes no cell, BnbenchError for impossible options."""
    rows = check_rows(archs)
    for name, value in dict(stem_channels=stem_channels, num_stacks=num_stacks, cells_per_stack=cells_per_stack,
                            num_classes=num_classes, in_channels=in_channels, resolution=resolution).items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise BnbenchError(f"NB101 network option {name}={value!r}: expected a positive integer")
    matrices = full_matrices(rows)
    ops = rows[:, NUM_BITS:]
    used = np.concatenate([np.ones((len(rows), 1), bool), ops >= 0, np.ones((len(rows), 1), bool)], axis=1)
    kernel = np.where(ops >= 0, _KERNEL[np.maximum(ops, 0)], 0)  # (n, 5)
    is_pool = ops == A.OPS.index("maxpool3x3")
    from_input = matrices[:, 0, 1:].astype(np.int64)  # (n, 6): edges 0 -> 1..6
    bnp = 2 if bn else 0
    params = np.full(len(rows), 9 * in_channels * stem_channels + bnp * stem_channels, dtype=np.int64)
    macs = np.full(len(rows), 9 * in_channels * stem_channels * resolution ** 2, dtype=np.int64)
    side, c_in = resolution, stem_channels
    widths: dict[tuple[int, int], np.ndarray] = {}  # the cells of a stack after its first share their widths
    for stack in range(num_stacks):
        c_out = stem_channels * 2 ** stack
        if stack:
            side = -(-side // 2)
        for _ in range(cells_per_stack):
            if (c_in, c_out) not in widths:
                widths[c_in, c_out] = vertex_widths(matrices, used, c_in, c_out)
            w = widths[c_in, c_out]
            proj = from_input * w[:, 1:]  # output width of each input projection (0: no edge)
            params += (proj * (c_in + bnp)).sum(axis=1)
            macs += (proj * c_in).sum(axis=1) * side * side
            wi = w[:, 1:6]
            conv = kernel ** 2 * wi * wi
            params += (conv + bnp * wi * (kernel > 0)).sum(axis=1)
            if bn_every_op:
                params += (bnp * wi * is_pool).sum(axis=1)
            macs += conv.sum(axis=1) * side * side
            c_in = c_out
    params += c_in * num_classes + num_classes
    macs += c_in * num_classes + num_classes
    return {"params": params, "macs": macs, "flops": 2 * (macs - num_classes)}
