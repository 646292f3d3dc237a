"""Zen-score (Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition", ICCV 2021;
idstcv/ZenNAS ``ZeroShotProxy/compute_zen_score.py``).

With Gaussian inputs x, e ~ N(0, 1), mixing gamma = 0.01 and f the feature map before global pooling,

    score = log( mean_n sum_{c,h,w} |f(x) - f(x + gamma e)| ) + sum_BN log sqrt( mean_k sigma2_k )

Conventions (as the reference): Gaussian re-initialisation, conv/linear weights ~ N(0, 1) with zero
biases, affine BN weights 1 and biases 0; train mode; inputs of the batch's shape drawn from a
generator seeded with the run's seed (the same for every architecture); data-free; one repeat.
sigma2 is what each BN's ``running_var`` holds after the reference's two forward passes from a fresh
state (momentum 0.1): 0.81 + 0.09 v(x) + 0.1 v(x + gamma e), v = unbiased batch variance per channel.
It is computed from the BN inputs, so BNs without running statistics (the ``zc`` cells) count the same
way. f is the input of the network's last ``AdaptiveAvgPool2d``. Higher is better.
"""

from __future__ import annotations

import torch
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.indicators.zc.common import Batch, NetFactory, shape_batch
from bnbench.indicators.zc.runner import proxy

GAMMA, MOMENTUM = 1e-2, 0.1


def gaussian_init(net: nn.Module) -> None:
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


@proxy("zen", higher_is_better=True, needs=(), batch=shape_batch,
       summary="Zen-score: log feature change under input mixing + sum of log BN scales (Gaussian init)")
@torch.no_grad()
def zen(make: NetFactory, batch: Batch) -> float:
    net = make(init=gaussian_init)
    pools = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        raise BnbenchError("zen needs a network with a global pooling layer (nn.AdaptiveAvgPool2d)")
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    variances: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(norms))}
    features: list[torch.Tensor] = []
    handles = [pools[-1].register_forward_hook(lambda m, inp, out: features.append(inp[0]))]
    handles += [m.register_forward_hook(lambda m, inp, out, i=i: variances[i].append(inp[0].var(dim=(0, 2, 3))))
                for i, m in enumerate(norms)]
    generator = torch.Generator(device=batch.device).manual_seed(batch.seed)
    x = torch.randn(batch.shape, generator=generator, device=batch.device)
    mixed = x + GAMMA * torch.randn(batch.shape, generator=generator, device=batch.device)
    try:
        net(x)
        net(mixed)
    finally:
        for h in handles:
            h.remove()
    change = (features[0] - features[1]).abs().sum(dim=(1, 2, 3)).mean()
    log_bn = sum(torch.log(torch.sqrt(((1 - MOMENTUM) ** 2 + (1 - MOMENTUM) * MOMENTUM * v[0] + MOMENTUM * v[1]).mean()))
                 for v in variances.values() if len(v) == 2)
    return float(torch.log(change) + log_bn)
