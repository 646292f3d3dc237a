"""Which parameters learn: everything (``full``) or BatchNorm affine parameters only (``bn``).

BN-only training (Chen et al., BN-NAS, ICCV 2021) freezes every convolution and the classifier at
their initial values. ``bn_scope='last'`` trains only the last BN of each candidate op (each slot of
the supernet, :mod:`bnbench.spaces.base`), as the public BN-NAS code does; ``'all'`` also trains the
BNs outside the slots (NB201: stem, reduction blocks and head).
"""

from __future__ import annotations

from torch import nn

from bnbench.spaces.base import last_bn, slots_of


def op_last_bns(model: nn.Module) -> list[nn.BatchNorm2d]:
    """The last affine BN of every candidate-op slot of a supernet, in slot order."""
    modules = dict(model.named_modules())
    found: list[nn.BatchNorm2d] = []
    for slot in slots_of(model):
        norm = last_bn(modules[slot.module])
        if norm is not None and norm.affine:
            found.append(norm)
    return found


def select_trainable(model: nn.Module, train_mode: str, bn_scope: str = "last") -> list[nn.Parameter]:
    """Set ``requires_grad`` according to the mode and return the trainable parameters."""
    if train_mode == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return list(model.parameters())
    for p in model.parameters():
        p.requires_grad_(False)
    if bn_scope == "last":
        norms = op_last_bns(model)
    else:
        norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d) and m.affine]
    params = [p for norm in norms for p in (norm.weight, norm.bias)]
    for p in params:
        p.requires_grad_(True)
    return params
