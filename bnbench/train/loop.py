"""One optimisation epoch and evaluation helpers shared by supernet and stand-alone training."""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

Forward = Callable[[torch.Tensor], torch.Tensor]


def cosine_lr(base_lr: float, step: int, total_steps: int, schedule: str = "cosine") -> float:
    """``lr_t = base * (1 + cos(pi * t / T)) / 2`` (or constant)."""
    if schedule == "constant" or total_steps <= 0:
        return base_lr
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))


def sgd(params: Sequence[nn.Parameter], lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    """SGD with Nesterov momentum. Parameters without a gradient in a step (ops off the sampled path)
    are skipped by torch's SGD entirely: no momentum or weight-decay drift on them."""
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0, weight_decay=weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def train_step(forward: Forward, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               extra_loss: Callable[[torch.Tensor], torch.Tensor | None] | None = None,
               label_smoothing: float = 0.0, grad_clip: float | None = None) -> float:
    """One SGD step on the cross-entropy of ``forward(x)`` (plus ``extra_loss(y)`` where given and not None, e.g.
    DARTS's auxiliary head, read after the forward); a path with no trainable parameter (e.g. a conv-free cell in
    BN-only training with ``bn_scope='last'``) computes its loss but updates nothing. ``label_smoothing``: the
    cross-entropy's epsilon; ``grad_clip``: clip the L2 norm of all gradients together to this (None: no clip)."""
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(forward(x), y, label_smoothing=label_smoothing)
    extra = extra_loss(y) if extra_loss is not None else None
    if extra is not None:
        loss = loss + extra
    if loss.requires_grad:
        loss.backward()
        clip_gradients(optimizer, grad_clip)
        optimizer.step()
    return float(loss.detach())


def clip_gradients(optimizer: torch.optim.Optimizer, max_norm: float | None) -> None:
    """Rescale the gradients of the optimizer's parameters so that their joint L2 norm is at most ``max_norm``
    (``torch.nn.utils.clip_grad_norm_``); None does nothing."""
    if max_norm is not None:
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, max_norm)


def accumulated_step(forwards: Sequence[Forward], optimizer: torch.optim.Optimizer, x: torch.Tensor,
                     y: torch.Tensor, label_smoothing: float = 0.0, grad_clip: float | None = None) -> float:
    """One SGD step from the gradients of several paths on the same batch, summed (FairNAS: "accumulate the
    gradients of the m models, then update once", Chu et al., ICCV 2021, Algorithm 1). Returns the mean loss."""
    optimizer.zero_grad(set_to_none=True)
    losses, backward = [], False
    for forward in forwards:
        loss = F.cross_entropy(forward(x), y, label_smoothing=label_smoothing)
        if loss.requires_grad:  # as train_step: a path with no trainable parameter updates nothing
            loss.backward()
            backward = True
        losses.append(float(loss.detach()))
    if backward:
        clip_gradients(optimizer, grad_clip)  # the summed gradient, as one update
        optimizer.step()
    return float(sum(losses) / max(len(losses), 1))


@torch.no_grad()
def accuracy(forward: Forward, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Top-1 accuracy in percent over the given batches."""
    correct = total = 0
    for x, y in batches:
        correct += int((forward(x).argmax(1) == y).sum())
        total += len(y)
    return 100.0 * correct / max(total, 1)


@torch.no_grad()
def recalibrate_bn(model: nn.Module | Sequence[nn.Module], forward: Forward, batches: Iterable[torch.Tensor]) -> None:
    """Recompute BN running statistics as the plain average over ``batches`` (those BNs in train mode).

    ``model``: a module (all its tracked BNs) or the list of BNs to recalibrate (e.g. the few a subnet runs, of
    the thousands a supernet holds: :class:`~bnbench.spaces.base.PathNorms`). Every BN recalibrated is left
    in eval mode; with a module, the other modules' train/eval flags are restored.
    """
    if isinstance(model, nn.Module):
        norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
        flags = [(m, m.training) for m in model.modules()]
    else:
        norms, flags = list(model), []
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
        m.training = True
    for x in batches:
        forward(x)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
        m.training = False
    for m, flag in flags:
        m.training = flag
