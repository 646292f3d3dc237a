"""The macro layout of the MobileNet (MBConv) space: BN-NAS's stages, widths and strides, scaled and adapted.

Source: bychen515/BNNAS (the BN-NAS authors' code), ``BNNAS/supernet/super_model.py`` (``SuperNetwork``; the same
numbers in ``BNNAS/retrain/model.py`` and ``config.backbone_info`` of ``BNNAS/supernet/config.py``), a ProxylessNAS
(GPU) layout as ABS / AngleNAS uses it:

* stem: 3x3 conv, stride 2, ``3 -> 40`` + BN + ReLU6 (``int(40 * width_mult)``);
* first fixed block: MBConv expansion 1, 3x3 depthwise, stride 1, ``40 -> 24`` (``MBConv_ratio_1``);
* 21 searchable layers in 6 stages ``(width, layers, stride of the first layer)``: (32, 4, 2), (56, 4, 2),
  (112, 4, 2), (128, 4, 1), (256, 4, 2), (432, 1, 1) (``interverted_residual_setting``; its ``t`` column is
  unused: the expansion is searched);
* head: 1x1 conv ``432 -> 1728`` + BN + ReLU6 (``int(1728 * width_mult)`` only when ``width_mult > 1``), global
  average pooling, linear classifier (the retrain script adds dropout 0.2, a training regulariser left out here).

Widths scale by ``m = width_mult * stem_channels / 40`` (``stem_channels`` is bnbench's ``--channels``): every
width is ``max(1, int(base * m))`` as BN-NAS's ``int(c * width_mult)``; the head keeps ``head_channels`` (1728)
unless ``m > 1``. Spatial sizes: a kxk conv has padding ``k // 2``, so a stride-2 layer maps a side ``s`` to
``ceil(s / 2)`` and never below 1.

**Reduced layout (small inputs).** BN-NAS's five stride-2 layers (stem, stages 1, 2, 3, 5) take 224 px ImageNet
images to 7x7. For inputs whose side is below ``reduce_below`` (default 64 px) the stem and the first layer of
stage 1 run at stride 1, as CIFAR ports of MobileNetV2 do, leaving three stride-2 stages (2, 3, 5): CIFAR-10 32x32
ends at 4x4 (32 -> 32 -> 32 -> 16 -> 8 -> 8 -> 4), ImageNet16 16x16 at 2x2, digits 8x8 at 1x1
(8 -> 8 -> 8 -> 4 -> 2 -> 2 -> 1). Networks pick the layout from the side of the input they are given, so one
network (and one supernet) serves any resolution; :func:`strides` and the cost follow the same rule. Which blocks
have a residual skip does not depend on it (see :class:`Layer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bnbench.errors import BnbenchError

STEM_CHANNELS = 40  # BN-NAS's first conv width (the unit of --channels)
FIRST_BLOCK_CHANNELS = 24  # output width of the fixed expansion-1 MBConv
STAGES: tuple[tuple[int, int, int], ...] = (  # (width, layers, stride of the first layer), BN-NAS's GPU search space
    (32, 4, 2), (56, 4, 2), (112, 4, 2), (128, 4, 1), (256, 4, 2), (432, 1, 1))
HEAD_CHANNELS = 1728  # 1x1 conv before pooling
STEM_STRIDE = 2
REDUCE_BELOW = 64  # inputs with a side below this run the reduced layout (stem and stage 1 at stride 1)
NUM_LAYERS = sum(n for _, n, _ in STAGES)  # 21 searchable layers


@dataclass(frozen=True)
class Layer:
    """One searchable layer of the full layout: its stage (0-based), input and output widths (scaled), the
    stride it has in the full (ImageNet) layout, and whether it is the first layer of its stage.

    ``early``: its stride becomes 1 in the reduced layout (stage 1's first layer). ``skip``: a block here adds its
    input (nominal stride 1 and ``c_in == c_out``, as BN-NAS's ``use_res_connect``); decided on the full layout, so
    a layer the reduced layout runs at stride 1 keeps no skip. The identity choice is allowed exactly on the layers
    that are not the first of their stage (there ``c_in == c_out`` and the stride is 1 at any width)."""

    index: int
    stage: int
    c_in: int
    c_out: int
    stride: int
    first: bool
    early: bool

    @property
    def skip(self) -> bool:
        return self.stride == 1 and self.c_in == self.c_out


def scale(width_mult: float, stem_channels: int) -> float:
    """The width multiplier of the whole network, ``width_mult * stem_channels / 40``."""
    return float(width_mult) * int(stem_channels) / STEM_CHANNELS


def scaled(base: int, width_mult: float, stem_channels: int) -> int:
    """``max(1, int(base * m))`` with ``m`` as :func:`scale` (BN-NAS: ``int(c * width_mult)``)."""
    return max(1, int(base * float(width_mult) * int(stem_channels) / STEM_CHANNELS + 1e-9))


@dataclass(frozen=True)
class Layout:
    """Widths of one network: stem, fixed first block, the 21 searchable layers, head."""

    stem: int
    first_block: int
    layers: tuple[Layer, ...]
    head: int

    @property
    def last(self) -> int:
        return self.layers[-1].c_out


@lru_cache(maxsize=64)
def layout(width_mult: float = 1.0, stem_channels: int = STEM_CHANNELS, head_channels: int = HEAD_CHANNELS) -> Layout:
    """The scaled layout; BnbenchError for a non-positive multiplier or width."""
    if not width_mult > 0 or stem_channels < 1 or head_channels < 1:
        raise BnbenchError(f"mobilenet layout width_mult={width_mult}, stem_channels={stem_channels}, "
                           f"head_channels={head_channels}: expected positive values")
    m = scale(width_mult, stem_channels)
    stem = scaled(STEM_CHANNELS, width_mult, stem_channels)
    first = scaled(FIRST_BLOCK_CHANNELS, width_mult, stem_channels)
    layers, c_in = [], first
    for s, (width, count, stride) in enumerate(STAGES):
        c_out = scaled(width, width_mult, stem_channels)
        for j in range(count):
            layers.append(Layer(len(layers), s, c_in, c_out, stride if j == 0 else 1, j == 0, s == 0 and j == 0))
            c_in = c_out
    head = int(head_channels * m) if m > 1.0 else int(head_channels)
    return Layout(stem, first, tuple(layers), head)


def reduced(resolution: int, reduce_below: int = REDUCE_BELOW) -> bool:
    """Whether an input of side ``resolution`` runs the reduced layout (``resolution < reduce_below``)."""
    return int(resolution) < int(reduce_below)


def strides(resolution: int, reduce_below: int = REDUCE_BELOW) -> tuple[int, tuple[int, ...]]:
    """``(stem stride, stride of each searchable layer)`` for an input of side ``resolution``."""
    small = reduced(resolution, reduce_below)
    base = layout()
    return (1 if small else STEM_STRIDE), tuple(1 if (small and l.early) else l.stride for l in base.layers)


def down(side: int, stride: int) -> int:
    """Output side of a kxk conv with padding k // 2 (odd k): ``ceil(side / stride)``."""
    return -(-int(side) // int(stride))


IDENTITY_LAYERS: tuple[int, ...] = tuple(l.index for l in layout().layers if not l.first)  # 15 layers
