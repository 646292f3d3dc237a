"""The NAS-Bench-101 stand-alone network (Ying et al., "NAS-Bench-101", ICML 2019), as the official TF code builds it.

Reference: google-research/nasbench, ``nasbench/lib/model_builder.py`` (``build_model_fn``, ``build_module``,
``compute_vertex_channels``, ``projection``, ``truncate``), ``base_ops.py`` and the defaults of ``config.py``.

Skeleton: stem ``conv_bn_relu`` 3x3 (``in_channels`` -> ``stem_channels``, default 128) -> ``num_stacks`` (3)
stacks of ``cells_per_stack`` (3) cells; before every stack but the first a 2x2 max pool, stride 2, "same"
padding (a ceil-mode pool: odd sides round up) and the width doubles (128, 256, 512) -> global average pool ->
dense layer with a bias (``num_classes``, 10). No BN-ReLU head: the last cell's output is pooled directly.

One cell (``build_module``) at width ``c_out`` from ``c_in`` channels, vertices 0 (input) .. V-1 (output):

* vertex widths (:func:`vertex_channels`): the ``c_out`` channels are split among the interior vertices that
  feed the output (the first ``c_out mod k`` of them get one extra); any other interior vertex takes the largest
  width among the vertices it feeds;
* interior vertex ``t`` sums its inputs: each interior source truncated to ``t``'s width (its first channels),
  the module input through its own 1x1 projection (``conv_bn_relu``) when there is an edge 0 -> t; then applies
  its op (:mod:`bnbench.spaces.nb101.ops`);
* the output vertex concatenates (in vertex order) the interior vertices feeding it and adds a projection of the
  input when there is an edge 0 -> output; a cell of only input -> output is that projection alone.

Parameter count: every trainable tensor (conv kernels, BN scales and shifts, the dense kernel and bias; BN
running statistics excluded) equals the benchmark's ``trainable_parameters`` (checked on 30 records in
``tests/test_nb101_model.py``).

Model variants (:data:`VARIANTS`): identical structure, parameters and FLOPs; they differ in what is invisible
to a count:

* ``official``: BN momentum 0.003 (TF's 0.997 decay, PyTorch convention), epsilon 1e-5; TF's initialisers
  (conv kernels ``variance_scaling_initializer()``: truncated normal, fan-in, std ``sqrt(1 / fan_in) /
  0.87962566``, cut at 2 std; dense kernel Glorot uniform, bias 0; BN scale 1, shift 0); ceil-mode downsampling.
* ``zc``: the network zero-cost-nas scores (SamsungLabs/zero-cost-nas ``foresight/models/nasbench1.py`` and
  ``nasbench1_ops.py``; NASLib's ``naslib/predictors/utils/models/nasbench1.py`` is a verbatim copy):
  ``nn.BatchNorm2d`` defaults (affine, tracked, momentum 0.1, eps 1e-5), convs *without* bias (unlike its NB201
  model), its ``_initialize_weights`` (conv ``N(0, sqrt(2 / (k*k*c_out)))``, BN 1 / 0, linear ``N(0, 0.01)``,
  bias 0) and ``nn.MaxPool2d(2, 2)`` downsampling (floor: the same as ceil on even sides, 32 -> 16 -> 8).
  Modules are created and initialised in the reference's order, so under the same ``torch.manual_seed`` this
  variant has the reference's initial weights and outputs bit for bit (checked against its code on 8 of the 30
  records, ``bn`` True and False). The reference's cell ends in ``outputs += projection(input)``, in place: on a
  cell whose output is fed by one conv vertex plus the input, that modifies a ReLU output autograd saved, and its
  backward raises (29 of the 250 cells of ``naslib-nb101-cifar10-250.csv``); this port adds out of place.

  This is also the network of **NAS-Bench-Suite-Zero**'s published NB101 values (NASLib ``naslib/data/
  zc_nasbench101.json``): NASLib built it with archai's port (``archai/algos/nasbench101/model.py``, the same
  code as zero-cost-nas's: same modules, creation order, ``nn.BatchNorm2d`` defaults and initialisation) whose
  in-place output add NASLib replaced by an out-of-place one (commit 5bf431d5, May 2022), as here. Its settings:
  one batch of 32 augmented CIFAR-10 training images per cell (bnbench's NB101 default ``--zc-batch-size``),
  train mode, cross-entropy. How it *reports*: ``synflow`` as the natural log of the sum (bnbench reports the sum
  itself; the ranking is the same), ``flops`` as multiply-accumulates in millions (bnbench's ``macs``;
  bnbench's ``flops`` counts 2 per multiply-accumulate), ``params`` in millions, ``jacov`` = ``jacob_cov``, and a
  NaN or infinite score as -1e8 (bnbench records it as undefined, with the reason). Measured on 32 cells of
  ``naslib-nb101-cifar10-250.csv`` (CIFAR-10, batch 32, this variant, seed 0; NASLib's values come from other
  random weights and another batch), Spearman between bnbench's and the published values, and in brackets
  between bnbench's own seeds 0 and 1 (the agreement two independent draws of weights and batch can reach):
  synflow 1.000 (log-ratio median 1.000), l2_norm 0.996, snip 0.987 [0.99], grad_norm 0.974, fisher 0.968,
  jacob_cov 0.486 [0.434], grasp 0.316 [0.437], plain 0.154 [0.342], epe_nas 0.071 [0.021]; params identical,
  macs identical to their flops. The last four are noisy proxies on NB101: their agreement with the published
  values is at the level of their agreement with themselves.

``bn=False`` builds zero-cost-nas's ``get_prunable_copy(bn=False)`` (synflow): no BN anywhere, the stem's
included. ``bn_every_op=True`` adds a trainable BN after every ``maxpool3x3`` vertex op (fairness mode).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from bnbench.errors import ArchError, BnbenchError
from bnbench.spaces.counting import measured_cost
from bnbench.spaces.nb101.arch import Cell, parse
from bnbench.spaces.nb101.ops import (BN_MOMENTUM, BN_MOMENTUM_TORCH_DEFAULT, KERNELS, ConvBnRelu, last_bn,
                                      make_op, projection, truncate)

VARIANTS: dict[str, dict[str, Any]] = {
    "official": dict(momentum=BN_MOMENTUM, ceil_mode=True, init="tf"),
    "zc": dict(momentum=BN_MOMENTUM_TORCH_DEFAULT, ceil_mode=False, init="zc"),
}
TRUNCNORM_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2] (TF's variance scaling correction)


def vertex_channels(matrix: Any, in_channels: int, out_channels: int) -> list[int]:
    """Width of every vertex of a pruned cell (``compute_vertex_channels``): ``[in_channels, ..., out_channels]``.

    The output's ``out_channels`` are divided among the ``k`` interior vertices feeding it (``out // k`` each,
    the first ``out mod k`` of them one more); other interior vertices take the max over the interior vertices
    they feed, going backwards. :class:`BnbenchError` when ``out_channels < k`` (a vertex would get 0 channels).
    """
    m = [list(map(int, row)) for row in matrix]
    n = len(m)
    widths = [0] * n
    widths[0], widths[n - 1] = in_channels, out_channels
    if n == 2:
        return widths
    feeders = [v for v in range(1, n - 1) if m[v][n - 1]]
    if out_channels < len(feeders):
        raise BnbenchError(f"NB101 network: {out_channels} channels cannot be split among the {len(feeders)} "
                           f"vertices feeding the output (use at least {len(feeders)})")
    share, extra = divmod(out_channels, len(feeders))
    for v in feeders:
        widths[v] = share + (1 if extra else 0)
        extra -= 1 if extra else 0
    for v in range(n - 3, 0, -1):
        if not m[v][n - 1]:
            widths[v] = max([widths[v]] + [widths[d] for d in range(v + 1, n - 1) if m[v][d]])
    assert all(w > 0 for w in widths), widths  # a pruned cell: every interior vertex reaches a feeder
    return widths


class CellModule(nn.Module):
    """One NB101 module (cell) for a pruned :class:`~bnbench.spaces.nb101.arch.Cell`, ``c_in`` -> ``c_out``.

    Walkable structure: ``vertex_ops[v]`` is vertex ``v``'s op (``nn.Identity`` at the input, 0, and the
    output, V-1, which hold none); ``projections[v]`` the 1x1 projection of the input on edge 0 -> v
    (``nn.Identity`` where there is no such edge); ``channels[v]`` vertex ``v``'s width.
    """

    def __init__(self, cell: Cell, c_in: int, c_out: int, bn_every_op: bool = False,
                 momentum: float = BN_MOMENTUM, use_bn: bool = True):
        super().__init__()
        self.cell, self.c_in, self.c_out = cell, c_in, c_out
        self.matrix = cell.matrix
        n = self.num_vertices = cell.num_vertices
        self.channels = vertex_channels(cell.matrix, c_in, c_out)
        self.vertex_ops = nn.ModuleList(
            make_op(cell.ops[v], self.channels[v], bn_every_op, momentum, use_bn) if 0 < v < n - 1
            else nn.Identity() for v in range(n))
        self.projections = nn.ModuleList(
            projection(c_in, self.channels[v], momentum, use_bn) if v and cell.matrix[0][v] else nn.Identity()
            for v in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W)."""
        m, n = self.matrix, self.num_vertices
        values: list[torch.Tensor] = [x]
        concat: list[torch.Tensor] = []
        for t in range(1, n - 1):
            terms = [truncate(values[s], self.channels[t]) for s in range(1, t) if m[s][t]]
            if m[0][t]:
                terms.append(self.projections[t](x))
            value = self.vertex_ops[t](sum(terms[1:], terms[0]))
            values.append(value)
            if m[t][n - 1]:
                concat.append(value)
        if not concat:  # only input -> output left after pruning
            return self.projections[n - 1](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if m[0][n - 1]:
            out = out + self.projections[n - 1](x)
        return out


class GlobalAvgPool(nn.AdaptiveAvgPool2d):
    """The official global average pooling (``tf.reduce_mean`` over H and W; zero-cost-nas's ``torch.mean(out,
    (2, 3))``) as a module, so that proxies can find the feature map before it (Zen-score hooks the last
    ``AdaptiveAvgPool2d``). Computed as a mean: the same values, and a deterministic CUDA backward. Output
    (B, C, 1, 1)."""

    def __init__(self) -> None:
        super().__init__(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3), keepdim=True)


