"""One network, one forward: the passes that several zero-cost proxies of one architecture can share.

snip, grad_norm, plain, fisher, grasp, jacob_cov, epe_nas, nwot and l2_norm all score the same freshly
initialised network (``make()``: train mode, BN on batch statistics) on the same batch of images; their
conventions differ only in what they read from it. Each declares a :class:`Tap`: the *quantity* it needs and a
``value`` function of the :class:`Pass` that computes its score. :func:`run_pass` builds the network once,
runs one forward and only the backward passes the requested quantities need:

================  =====================================================================  =====================
quantity          what it is                                                             extra work
================  =====================================================================  =====================
``weights``       the conv/linear layers as initialised                                  none
``relu_kernel``   NASWOT's Hamming kernel of the binary ReLU codes (forward hooks)       none (the forward)
``jacobian``      rows d(sum_c f_c(x_i))/dx_i (N x CHW, float64)                         one backward
``loss_grads``    dL/dW per conv/linear layer, L = mean cross-entropy                    one backward
``fisher``        per-channel 0.5 mean_n (sum_hw a g)^2 of every layer output ``a``      hooks on that backward
``hvp``           H g per layer (GraSP's Hessian-gradient product; implies loss_grads)   the loss backward keeps
                                                                                         its graph, plus one
================  =====================================================================  =====================

So scoring the nine together costs one network, one forward and at most three backward passes, where scoring
them one by one costs nine networks, nine forwards and eleven backward passes. The proxies whose conventions
differ keep their own pass: synflow (float64, absolute weights, no BN, all-ones input), zen (Gaussian
re-initialisation, random inputs), te_ntk (its own 16-image batch: BN statistics differ) and te_linear_regions
(a thin one-cell network on 3x3 crops).

A single proxy runs the same code with one quantity (its registered function is ``value(run_pass(make, batch,
{quantity}))``), so the shared and single paths differ only in which passes run together; the tests check that
every value of a shared pass equals its single-proxy value to float tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bnbench.indicators.zc.common import Batch, NetFactory, weight_layers

QUANTITIES = ("weights", "relu_kernel", "jacobian", "loss_grads", "fisher", "hvp")


@dataclass
class Pass:
    """What one shared pass computed for one architecture (``None``: not requested).

    ``layers``: the network's conv/linear layers (zero-cost-nas's ``get_layer_metric_array`` order), their
    weights as initialised; ``grads[i]``: dL/dW of ``layers[i]`` (zeros when the loss does not reach it);
    ``hvp[i]``: H g for it (None where no second-order path exists); ``fisher[i]``: per-output-channel Fisher
    saliency of ``layers[i]`` (absent for layers whose output gets no gradient); ``jacobian``: N x (C H W)
    float64; ``kernel``: N x N float64; ``labels``: the batch's labels (numpy); ``num_classes``.
    """

    layers: list[nn.Module]
    labels: np.ndarray | None
    num_classes: int
    grads: list[torch.Tensor] | None = None
    hvp: list[torch.Tensor | None] | None = None
    fisher: dict[int, torch.Tensor] | None = None
    jacobian: np.ndarray | None = None
    kernel: np.ndarray | None = None


@dataclass(frozen=True)
class Tap:
    """How a proxy reads its score from a :class:`Pass`: the quantity it needs and ``value(pass) -> float``."""

    quantity: str
    value: Callable[[Pass], float]

    def __post_init__(self) -> None:
        if self.quantity not in QUANTITIES:
            raise ValueError(f"unknown shared-pass quantity {self.quantity!r} (expected one of {QUANTITIES})")


def hamming_kernel(codes: torch.Tensor) -> torch.Tensor:
    """K = c c^T + (1-c)(1-c)^T for binary codes (N x d), float64: the number of agreeing bits."""
    c = codes.flatten(1).float()
    return (c @ c.T + (1 - c) @ (1 - c).T).double()


@dataclass
class _Hooks:
    """Forward hooks of one pass: NASWOT's ReLU codes and Fisher's activation x gradient products."""

    kernel: torch.Tensor | None = None
    fisher: dict[int, torch.Tensor] = field(default_factory=dict)
    fisher_on: bool = False  # Fisher reads the loss backward only (not the Jacobian's or the Hessian's)
    handles: list = field(default_factory=list)

    def relu(self, module, inputs, output) -> None:
        k = hamming_kernel(inputs[0].detach() > 0)
        self.kernel = k if self.kernel is None else self.kernel + k

    def layer(self, index: int):
        def hook(module, inputs, act):
            a = act.detach()  # the gradient hook must not hold ``act`` itself: a cycle frees nothing until gc runs

            def on_grad(grad: torch.Tensor) -> None:
                if not self.fisher_on:
                    return
                g = grad.detach()
                g_nk = (a * g).sum(dim=tuple(range(2, a.dim()))) if a.dim() > 2 else a * g
                self.fisher[index] = self.fisher.get(index, 0) + 0.5 * g_nk.pow(2).mean(0)

            if act.requires_grad:
                act.register_hook(on_grad)
        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def run_pass(make: NetFactory, batch: Batch, quantities: Iterable[str]) -> Pass:
    """Build the architecture's network once (``make()``) and compute ``quantities`` on ``batch`` (see the
    module docstring): one forward, then the Jacobian backward, then the loss backward (kept for the
    Hessian-gradient product when ``hvp`` is asked for). Raises what the network raises; a proxy's own
    undefined cases are raised by its ``value`` function, not here."""
    wanted = set(quantities)
    unknown = wanted - set(QUANTITIES)
    if unknown:
        raise ValueError(f"unknown shared-pass quantities {sorted(unknown)}")
    net = make()
    layers = weight_layers(net)
    labels = batch.y.detach().cpu().numpy() if batch.y is not None else None
    result = Pass(layers, labels, batch.num_classes)
    loss_side = wanted & {"loss_grads", "fisher", "hvp"}
    if not wanted - {"weights"}:
        return result
    hooks = _Hooks()
    if "relu_kernel" in wanted:
        hooks.handles += [m.register_forward_hook(hooks.relu) for m in net.modules() if isinstance(m, nn.ReLU)]
    if "fisher" in wanted:
        hooks.handles += [m.register_forward_hook(hooks.layer(i)) for i, m in enumerate(layers)]
    x = batch.x.detach().clone().requires_grad_("jacobian" in wanted)
    try:
        with torch.set_grad_enabled(bool(loss_side or "jacobian" in wanted)):
            out = net(x)
        if "relu_kernel" in wanted:
            n = len(x)
            result.kernel = (hooks.kernel if hooks.kernel is not None
                             else torch.zeros(n, n, dtype=torch.float64)).cpu().numpy()
        if "jacobian" in wanted:
            grad = None
            if out.requires_grad:
                grad = torch.autograd.grad(out, x, torch.ones_like(out), retain_graph=bool(loss_side),
                                           allow_unused=True)[0]
            grad = grad if grad is not None else torch.zeros_like(x)
            result.jacobian = grad.reshape(len(x), -1).double().cpu().numpy()
        if loss_side:
            _loss_side(net, layers, out, batch.y, hooks, "hvp" in wanted, result)
    finally:
        hooks.remove()
    if "fisher" in wanted:
        result.fisher = hooks.fisher
    return result


def _loss_side(net: nn.Module, layers: list[nn.Module], out: torch.Tensor, y: torch.Tensor, hooks: _Hooks,
               hessian: bool, result: Pass) -> None:
    """dL/dW (and Fisher's hooks) from one backward of the mean cross-entropy; with ``hessian`` that backward
    keeps its graph and a second one gives H g (GraSP: z = sum g.detach() * g, dz/dW = H g)."""
    weights = [m.weight for m in layers]
    net.zero_grad()
    loss = F.cross_entropy(out, y)
    hooks.fisher_on = True
    grads = torch.autograd.grad(loss, weights, create_graph=hessian, allow_unused=True) if loss.requires_grad \
        else [None] * len(weights)
    hooks.fisher_on = False
    result.grads = [g.detach() if g is not None else torch.zeros_like(w) for g, w in zip(grads, weights)]
    if hessian:
        z = sum((g.detach() * g).sum() for g in grads if g is not None)
        if isinstance(z, torch.Tensor) and z.requires_grad:
            result.hvp = list(torch.autograd.grad(z, weights, allow_unused=True))
        else:
            result.hvp = [None] * len(weights)  # no weight reaches the loss: H g = 0


def single(tap: Tap) -> Callable[[NetFactory, Batch], float]:
    """The single-proxy function of ``tap``: ``value(run_pass(make, batch, {quantity}))``."""

    def fn(make: NetFactory, batch: Batch) -> float:
        return tap.value(run_pass(make, batch, {tap.quantity}))

    return fn
