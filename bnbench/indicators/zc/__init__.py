"""Zero-cost proxies scored per architecture on a freshly initialised network (see ``common`` and ``runner``).

Importing this package registers: synflow, snip, grasp, fisher, fisher_naslib, grad_norm, jacob_cov, nwot,
plain, l2_norm, epe_nas, zen, te_ntk (lower is better) and te_linear_regions. ``fisher`` follows zero-cost-nas,
``fisher_naslib`` NAS-Bench-Suite-Zero (see :mod:`~bnbench.indicators.zc.fisher`). ``params``, ``flops`` and
``macs`` live in :mod:`bnbench.indicators.cost`.
"""

from bnbench.indicators.zc import (  # noqa: F401  (registration side effects)
    epe_nas, fisher, grad_norm, grasp, jacob_cov, l2_norm, nwot, plain, snip, synflow, te_linear_regions, te_ntk, zen)

PROXIES = ("synflow", "snip", "grasp", "fisher", "fisher_naslib", "grad_norm", "jacob_cov", "nwot", "plain", "l2_norm",
           "epe_nas", "zen", "te_ntk", "te_linear_regions")
