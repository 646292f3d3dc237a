"""The MobileNet (MBConv) search space as BN-NAS searched it (Chen et al., "BN-NAS: Neural Architecture Search with
Batch Normalization", ICCV 2021), a ProxylessNAS-GPU layout (Cai et al., ICLR 2019) in SPOS form.

Source of the layout: the authors' code, github.com/bychen515/BNNAS, ``BNNAS/supernet/super_model.py``
(``SuperNetwork``), ``BNNAS/supernet/config.py`` (``blocks_keys``, ``backbone_info``) and
``BNNAS/supernet/torch_blocks.py`` (``InvertedResidual``): stem 3x3 conv stride 2 to 40 channels; a fixed
expansion-1 3x3 MBConv to 24; 21 searchable layers in stages (width, layers, first stride) (32, 4, 2), (56, 4, 2),
(112, 4, 2), (128, 4, 1), (256, 4, 2), (432, 1, 1); head 1x1 conv to 1728, global pooling, linear classifier.
Choices per layer: MBConv kernel 3/5/7 x expansion 3/6 (6 blocks, BN-NAS's op ids 0..5). Details, the width
multiplier and the **reduced layout** for small inputs (below 64 px the stem and stage 1's first layer run at stride
1: CIFAR 32x32 ends at 4x4, digits 8x8 at 1x1): :mod:`~bnbench.spaces.mobilenet.layout`.

Representations, and how to walk them:

* **string**: 21 blocks joined by ``-``, e.g. ``k3e6-k5e3-...-k7e6`` (``id`` for an identity layer in the depth
  space) (:mod:`~bnbench.spaces.mobilenet.arch`: ``parse``, ``to_str``); a wrong number of layers, an unknown block
  or an ``id`` where it is not allowed is a one-line ArchError.
* **encoding**: 21 int64 choice indices (``BLOCKS`` order, ``id`` = 6); ``parse(to_str(row)) == row``.
* **decisions / choices**: one decision per layer, its choices the block names (plus ``id`` where allowed);
  ``choices`` is the encoding (no decision is ever unused).
* **canonical form**: identities moved to the end of their stage (the same stand-alone network); the string and
  the **truth key** keep positions (different supernet paths; BN-NAS samples positions).
* **population**: 6^21 (``mobilenet``) or 6^6 x 7^15 (``mobilenet-depth``) architectures: ``all_archs`` raises;
  ``sample(n, seed)`` draws distinct ones uniformly per layer, ``random_paths`` with replacement
  (:mod:`~bnbench.spaces.mobilenet.sampling`).

Networks: :mod:`~bnbench.spaces.mobilenet.ops` (MBConv), :mod:`~bnbench.spaces.mobilenet.model` (skeleton and
stand-alone network), :mod:`~bnbench.spaces.mobilenet.supernet` (single-path supernet and its slots: each MBConv
slot's last BN is its projection BN, the one BN-NAS scores), :mod:`~bnbench.spaces.mobilenet.cost` (exact params /
MACs / FLOPs). The interface adapters are ``SPACE`` and ``SPACE_DEPTH`` (:mod:`~bnbench.spaces.mobilenet.space`).
"""

from __future__ import annotations

from bnbench.spaces.mobilenet.space import SPACE, SPACE_DEPTH, MobileNetOptions, MobileNetSpace

__all__ = ["MobileNetOptions", "MobileNetSpace", "SPACE", "SPACE_DEPTH"]
