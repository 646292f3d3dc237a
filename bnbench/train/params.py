"""Which parameters learn: everything (``full``) or BatchNorm affine parameters only (``bn``).

BN-only training (Chen et al., BN-NAS, ICCV 2021) freezes every convolution at its initial value.
``bn_scope`` says which affine parameters learn:

* ``last``: only the last BN of each candidate op (each slot of the supernet, :mod:`bnbench.spaces.base`),
  classifier frozen, as the public BN-NAS code does (``BNNAS/train_supernet``: parameters named ``*.7.weight`` /
  ``*.7.bias``). **The faithful BN-NAS setting.**
* ``all``: every BN of the supernet (NB201: also the stem, reduction-block and head BNs), classifier frozen.
* ``last+classifier`` / ``all+classifier``: the same plus the final linear classifier (a deviation from BN-NAS).

Why the classifier (issue 13, measured on the digits default, C=16 N=2, 30 SPOS epochs, lr 0.1): with it frozen
the loss stays at chance under SPOS (``last`` 2.34, ``all`` 2.28 after 30 epochs; ln 10 = 2.30) and no sampled
subnet learns (best one-shot accuracy of 20 random cells 14 %), although one *fixed* path trained the same way
reaches 1.98. A single random classifier cannot read the features of thousands of different random paths
whose BNs can only rescale channels; with the classifier trained, ``all+classifier`` reaches 2.09 and the best
of 20 random subnets 57 % one-shot accuracy (full training: 1.27, 77 %). ``benchmarks/bn_only_learning.py``
prints the curves. The classifier adds ``4C x classes + classes`` weights (650 at C=16 on 10 classes); the BN
score still reads only the ops' BN scales.
"""

from __future__ import annotations

from torch import nn

from bnbench.errors import BnbenchError
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


def classifier_of(model: nn.Module) -> nn.Module:
    """The supernet's final classifier (every space's supernet names it ``classifier``)."""
    head = getattr(model, "classifier", None)
    if not isinstance(head, nn.Module):
        raise BnbenchError(f"{type(model).__name__} has no 'classifier' module: bn_scope '+classifier' cannot train it")
    return head


def select_trainable(model: nn.Module, train_mode: str, bn_scope: str = "last") -> list[nn.Parameter]:
    """Set ``requires_grad`` according to ``train_mode`` (``full`` / ``bn``) and ``bn_scope`` (module docstring)
    and return the trainable parameters. BnbenchError for a supernet without a ``classifier`` under a
    ``+classifier`` scope."""
    if train_mode == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return list(model.parameters())
    for p in model.parameters():
        p.requires_grad_(False)
    base, _, extra = bn_scope.partition("+")
    if base == "last":
        norms = op_last_bns(model)
    else:
        norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d) and m.affine]
    params = [p for norm in norms for p in (norm.weight, norm.bias)]
    if extra == "classifier":
        params += list(classifier_of(model).parameters())
    for p in params:
        p.requires_grad_(True)
    return params
