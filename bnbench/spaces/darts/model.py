"""The stand-alone DARTS CIFAR network (quark0/darts ``cnn/model.py`` ``NetworkCIFAR``, ``Cell``,
``AuxiliaryHeadCIFAR``; Liu et al., ICLR 2019).

Skeleton: stem Conv3x3 (``in_channels`` -> ``3C``, no bias) + BN -> ``layers`` cells -> global average pool ->
linear classifier (with bias). Cells ``layers // 3`` and ``2 * layers // 3`` are **reduction cells** (the
reduction genotype; their edges from the two cell inputs have stride 2; the width ``C`` doubles there), the others
**normal cells**. Every cell takes the outputs ``s0``, ``s1`` of the two cells before it (the stem's output twice
for the first), preprocesses them to its width ``c`` (``s0`` by :class:`~bnbench.spaces.darts.ops.FactorizedReduce`
when the previous cell reduced, else by a 1x1 ReLU-conv-BN; ``s1`` by a 1x1 ReLU-conv-BN), computes its four nodes
(each the sum of its two ops) and outputs their concatenation (``4c`` channels).

Options: ``auxiliary`` adds DARTS's auxiliary head (ReLU, 5x5 average pool stride 3, 1x1 conv to 128 + BN + ReLU,
2x2 conv to 768 + BN + ReLU, linear) on the output of cell ``2 * layers // 3``; it needs that feature map to be at
least 8x8 (32x32 inputs). Its logits are kept in ``aux_logits`` after a training-mode forward (the forward returns
the main logits only, as every bnbench network); :meth:`NetworkCIFAR.auxiliary_loss` is DARTS's
``auxiliary_weight`` (0.4) x the cross-entropy of those logits, which bnbench's stand-alone training adds to the loss.
``drop_path_prob``: in training mode, every op output except the identity is dropped per sample with this
probability and rescaled (DARTS's ``drop_path``); 0 (off) by default. Stand-alone training ramps it as DARTS's
``train.py`` does (``drop_path_prob * epoch / epochs`` at the start of each epoch, :meth:`NetworkCIFAR.set_progress`);
a network nobody ramps drops with ``drop_path_prob`` throughout.

Model variants (:data:`VARIANTS`), same skeleton:

* ``official``: as ``NetworkCIFAR``: affine BNs, poolings without BN, PyTorch's default initialisation. Defaults
  C = 36, 20 layers (DARTS's CIFAR-10 evaluation network).
* ``zc``: the network NASLib scores zero-cost proxies on for NAS-Bench-301 cells
  (``naslib/search_spaces/nasbench301/graph.py``; NAS-Bench-Suite-Zero): cell ops with non-affine BNs (the search
  network's ``affine=False``, ``FactorizedReduce`` of a reduction cell's ``skip_connect`` included), each pooling
  followed by a non-affine BN, stem and preprocessing affine, no auxiliary head; defaults C = 32, 8 layers (the
  widths of NASLib commit 22280f71, which wrote NAS-Bench-Suite-Zero's values: its per-architecture ``params``
  equal this network's count exactly, e.g. 1,204,906 for the first cell of ``zc_nasbench301.json``).

``bn=False`` drops every BN (synflow's copy); ``bn_every_op`` adds a trainable BN after the stride-1
``skip_connect`` and the poolings.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from bnbench.errors import ArchError, BnbenchError
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.ops import FactorizedReduce, ReLUConvBN, make_op, norm
from bnbench.spaces.nb101.model import GlobalAvgPool

VARIANTS: dict[str, dict[str, Any]] = {
    "official": dict(affine=True, pool_bn=False, C=36, layers=20),
    "zc": dict(affine=False, pool_bn=True, C=32, layers=8),
}
STEM_MULTIPLIER = 3
AUXILIARY_WEIGHT = 0.4  # DARTS train.py --auxiliary_weight


def reduction_cells(layers: int) -> tuple[int, ...]:
    """Indices of the reduction cells: ``layers // 3`` and ``2 * layers // 3`` (one cell when they coincide)."""
    return tuple(sorted({layers // 3, 2 * layers // 3}))


def cell_layout(C: int, layers: int) -> list[tuple[int, int, int, bool, bool]]:
    """``(c_pp, c_p, c, reduction, reduction_prev)`` of each cell: the widths of its two inputs and of its nodes,
    whether it reduces and whether the cell before it did. The stem gives ``3C``; a reduction cell doubles ``c``;
    a cell outputs its 4 nodes concatenated (``4c``), which is the next cells' input."""
    out = []
    c_pp = c_p = STEM_MULTIPLIER * C
    c, reduction_prev = C, False
    reductions = reduction_cells(layers)
    for i in range(layers):
        reduction = i in reductions
        c = 2 * c if reduction else c
        out.append((c_pp, c_p, c, reduction, reduction_prev))
        reduction_prev = reduction
        c_pp, c_p = c_p, A.NODES * c
    return out


def drop_path(x: torch.Tensor, prob: float) -> torch.Tensor:
    """DARTS's drop-path: each sample's tensor zeroed with probability ``prob``, the rest scaled by 1/(1-prob)."""
    keep = 1.0 - prob
    mask = torch.empty(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class Cell(nn.Module):
    """One DARTS cell for the pairs of one cell type (``reduction``: the reduce pairs, stride 2 from inputs 0/1).

    ``preprocess0``, ``preprocess1``: the input preprocessing; ``ops[p]``: the op of pair ``p``; ``inputs[p]``:
    its input state. Forward ``(s0, s1) -> (B, 4c, H', W')``."""

    def __init__(self, pairs: tuple[A.Pair, ...], c_pp: int, c_p: int, c: int, reduction: bool,
                 reduction_prev: bool, *, affine: bool = True, pool_bn: bool = False, bn_every_op: bool = False,
                 use_bn: bool = True):
        super().__init__()
        self.reduction, self.channels = reduction, c
        self.preprocess0 = (FactorizedReduce(c_pp, c, True, use_bn) if reduction_prev
                            else ReLUConvBN(c_pp, c, use_bn=use_bn))
        self.preprocess1 = ReLUConvBN(c_p, c, use_bn=use_bn)
        self.inputs = tuple(src for _, src in pairs)
        self.identity = tuple(op == "skip_connect" and not (reduction and src < 2) for op, src in pairs)
        self.ops = nn.ModuleList(
            make_op(op, c, 2 if reduction and src < 2 else 1, affine=affine, use_bn=use_bn, pool_bn=pool_bn,
                    bn_every_op=bn_every_op) for op, src in pairs)
        self.drop_prob = 0.0

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(A.NODES):
            total = None
            for p in (2 * node, 2 * node + 1):
                h = self.ops[p](states[self.inputs[p]])
                if self.training and self.drop_prob > 0.0 and not self.identity[p]:
                    h = drop_path(h, self.drop_prob)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat(states[2:], dim=1)


class AuxiliaryHead(nn.Module):
    """DARTS's ``AuxiliaryHeadCIFAR`` (assumes an 8x8 input): (B, c, 8, 8) -> (B, num_classes)."""

    def __init__(self, c: int, num_classes: int, use_bn: bool = True):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), *norm(128, True, use_bn), nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False), *norm(768, True, use_bn), nn.ReLU(inplace=False))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] < 8 or x.shape[-2] < 8:
            raise BnbenchError(f"DARTS auxiliary head: a {x.shape[-2]}x{x.shape[-1]} feature map, it needs at least "
                               "8x8 (32x32 inputs); build the network without auxiliary")
        return self.classifier(self.features(x).flatten(1))


