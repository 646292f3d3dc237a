"""The NAS-Bench-201 macro skeleton, stand-alone network and weight-sharing supernet.

Skeleton (Dong & Yang, ICLR 2020, Fig. 1): stem (3x3 conv + BN) -> N cells at C -> ResNet reduction
-> N cells at 2C -> reduction -> N cells at 4C -> BN -> ReLU -> global average pool -> linear.
Defaults C=16, N=5 reproduce the benchmark's networks and parameter counts exactly.

Model variants of the stand-alone network (:data:`VARIANTS`):

* ``official``: NB201's own network (cell ops end in an affine BN with running statistics; their
  convs have no bias).
* ``zc``: the network zero-cost-nas scores (Abdelfattah et al., ICLR 2021; SamsungLabs/zero-cost-nas
  ``foresight/models/nasbench2``, read in NASLib's verbatim copy ``naslib/predictors/utils/models/
  nasbench2.py`` + ``nasbench2_ops.py``): cell ops use
  ``BatchNorm2d(affine=False, track_running_stats=False)`` and convs *with* a bias; the stem
  (3x3 conv without bias + affine BN), both reduction blocks (affine, tracked BN; bias-free convs;
  avg-pool + 1x1 conv shortcut) and the head (BN-ReLU-GAP-linear) are the official ones.

``bn=False`` builds zero-cost-nas's ``get_prunable_copy(bn=False)`` (used by synflow): no BN in the
stem, the cells or the head; the reduction blocks keep theirs, as the reference's ``reduction``
module ignores ``use_bn``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from bnbench.spaces.base import Slot
from bnbench.spaces.nb201.arch import EDGES, NUM_NODES, OPS, check
from bnbench.spaces.nb201.ops import ResNetBlock, make_op

VARIANTS: dict[str, dict[str, bool]] = {"official": dict(affine=True, track=True),
                                        "zc": dict(affine=False, track=False)}  # cell-op BN settings


class Cell(nn.Module):
    """A cell whose edges each hold the listed candidate ops (one op: stand-alone; all five: supernet)."""

    def __init__(self, channels: int, ops: Sequence[Sequence[str]], fair: bool = False, affine: bool = True,
                 track: bool = True, use_bn: bool = True):
        super().__init__()
        self.channels = channels
        self.op_names = [list(names) for names in ops]
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(name, channels, fair, affine, track, use_bn) for name in names) for names in ops
        )

    def forward(self, x: torch.Tensor, choice: Sequence[int]) -> torch.Tensor:
        """``choice[e]`` selects which of edge ``e``'s candidate ops runs; ``none`` edges are skipped."""
        nodes = [x]
        e = 0
        for j in range(1, NUM_NODES):
            terms = []
            for i in range(j):
                if self.op_names[e][choice[e]] != "none":
                    terms.append(self.edges[e][choice[e]](nodes[i]))
                e += 1
            nodes.append(sum(terms[1:], terms[0]) if terms else torch.zeros_like(x))
        return nodes[-1]


class GlobalAvgPool(nn.AdaptiveAvgPool2d):
    """NB201's ``AdaptiveAvgPool2d(1)`` computed as a mean over H and W (the same values; the CUDA
    backward of adaptive pooling is not deterministic, a mean's is)."""

    def __init__(self) -> None:
        super().__init__(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3), keepdim=True)


class Skeleton(nn.Module):
    """Stem, three stages of ``N`` cells joined by two reduction blocks, and the classifier head."""

    def __init__(self, make_cell: Callable[[int], Cell], C: int = 16, N: int = 5,
                 num_classes: int = 10, in_channels: int = 3, use_bn: bool = True):
        super().__init__()
        self.C, self.N, self.num_classes = C, N, num_classes
        stem_bn = [nn.BatchNorm2d(C)] if use_bn else []
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), *stem_bn)
        layers: list[nn.Module] = []
        for stage, width in enumerate((C, 2 * C, 4 * C)):
            if stage:
                layers.append(ResNetBlock(width // 2, width))
            layers.extend(make_cell(width) for _ in range(N))
        self.layers = nn.ModuleList(layers)
        self.lastact = nn.Sequential(*([nn.BatchNorm2d(4 * C)] if use_bn else []), nn.ReLU(inplace=False))
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(4 * C, num_classes)

    def cells(self) -> list[Cell]:
        return [m for m in self.layers if isinstance(m, Cell)]

    def slots(self) -> list[Slot]:
        """Every candidate op that runs when its edge (decision) holds it (choice); ``none`` never runs."""
        return [Slot(f"layers.{i}.edges.{e}.{o}", e, OPS.index(name))
                for i, layer in enumerate(self.layers) if isinstance(layer, Cell)
                for e, names in enumerate(layer.op_names) for o, name in enumerate(names) if name != "none"]

    def features(self, x: torch.Tensor, choice: Sequence[int]) -> torch.Tensor:
        """Penultimate features (after the head's BN-ReLU and pooling)."""
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, choice) if isinstance(layer, Cell) else layer(x)
        return self.global_pooling(self.lastact(x)).flatten(1)

    def logits(self, x: torch.Tensor, choice: Sequence[int]) -> torch.Tensor:
        return self.classifier(self.features(x, choice))


class Network(Skeleton):
    """A stand-alone NB201 network for one cell (``arch``: 6 op indices); ``variant``/``bn``: see above."""

    def __init__(self, arch: Sequence[int], C: int = 16, N: int = 5, num_classes: int = 10,
                 in_channels: int = 3, fair: bool = False, variant: str = "official", bn: bool = True):
        if variant not in VARIANTS:
            from bnbench.errors import BnbenchError

            raise BnbenchError(f"model variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        self.arch, self.variant = check(arch), variant
        ops = [[OPS[o]] for o in self.arch]
        cell_bn = dict(VARIANTS[variant], use_bn=bn)
        super().__init__(lambda c: Cell(c, ops, fair, **cell_bn), C, N, num_classes, in_channels, use_bn=bn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x, [0] * len(EDGES))


class Supernet(Skeleton):
    """Weight-sharing NB201 supernet: every edge of every cell holds all five ops with its own weights."""

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, in_channels: int = 3, fair: bool = False):
        ops = [list(OPS)] * len(EDGES)
        super().__init__(lambda c: Cell(c, ops, fair), C, N, num_classes, in_channels)
        self.fair = fair

    def forward(self, x: torch.Tensor, arch: Sequence[int]) -> torch.Tensor:
        return self.logits(x, check(arch))


def count_params(model: nn.Module) -> int:
    """Trainable-parameter count as NB201 reports it (all parameters; BN running stats excluded)."""
    return sum(p.numel() for p in model.parameters())
