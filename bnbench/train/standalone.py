"""Training one stand-alone network of any search space from scratch (the ground truth bnbench builds itself)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from bnbench.datasets import BatchAugmenter, ImageSplit, iterate_batches
from bnbench.errors import BnbenchError
from bnbench.spaces import get_space
from bnbench.train import loop
from bnbench.utils.io import atomic_torch_save
from bnbench.utils.placement import place
from bnbench.utils.seed import deterministic_cuda
from bnbench.train.config import TrainConfig


def run_seed(seed: int, *parts: int) -> int:
    """A 63-bit seed derived from ``seed`` and the run's coordinates (encoding entries, fold, ...); negative
    entries (an unused decision, -1) enter as their 32-bit two's complement."""
    words = [int(seed), *(int(p) & 0xFFFFFFFF if int(p) < 0 else int(p) for p in parts)]
    return int(np.random.SeedSequence(words).generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))


STALE_WEIGHT = 0.01  # running statistics still this much their initial values count as not estimated


def initial_weight(net: nn.Module, steps: int) -> float:
    """The largest weight any BN's running statistics still give their initial values (mean 0, variance 1) after
    ``steps`` training updates: ``max over BNs of (1 - momentum) ** steps`` (PyTorch's ``momentum`` is the weight of
    the new batch); 0.0 when the network has no BN with running statistics.

    NB101's official BN momentum (TF decay 0.997, PyTorch 0.003) is made for 108 epochs of about 390 steps: after the
    few hundred steps of a reduced CPU run its running statistics are still about 70 % their initial values, and a
    network evaluated with them is at chance whatever it learnt. NB201's momentum 0.1 forgets them in about 50 steps.
    """
    weights = [(1.0 - float(m.momentum)) ** steps for m in net.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats and m.momentum is not None]
    return max(weights, default=0.0)


def train_network(ops, train: ImageSplit, test: ImageSplit, cfg: TrainConfig, mean, std, augment,
                  num_classes: int, seed: int, stop: int | None = None, resume: str | Path | None = None,
                  checkpoint: str | Path | None = None) -> float:
    """Train the stand-alone network of ``ops`` (in ``cfg.space``, with ``cfg``'s build options) on ``train`` for ``cfg.epochs`` and return its top-1 accuracy (%) on ``test``.

    ``stop``: train only the first ``stop`` epochs of the ``cfg.epochs`` schedule (the learning rate follows the
    whole schedule) and evaluate that network; ``checkpoint``: write the run's state after its last epoch there
    (atomically: weights, BN statistics, optimiser, the data-order generator and torch's RNG); ``resume``: start
    from such a checkpoint (of the same architecture, configuration and seed) instead of epoch 0. A run stopped,
    checkpointed and resumed ends with exactly the network of the uninterrupted run (same arithmetic on the CPU).
    Raises BnbenchError (one line) for a checkpoint that cannot be read or belongs to another run.

    SGD (Nesterov momentum ``cfg.momentum``), cosine learning rate from ``cfg.lr``, weight decay
    ``cfg.weight_decay``, batch ``cfg.batch_size``, the dataset's default augmentation; everything
    is seeded from ``seed``. A network with ``set_progress(fraction)`` is told ``epoch / epochs`` at the start of
    each epoch (DARTS's drop-path ramp) and one with ``auxiliary_loss(y)`` has it added to the loss (DARTS's
    auxiliary head, weight 0.4); both are off unless the space option asks for them (``auxiliary``,
    ``drop_path_prob``).

    Evaluation uses the BN running statistics training estimated, unless they are not estimated: when some BN
    still gives its initial statistics a weight above ``STALE_WEIGHT`` (:func:`initial_weight`; NB101's official
    momentum on a reduced run), every BN's statistics are recomputed, before evaluating, as the plain average over
    one more pass of augmented training batches (:func:`bnbench.train.loop.recalibrate_bn`), so the accuracy
    measures what the network learnt. Full-length protocols (NB101's 108 epochs, NB201's any) never trigger it.
    """
    torch.manual_seed(seed)
    if train.x.device.type == "cuda":
        deterministic_cuda()
    net = get_space(cfg.space).network(ops, cfg.build_options(), num_classes=num_classes, in_channels=train.x.shape[1])
    net = place(net, train.x.device)
    optimizer = loop.sgd(list(net.parameters()), cfg.lr, cfg.momentum, cfg.weight_decay)
    augmenter = BatchAugmenter(mean, std, augment, cfg.resolution)
    gen = torch.Generator(device=train.x.device).manual_seed(seed)
    steps = max(1, len(train) // cfg.batch_size)
    stop = cfg.epochs if stop is None else int(stop)
    identity = {"ops": [int(o) for o in ops], "config": cfg.to_dict(), "seed": int(seed), "images": len(train)}
    start = _resume(resume, identity, net, optimizer, gen) if resume is not None else 0
    if not 0 <= start < stop <= cfg.epochs:
        raise BnbenchError(f"training epochs {start}..{stop} of a {cfg.epochs}-epoch run: nothing to train")
    progress, extra_loss = getattr(net, "set_progress", None), getattr(net, "auxiliary_loss", None)
    for epoch in range(start, stop):
        net.train()
        if progress is not None:  # e.g. DARTS's drop-path ramp
            progress(epoch / cfg.epochs)
        batches = iterate_batches(train, cfg.batch_size, augmenter, train=True, generator=gen, shuffle=True, drop_last=True)
        for step, (x, y) in enumerate(batches):
            loop.set_lr(optimizer, loop.cosine_lr(cfg.lr, epoch * steps + step, cfg.epochs * steps, cfg.schedule))
            loop.train_step(net, optimizer, x, y, extra_loss, cfg.label_smoothing, cfg.grad_clip)
    if checkpoint is not None:  # before the evaluation below (it may recalibrate BN and draws from ``gen``)
        atomic_torch_save({"identity": identity, "epoch": stop, "model": net.state_dict(),
                           "optimizer": optimizer.state_dict(), "generator": gen.get_state(),
                           "rng": _rng_state(train.x.device)}, checkpoint)
    if initial_weight(net, stop * steps) > STALE_WEIGHT:
        batches = iterate_batches(train, cfg.batch_size, augmenter, train=True, generator=gen, shuffle=True, drop_last=True)
        loop.recalibrate_bn(net, net, (x for x, _ in batches))
    net.eval()
    test_batches = iterate_batches(test, 512, augmenter, train=False, generator=None, shuffle=False)
    return loop.accuracy(net, test_batches)


def _rng_state(device: torch.device) -> dict:
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _resume(path: str | Path, identity: dict, net: nn.Module, optimizer, gen: torch.Generator) -> int:
    """Load the training state at ``path`` into ``net``, ``optimizer``, ``gen`` and torch's RNG; the epoch it ended."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved = state["identity"]
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same one-line error
        raise BnbenchError(f"training checkpoint {path}: cannot be read ({type(err).__name__}); delete it") from None
    if saved != identity:
        diff = sorted(k for k in identity if saved.get(k) != identity[k])
        raise BnbenchError(f"training checkpoint {path} belongs to another run (differs in {', '.join(diff)})")
    net.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    gen.set_state(state["generator"])
    torch.set_rng_state(state["rng"]["cpu"])
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["rng"]["cuda"], gen.device)
    return int(state["epoch"])
