"""Where and in which memory layout a network runs: :func:`place`.

On the CPU every network bnbench trains or scores is kept in ``channels_last`` (NHWC) memory format. PyTorch's
CPU convolutions (oneDNN) work in a blocked NHWC layout; given NCHW tensors they reorder the activations to and
from it on every call, which costs about as much as the convolution itself at NB201 size. Converting the model
once is enough: a convolution whose weight is ``channels_last`` returns ``channels_last`` output, so the layout
propagates from the first layer (the input images may stay NCHW). The arithmetic is the same up to float32
round-off (a different summation order inside the convolution). Measured (``benchmarks/train_throughput.py``, one
thread, quiet machine, 2026-12-02): NB201 SPOS supernet steps at C=16 N=5 32x32 1.57x faster in full and 1.60x in
BN-only training, 1.43x / 1.38x at C=8 N=1 16x16; a zero-cost forward+backward of an NB201 cell about 1.8x (runs
interleaved on a shared machine). Exception: GraSP's double backward gains less (NCHW was 1.4 s against 1.7 s per
cell) but stays in this layout so that proxies scored together equal their single values. CUDA tensors keep NCHW:
cuDNN picks its own layout and channels_last in float32 has not been measured there.
"""

from __future__ import annotations

import torch
from torch import nn


def place(model: nn.Module, device: torch.device | str) -> nn.Module:
    """``model`` moved to ``device`` (in place, returned); on the CPU in ``channels_last`` memory format
    (4-D parameters and buffers; others are unchanged)."""
    device = torch.device(device)
    if device.type == "cpu":
        return model.to(device=device, memory_format=torch.channels_last)
    return model.to(device)
