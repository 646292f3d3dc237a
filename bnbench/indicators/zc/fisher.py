"""Fisher (Turner et al., "BlockSwap", ICLR 2020; Theis et al. 2018), as a NAS proxy by Abdelfattah
et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021, in two registered conventions.

For every conv/linear layer with output activations ``a`` (N x K x H x W) and their loss gradient
``g = dL/da``, the per-channel Fisher saliency is

    F_k = 0.5 * mean_n ( sum_{h,w} a[n,k,h,w] * g[n,k,h,w] )^2       (no spatial sum for linear layers)

and, as the references, each channel's value is broadcast to all ``prod(W.shape[1:])`` weights of that
output channel before summing:  score = sum_l sum_k |F_lk| * prod(W_l.shape[1:]). ``a`` is the layer's
raw output (before BN), its bias included; every conv and linear layer counts (stem, cells, both
reduction blocks with their 1x1 shortcut, classifier). Conventions shared by both: L = mean
cross-entropy of one batch, float32, train mode (BN on batch statistics), default initialisation;
layers whose output gets no gradient contribute 0. Higher is better.

The two references run this same code (zero-cost-nas ``foresight/pruners/measures/fisher.py`` and its
copy in NASLib ``naslib/predictors/utils/pruners/measures/fisher.py``: an ``nn.Identity`` hooked on
each layer's output, per-channel values broadcast and summed) on *different NB201 networks*:

* ``fisher`` follows **zero-cost-nas** (SamsungLabs/zero-cost-nas ``nasbench2_pred.py``): it scores the
  network of ``--model-variant`` (default ``zc``, zero-cost-nas's ``nasbench2`` model, whose cell convs
  feed a BN without affine parameters and therefore carry a bias). That bias enters ``a``: train-mode BN
  removes it from the forward pass and from every weight gradient, but not from ``sum_hw a*g`` (per
  sample, ``sum_hw g`` is not zero). Reproduces zero-cost-nas's published NB201 CIFAR-10 rho (0.36 on
  all cells against the test accuracy; bnbench 0.327 on 1,000 stratified cells, README).
* ``fisher_naslib`` follows **NAS-Bench-Suite-Zero** (Krishnakumar et al., NeurIPS 2022 Datasets and
  Benchmarks), computed with NASLib's NB201 graph: once an architecture is fixed, NASLib rebuilds every
  chosen cell op with ``affine=True, track_running_stats=True`` and bias-free convs
  (``nasbench201/conversions.py`` ``update_batchnorms``; ``core/primitives.py`` ``ReLUConvBN``), i.e.
  NB201's own network (stem, reduction blocks and head as zero-cost-nas's). So ``fisher_naslib`` is
  ``fisher`` with ``model_variant = "official"`` bound at registration, whatever ``--model-variant``
  says (per space: :data:`NASLIB_VARIANT`; on NB101 NASLib scores zero-cost-nas's model, so there it
  equals ``fisher`` under the default ``zc``); its rho against the truth is that of NAS-Bench-Suite-Zero's
  published per-architecture fisher values (0.42 vs the cifar10-valid validation accuracy). Its other
  conventions (batch of 32, augmented, drawn per architecture from 70 % of the training set) are not
  bound: the batch size moved rho by 0.001.

Measured (``benchmarks/zc_reproduce.py --sample-archs 200``, per-arch batches of 64, seed 0; README): Spearman
rho vs the cifar10-valid validation accuracy 0.277 (``fisher``) and 0.422 (``fisher_naslib``); the two agree
at 0.79 with each other; ``fisher`` on the ``zc`` network with its conv biases zeroed gives 0.438 and agrees
with ``fisher_naslib`` at 0.98: the bias is essentially the whole difference.
"""

from __future__ import annotations

import math
from typing import Any

from bnbench.errors import BnbenchError
from bnbench.indicators.registry import ScoringContext
from bnbench.indicators.zc.runner import proxy, register_bound
from bnbench.indicators.zc.shared import Pass, Tap

# The network NASLib (NAS-Bench-Suite-Zero) scores, per search space, as a bnbench model variant. NB201: NB201's
# own (see above). NB101: NASLib's ``predictors/utils/models/nasbench1.py`` is a verbatim copy of zero-cost-nas's
# model, bnbench's ``zc`` variant, so there fisher_naslib equals fisher under the default variant. DARTS: NASLib's
# NasBench301SearchSpace graph, bnbench's ``zc`` variant (see bnbench.spaces.darts). MobileNet: NASLib has no such
# network and none is needed: the space's two variants are the same network, so there fisher_naslib equals fisher.
NASLIB_VARIANT = {"nb201": "official", "nb101": "zc", "darts": "zc", "mobilenet": "official",
                  "mobilenet-depth": "official"}


def naslib_options(ctx: ScoringContext) -> dict[str, Any]:
    """The scoring options fisher_naslib binds for ``ctx.space``; a space NASLib's network is not known for is
    refused (one line) rather than scored under a guessed convention."""
    space = getattr(ctx.space, "name", None)
    if space not in NASLIB_VARIANT:
        raise BnbenchError(f"fisher_naslib: NASLib's network is known for {', '.join(NASLIB_VARIANT)} only, not "
                           f"{space}; use fisher with --model-variant")
    return {"model_variant": NASLIB_VARIANT[space]}


def fisher_value(p: Pass) -> float:
    """sum over layers and output channels of |F_k| x fan-in (``p.fisher``: the per-channel saliencies)."""
    return float(sum(f.abs().sum() * math.prod(p.layers[i].weight.shape[1:]) for i, f in p.fisher.items()))


FISHER_TAP = Tap("fisher", fisher_value)
fisher = proxy("fisher", higher_is_better=True, tap=FISHER_TAP,
               summary="Fisher, zero-cost-nas convention: sum of per-channel 0.5*mean_n(sum_hw act*grad)^2 x fan-in, "
                       "on --model-variant (zc: act has the conv bias)")


register_bound("fisher_naslib", FISHER_TAP, naslib_options,
               "Fisher, NAS-Bench-Suite-Zero (NASLib) convention: fisher on NASLib's network (NB201: its own, no "
               "conv bias), whatever --model-variant")