class Network(nn.Module):
    """A stand-alone DARTS network (``NetworkCIFAR``) for one genotype; see the module docstring.

    ``C`` / ``layers``: None for the variant's default. Input (B, in_channels, H, W) with H, W divisible by 4 (by 2
    with a single reduction cell); output logits (B, num_classes).
    """

    def __init__(self, genotype: A.Genotype | str, C: int | None = None, layers: int | None = None,
                 num_classes: int = 10, in_channels: int = 3, auxiliary: bool = False, drop_path_prob: float = 0.0,
                 bn_every_op: bool = False, *, variant: str = "official", bn: bool = True):
        super().__init__()
        if variant not in VARIANTS:
            raise BnbenchError(f"DARTS model variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        cfg = VARIANTS[variant]
        C, layers = C or cfg["C"], layers or cfg["layers"]
        self.genotype = genotype if isinstance(genotype, A.Genotype) else _parse(genotype)
        check_options(C=C, layers=layers, num_classes=num_classes, in_channels=in_channels)
        self.C, self.layers, self.num_classes, self.variant = C, layers, num_classes, variant
        self.auxiliary, self.drop_path_prob = bool(auxiliary), float(drop_path_prob)
        self.drop_path_now = self.drop_path_prob  # the probability the next forward uses (set_progress ramps it)
        c = STEM_MULTIPLIER * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), *norm(c, True, bn))
        self.cells = nn.ModuleList()
        c_aux = c
        for i, (c_pp, c_p, c, reduction, reduction_prev) in enumerate(cell_layout(C, layers)):
            pairs = self.genotype.reduce if reduction else self.genotype.normal
            self.cells.append(Cell(pairs, c_pp, c_p, c, reduction, reduction_prev, affine=cfg["affine"],
                                   pool_bn=cfg["pool_bn"], bn_every_op=bn_every_op, use_bn=bn))
            if i == 2 * layers // 3:
                c_aux = A.NODES * c
        c_p = A.NODES * c
        self.aux_index = 2 * layers // 3
        self.auxiliary_head = AuxiliaryHead(c_aux, num_classes, bn) if auxiliary else None
        self.aux_logits: torch.Tensor | None = None
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(c_p, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features (B, 4 * C * 4): the last cell's output averaged over H and W."""
        self.aux_logits = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            if cell.reduction and (s1.shape[-1] % 2 or s1.shape[-2] % 2):
                raise BnbenchError(f"DARTS network: reduction cell {i} gets a {s1.shape[-2]}x{s1.shape[-1]} feature "
                                   "map; its FactorizedReduce needs even sides (use inputs divisible by 4)")
            cell.drop_prob = self.drop_path_now
            s0, s1 = s1, cell(s0, s1)
            if i == self.aux_index and self.auxiliary_head is not None and self.training:
                self.aux_logits = self.auxiliary_head(s1)
        return self.global_pooling(s1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def set_progress(self, fraction: float) -> None:
        """DARTS's drop-path schedule: ``drop_path_prob * fraction`` from now on (``fraction = epoch / epochs``,
        set at the start of each epoch as DARTS's ``train.py``: 0 in the first epoch)."""
        self.drop_path_now = self.drop_path_prob * float(fraction)

    def auxiliary_loss(self, y: torch.Tensor) -> torch.Tensor | None:
        """``AUXILIARY_WEIGHT`` x cross-entropy of the auxiliary logits of the last training-mode forward against
        ``y`` (B,) (DARTS's ``loss += args.auxiliary_weight * criterion(logits_aux, target)``); None without them."""
        if self.aux_logits is None:
            return None
        return AUXILIARY_WEIGHT * nn.functional.cross_entropy(self.aux_logits, y)


def count_params(model: nn.Module, auxiliary: bool = True) -> int:
    """Trainable parameters (BN running statistics excluded); ``auxiliary=False`` leaves out the auxiliary head,
    as DARTS's ``count_parameters_in_MB`` (every named parameter without "auxiliary" in its name)."""
    return sum(p.numel() for name, p in model.named_parameters() if auxiliary or "auxiliary" not in name)


def _parse(text: Any) -> A.Genotype:
    if isinstance(text, str):
        return A.parse(text)
    raise ArchError(f"DARTS network: expected a Genotype or its string, got {type(text).__name__}")


def check_options(**options: Any) -> None:
    """BnbenchError for an option that is not a positive integer."""
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BnbenchError(f"DARTS network option {name}={value!r}: expected a positive integer")