class Downsample(nn.MaxPool2d):
    """The 2x2, stride-2 max pool between stacks (ceil mode = TF's "same" padding; floor in the ``zc`` variant)."""

    def __init__(self, ceil_mode: bool = True):
        super().__init__(kernel_size=2, stride=2, ceil_mode=ceil_mode)


class Network(nn.Module):
    """A stand-alone NB101 network for one cell (a :class:`Cell` or its one-line JSON form).

    ``stem_channels``, ``num_stacks``, ``cells_per_stack``, ``num_classes``, ``in_channels``: the skeleton
    (defaults: the benchmark's CIFAR-10 network); ``bn_every_op``, ``variant``, ``bn``: see the module docstring.
    Input (B, in_channels, H, W), any H, W >= 1; output logits (B, num_classes).
    """

    def __init__(self, cell: Cell | str, stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
                 num_classes: int = 10, in_channels: int = 3, bn_every_op: bool = False, *,
                 variant: str = "official", bn: bool = True):
        super().__init__()
        self.cell = _as_cell(cell)
        _check_options(stem_channels=stem_channels, num_stacks=num_stacks, cells_per_stack=cells_per_stack,
                       num_classes=num_classes, in_channels=in_channels)
        if variant not in VARIANTS:
            raise BnbenchError(f"NB101 model variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        self.variant, self.bn_every_op, self.num_classes = variant, bool(bn_every_op), num_classes
        self.stem_channels, self.num_stacks, self.cells_per_stack = stem_channels, num_stacks, cells_per_stack
        cfg = VARIANTS[variant]
        self.stem = ConvBnRelu(in_channels, stem_channels, 3, cfg["momentum"], bn)
        layers: list[nn.Module] = []
        c_in = stem_channels
        for stack in range(num_stacks):
            c_out = stem_channels * 2 ** stack
            if stack:
                layers.append(Downsample(cfg["ceil_mode"]))
            for _ in range(cells_per_stack):
                layers.append(CellModule(self.cell, c_in, c_out, bn_every_op, cfg["momentum"], bn))
                c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(c_in, num_classes)
        (init_tf if cfg["init"] == "tf" else init_zc)(self)

    def cells(self) -> list[CellModule]:
        return [m for m in self.layers if isinstance(m, CellModule)]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features (B, stem_channels * 2 ** (num_stacks - 1)): the last cell's output, averaged
        over H and W."""
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.global_pooling(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@torch.no_grad()
def init_tf(model: nn.Module) -> None:
    """TF's initialisers as the official code gets them: conv kernels ``variance_scaling_initializer()``
    (truncated normal, fan-in = k*k*c_in, std ``sqrt(1 / fan_in) / 0.8796``, cut at +-2 std), dense kernels
    Glorot uniform with zero bias, BN scale 1 and shift 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            std = math.sqrt(1.0 / (m.weight[0].numel())) / TRUNCNORM_STD
            nn.init.trunc_normal_(m.weight, 0.0, std, -2 * std, 2 * std)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            m.weight.fill_(1.0)
            m.bias.zero_()


@torch.no_grad()
def init_zc(model: nn.Module) -> None:
    """zero-cost-nas's ``Network._initialize_weights`` for NB101: conv ``N(0, sqrt(2 / (k*k*c_out)))``, BN 1 / 0,
    linear ``N(0, 0.01)`` with zero bias (in module order, as the reference draws them)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.weight.normal_(0.0, math.sqrt(2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels)))
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            m.weight.fill_(1.0)
            m.bias.zero_()
        elif isinstance(m, nn.Linear):
            m.weight.normal_(0.0, 0.01)
            m.bias.zero_()


def count_params(model: nn.Module) -> int:
    """Trainable-parameter count as NB101 reports it (all parameters; BN running statistics excluded)."""
    return sum(p.numel() for p in model.parameters())


def vertex_bns(model: Network) -> list[list[nn.BatchNorm2d | None]]:
    """``[cell][v - 1]``: the last BN of every interior vertex op of every cell (``None`` for a BN-free op)."""
    return [[last_bn(cell.vertex_ops[v]) for v in range(1, cell.num_vertices - 1)] for cell in model.cells()]


def cost(cell: Cell | str, stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
         num_classes: int = 10, in_channels: int = 3, bn_every_op: bool = False, resolution: int = 32, *,
         variant: str = "official", bn: bool = True) -> dict[str, int]:
    """``{"params", "macs", "flops"}`` of the stand-alone network on one ``resolution`` x ``resolution`` image,
    as counts (not millions), computed in closed form (no network is built: ~0.1 ms a cell).

    * ``params``: as :func:`count_params` on :class:`Network` (= the benchmark's ``trainable_parameters``).
    * ``macs``: multiply-accumulates, the convention of ``bnbench.indicators.cost``: per convolution
      ``k*k*c_in*c_out*H_out*W_out`` (no conv has a bias), per dense layer ``in*out + out`` (the bias);
      pooling, BN, ReLU, sums and concatenations count 0.
    * ``flops``: torch ``FlopCounterMode``'s count, 2 per multiply-accumulate of the convolutions and the dense
      layer, biases not counted: ``2 * (macs - num_classes)``.

    Equal to what :func:`measured_cost` counts on the built network (tested).
    """
    cell = _as_cell(cell)
    _check_options(stem_channels=stem_channels, num_stacks=num_stacks, cells_per_stack=cells_per_stack,
                   num_classes=num_classes, in_channels=in_channels, resolution=resolution)
    if variant not in VARIANTS:
        raise BnbenchError(f"NB101 model variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    ceil_mode = VARIANTS[variant]["ceil_mode"]
    bn_params = 2 if bn else 0

    def conv(c_in: int, c_out: int, k: int, side: int) -> tuple[int, int]:  # (params, MACs) of conv_bn_relu
        return k * k * c_in * c_out + bn_params * c_out, k * k * c_in * c_out * side * side

    params, macs = conv(in_channels, stem_channels, 3, resolution)
    side, c_in, n = resolution, stem_channels, cell.num_vertices
    for stack in range(num_stacks):
        c_out = stem_channels * 2 ** stack
        if stack:
            side = -(-side // 2) if ceil_mode else side // 2
            if side < 1:
                raise BnbenchError(f"NB101 network: a {resolution}x{resolution} input is too small for "
                                   f"{num_stacks} stacks (floor-mode downsampling reaches 0)")
        for _ in range(cells_per_stack):
            widths = vertex_channels(cell.matrix, c_in, c_out)
            for v in range(1, n):
                if cell.matrix[0][v]:
                    p, f = conv(c_in, widths[v], 1, side)
                    params, macs = params + p, macs + f
                op = cell.ops[v]
                if op in KERNELS:
                    p, f = conv(widths[v], widths[v], KERNELS[op], side)
                    params, macs = params + p, macs + f
                elif op == "maxpool3x3" and bn_every_op:
                    params += bn_params * widths[v]
            c_in = c_out
    params += c_in * num_classes + num_classes
    macs += c_in * num_classes + num_classes
    return {"params": params, "macs": macs, "flops": 2 * (macs - num_classes)}


def _as_cell(cell: Cell | str) -> Cell:
    if isinstance(cell, Cell):
        return cell
    if isinstance(cell, str):
        return parse(cell)
    raise ArchError(f"NB101 network: expected a Cell (bnbench.spaces.nb101.arch.make_cell / parse) or its JSON "
                    f"string, got {type(cell).__name__}")


def _check_options(**options: Any) -> None:
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BnbenchError(f"NB101 network option {name}={value!r}: expected a positive integer")


__all__ = ["VARIANTS", "CellModule", "Downsample", "GlobalAvgPool", "Network", "cost", "count_params", "init_tf", "init_zc",
           "measured_cost", "vertex_bns", "vertex_channels"]
