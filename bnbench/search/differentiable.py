"""Differentiable architecture search with BNAS-v2's remedies against performance collapse (Ding et al.,
"BNAS-v2: Memory-efficient and Performance-collapse-prevented Broad Neural Architecture Search", arXiv 2009.08886),
on any space with a continuous relaxation (``SearchSpace.relaxed_supernet``: the NB201 cell,
:mod:`bnbench.spaces.nb201.relaxed`; the DARTS cell space, :mod:`bnbench.spaces.darts.relaxed`).

Bilevel optimisation, first order (DARTS's ``--unrolled`` off) by default: the training images are split once into two
disjoint, class-stratified halves (DARTS's 50/50 split of the training set); every step first updates the
architecture parameters (``alpha``, and ``beta`` with edge normalisation) by Adam on the cross-entropy of a batch of
the second half, then the network weights by SGD (Nesterov momentum, cosine learning rate, gradient norm clipped
to 5) on a batch of the first half. DARTS's hyper-parameters are the defaults (weights: lr 0.025 -> 0.001,
momentum 0.9, weight decay 3e-4; architecture: Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3).

Second order (``order=2``, DARTS's ``--unrolled``; Liu et al. eq. 7-8): the architecture gradient is taken at the
weights after one virtual step of the weight optimiser, ``w' = w - xi * step(grad_w L_train(w, alpha))`` (the
optimiser's own update: Nesterov momentum from its buffers and weight decay; no clipping, as DARTS), with
``xi`` the weights' current learning rate::

    grad_alpha L_val(w', alpha) - xi * k * [grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)] / (2 eps)

with ``k = 1 + momentum`` for the Nesterov step (its update holds the fresh gradient twice; DARTS's plain momentum
has ``k = 1``), where ``w+- = w +- eps * grad_w' L_val(w', alpha)`` and ``eps = 0.01 / ||grad_w' L_val(w', alpha)||`` (the
finite-difference Hessian-vector product of DARTS's ``architect.py``). About three times the cost of a first-order
architecture step.

The two remedies, each switchable on its own:

* **Confident learning rate** (``clr``): the architecture learning rate of epoch ``t`` (0-based) of ``E`` is
  ``arch_lr * ((t + 1) / E) ** clr_power`` (power 2 in the authors' code): early, when the one-shot weights are
  poorly trained and their gradients with respect to alpha are not to be trusted, alpha barely moves. The learning
  rate is scaled, not the gradient: Adam divides the gradient by its running magnitude, so a scaled gradient would
  move alpha by almost the same step.
* **Partial channel connections + edge normalisation** (``partial`` K > 1, ``edge_norm``): see the relaxed cell.

``train_mode="bn"`` trains only the candidate ops' and the skeleton's BN affine parameters, the classifier and
alpha (the project's BN-only supernets; candidate-op BNs then get affine parameters).

Each epoch records the derived architecture, the share of parameter-free ops in it (NB201: ``none``, ``skip_connect``,
``avg_pool_3x3``; DARTS: skip and poolings; the symptom of collapse), the mean entropy of the op weights and alpha
itself.

With ``state_path`` the whole search state (network weights and BN statistics, alpha and beta, both optimisers,
the history) is written atomically after every epoch and a run finding it resumes after its last finished epoch.
Every epoch draws its batches from a generator seeded with ``(seed, epoch)``, so a resumed search ends with exactly
the alpha of an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from bnbench.datasets import BatchAugmenter, Dataset, ImageSplit, iterate_batches
from bnbench.datasets.sampling import stratified_split
from bnbench.errors import BnbenchError
from bnbench.train.loop import cosine_lr
from bnbench.utils.io import atomic_torch_save
from bnbench.utils.placement import place

TRAIN_MODES = ("full", "bn")


@dataclass(frozen=True)
class DifferentiableConfig:
    """A differentiable search run (module docstring); sizes as ``train-supernet``'s knobs."""

    epochs: int = 50
    channels: int | None = None  # None: the space's search default (NB201 C=16; DARTS C=16)
    cells: int | None = None  # None: NB201 N=5; DARTS 8 cells
    resolution: int | None = None
    train_fraction: float = 1.0
    batch_size: int = 64
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_weight_decay: float = 1e-3
    clr: bool = False
    clr_power: float = 2.0
    order: int = 1
    partial: int = 1
    edge_norm: bool = False
    train_mode: str = "full"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.train_mode not in TRAIN_MODES:
            raise BnbenchError(f"--train-mode {self.train_mode!r}: expected one of {', '.join(TRAIN_MODES)}")
        if self.order not in (1, 2):
            raise BnbenchError(f"differentiable search --order {self.order}: expected 1 (first order) or 2 (unrolled)")
        if self.epochs < 1 or self.batch_size < 1:
            raise BnbenchError(f"differentiable search: epochs {self.epochs} and batch size {self.batch_size} must "
                               "be positive")

    def confidence(self, epoch: int) -> float:
        """BNAS-v2's confidence of epoch ``epoch`` (0-based): ``((epoch + 1) / epochs) ** clr_power``; 1 without CLR."""
        return ((epoch + 1) / self.epochs) ** self.clr_power if self.clr else 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DifferentiableResult:
    """The search's history (one dict per epoch: derived cell, parameter-free share, entropy, losses, alpha) and
    its final architecture parameters."""

    model: torch.nn.Module
    history: list[dict]
    config: DifferentiableConfig
    seconds: float
    space: Any = None

    @property
    def derived(self) -> np.ndarray:
        return self.model.derive()

    def alpha(self) -> np.ndarray:
        return self.model.alpha.detach().cpu().numpy()


def split_halves(split: ImageSplit, seed: int) -> tuple[ImageSplit, ImageSplit]:
    """Two disjoint class-stratified halves of ``split`` (weights, architecture)."""
    labels = split.y.cpu().numpy()
    first, second = stratified_split(labels, len(labels) // 2, [seed, 7])
    index = [torch.as_tensor(part, device=split.x.device) for part in (first, second)]
    return tuple(ImageSplit(split.x[i], split.y[i]) for i in index)


def _trainable(model: torch.nn.Module, mode: str) -> list[torch.nn.Parameter]:
    if mode == "full":
        return model.weight_parameters()
    keep = [p for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.affine
            for p in (m.weight, m.bias)] + list(model.classifier.parameters())
    ids = {id(p) for p in keep}
    for p in model.weight_parameters():
        p.requires_grad_(id(p) in ids)
    return keep


def search(dataset: Dataset, cfg: DifferentiableConfig, progress: Callable[[str], None] | None = None,
           space: Any = "nb201", state_path: str | Path | None = None,
           stop_after: int | None = None) -> DifferentiableResult:
    """Run the differentiable search of the module docstring on ``dataset``'s training images in ``space`` (a
    name or a SearchSpace; BnbenchError where it has no relaxation).

    ``state_path``: the per-epoch search state (module docstring), resumed from when it exists; BnbenchError (one
    line) when it is corrupt or was written by another space, configuration or training set. ``stop_after``: stop
    after that many epochs (of ``cfg.epochs``; the schedules stay those of the whole run), as an interrupted run
    would."""
    from bnbench.spaces import get_space

    space = get_space(space) if isinstance(space, str) else space
    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    device = dataset.train.x.device
    train = dataset.train
    if cfg.train_fraction < 1:
        from bnbench.datasets.sampling import stratified_subset

        keep = torch.as_tensor(stratified_subset(train.y.cpu().numpy(), cfg.train_fraction, [cfg.seed, 3]),
                               device=device)
        train = ImageSplit(train.x[keep], train.y[keep])
    weights_half, arch_half = split_halves(train, cfg.seed)
    if len(arch_half) < cfg.batch_size:
        raise BnbenchError(f"differentiable search: {len(weights_half)} + {len(arch_half)} training images (weights / "
                           f"architecture halves) hold no batch of {cfg.batch_size}; lower --batch-size or raise "
                           "--train-fraction")
    model = space.relaxed_supernet(cfg.channels, cfg.cells, dataset.num_classes, train.x.shape[1], cfg.partial,
                                   cfg.edge_norm, affine=cfg.train_mode == "bn")
    model = place(model, device).train()
    w_opt = torch.optim.SGD(_trainable(model, cfg.train_mode), lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
                            weight_decay=cfg.weight_decay)
    a_opt = torch.optim.Adam(model.arch_parameters(), lr=cfg.arch_lr, betas=(0.5, 0.999),
                             weight_decay=cfg.arch_weight_decay)
    augmenter = BatchAugmenter(dataset.mean, dataset.std, dataset.augment, cfg.resolution)
    steps = max(1, len(weights_half) // cfg.batch_size)
    total = cfg.epochs * steps
    history: list[dict] = []
    first, earlier = 0, 0.0
    data = _data_record(dataset, train)
    if state_path is not None and Path(state_path).exists():
        first, history, earlier = _restore(Path(state_path), space, cfg, data, model, w_opt, a_opt)
        if progress is not None and first:
            progress(f"differentiable search: resumed from {state_path} after epoch {first}/{cfg.epochs}")
    last = cfg.epochs if stop_after is None else min(cfg.epochs, stop_after)
    for epoch in range(first, last):
        gen = torch.Generator(device=device).manual_seed(int(np.random.SeedSequence([cfg.seed, epoch]).generate_state(1)[0]))
        for group in a_opt.param_groups:
            group["lr"] = cfg.arch_lr * cfg.confidence(epoch)
        w_loss = a_loss = 0.0
        w_batches = iterate_batches(weights_half, cfg.batch_size, augmenter, train=True, generator=gen, shuffle=True,
                                    drop_last=True)
        a_batches = iterate_batches(arch_half, cfg.batch_size, augmenter, train=True, generator=gen, shuffle=True,
                                    drop_last=True)
        for step, ((xw, yw), (xa, ya)) in enumerate(zip(w_batches, a_batches)):
            lr = cfg.lr_min + (cosine_lr(cfg.lr, epoch * steps + step, total) / cfg.lr) * (cfg.lr - cfg.lr_min)
            for group in w_opt.param_groups:
                group["lr"] = lr
            a_opt.zero_grad(set_to_none=True)
            if cfg.order == 2:
                loss = unrolled_arch_grad(model, w_opt, (xw, yw), (xa, ya))
            else:
                loss = F.cross_entropy(model(xa), ya)
                loss.backward()
            a_opt.step()
            a_loss += float(loss.detach())
            w_opt.zero_grad(set_to_none=True)
            a_opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xw), yw)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in w_opt.param_groups for p in g["params"]], cfg.grad_clip)
            w_opt.step()
            w_loss += float(loss.detach())
        n = max(step + 1, 1)
        record = epoch_record(space, model, epoch, w_loss / n, a_loss / n, cfg)
        history.append(record)
        if progress is not None:
            progress(f"differentiable search epoch {epoch + 1}/{cfg.epochs}: weight loss {record['weight_loss']:.3f}, "
                     f"arch loss {record['arch_loss']:.3f}, derived {record['derived']}, parameter-free "
                     f"{record['parameter_free']:.2f}")
        if state_path is not None:
            atomic_torch_save({"kind": STATE_KIND, "space": space.name, "config": cfg.to_dict(), "data": data,
                               "epoch": epoch + 1, "model": model.state_dict(), "weights_optimizer": w_opt.state_dict(),
                               "arch_optimizer": a_opt.state_dict(), "history": history,
                               "seconds": earlier + time.perf_counter() - start}, state_path)
    return DifferentiableResult(model, history, cfg, earlier + time.perf_counter() - start, space)


STATE_KIND = "bnbench differentiable search state"
STATE_FILE = "search.state.pt"  # the file name the CLI keeps the state under, in the run's directory


def _data_record(dataset: Dataset, train: ImageSplit) -> dict:
    """What the state records about the images searched on (checked before a resume)."""
    images = (dataset.images.get("train") or {})
    return {"dataset": dataset.name, "images": int(len(train)), "shape": list(train.x.shape[1:]),
            "digest": images.get("digest"), "classes": int(dataset.num_classes)}


def _restore(path: Path, space: Any, cfg: DifferentiableConfig, data: dict, model: torch.nn.Module,
             w_opt: torch.optim.Optimizer, a_opt: torch.optim.Optimizer) -> tuple[int, list[dict], float]:
    """Load a search state into the model and optimisers; returns (epochs done, history, seconds spent)."""
    hint = f"delete {path} or use another --out"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a corrupt file
        raise BnbenchError(f"search state {path} is unreadable ({type(exc).__name__}): {hint}") from None
    if not isinstance(state, dict) or state.get("kind") != STATE_KIND:
        raise BnbenchError(f"search state {path} is not a bnbench differentiable search state: {hint}")
    if state.get("space") != space.name:
        raise BnbenchError(f"search state {path} is of space {state.get('space')!r}, not {space.name!r}: {hint}")
    saved = state.get("config") or {}
    mine = cfg.to_dict()
    if saved != mine:
        diff = {k: (saved.get(k), v) for k, v in mine.items() if saved.get(k) != v}
        raise BnbenchError(f"search state {path} was written with a different config {diff}: {hint}")
    if state.get("data") != data:
        raise BnbenchError(f"search state {path} searched other images ({state.get('data')}, not {data}): {hint}")
    try:
        model.load_state_dict(state["model"])
        w_opt.load_state_dict(state["weights_optimizer"])
        a_opt.load_state_dict(state["arch_optimizer"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise BnbenchError(f"search state {path} does not fit this network ({str(exc).splitlines()[0]}): "
                           f"{hint}") from None
    return int(state["epoch"]), list(state["history"]), float(state.get("seconds", 0.0))


def unrolled_arch_grad(model: torch.nn.Module, w_opt: torch.optim.SGD, train_batch: tuple[torch.Tensor, torch.Tensor],
                       val_batch: tuple[torch.Tensor, torch.Tensor], radius: float = 0.01) -> torch.Tensor:
    """Set ``.grad`` of ``model.arch_parameters()`` to DARTS's second-order architecture gradient (module docstring)
    and return ``L_val(w', alpha)``. ``radius``: the finite difference's step ``eps * ||v||`` (DARTS's 0.01; the
    gradient of a ReLU network has kinks, so a step this long gives a smoothed Hessian-vector product: only a far
    shorter one, in float64, reproduces the exact product, which the tests check). ``w_opt``: the weight optimiser
    (SGD; its learning rate is ``xi``, its momentum buffers, Nesterov flag and weight decay define the virtual
    step); its parameters are the weights unrolled, the model's own parameters are left as they were."""
    from torch.func import functional_call

    arch = model.arch_parameters()
    group = w_opt.param_groups[0]
    weights = [p for g in w_opt.param_groups for p in g["params"]]
    names = {id(p): n for n, p in model.named_parameters()}
    keys = [names[id(p)] for p in weights]
    xi, momentum, decay, nesterov = group["lr"], group["momentum"], group["weight_decay"], group["nesterov"]

    def loss_at(values: list[torch.Tensor] | None, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        out = model(batch[0]) if values is None else functional_call(model, dict(zip(keys, values)), (batch[0],))
        return F.cross_entropy(out, batch[1])

    grads = torch.autograd.grad(loss_at(None, train_batch), weights)
    unrolled = []
    for w, g in zip(weights, grads):
        d = g + decay * w.detach()
        buf = w_opt.state.get(w, {}).get("momentum_buffer")
        buf = d if buf is None else momentum * buf + d
        step = d + momentum * buf if nesterov else buf
        unrolled.append((w.detach() - xi * step).requires_grad_(True))
    val_loss = loss_at(unrolled, val_batch)
    found = torch.autograd.grad(val_loss, arch + unrolled)
    d_arch, v = found[:len(arch)], found[len(arch):]
    eps = radius / torch.sqrt(sum((x * x).sum() for x in v)).clamp_min(1e-12)
    implicit = []
    for sign in (1.0, -1.0):
        shifted = [w.detach() + sign * eps * x for w, x in zip(weights, v)]
        implicit.append(torch.autograd.grad(loss_at(shifted, train_batch), arch))
    scale = xi * (1 + momentum if nesterov else 1.0)  # d w'/d grad: Nesterov applies the fresh gradient twice
    for a, direct, plus, minus in zip(arch, d_arch, *implicit):
        a.grad = direct - scale * (plus - minus) / (2 * eps)
    return val_loss.detach()


def epoch_record(space: Any, model: torch.nn.Module, epoch: int, weight_loss: float, arch_loss: float,
                 cfg: DifferentiableConfig) -> dict:
    weights = model.op_weights().detach().cpu().numpy()
    derived = model.derive()
    entropy = float(-(weights * np.log(np.clip(weights, 1e-12, 1))).sum(axis=1).mean())
    return {"epoch": epoch + 1, "weight_loss": weight_loss, "arch_loss": arch_loss, "derived": space.to_str(derived),
            "parameter_free": model.parameter_free(derived),
            "entropy": entropy, "max_entropy": math.log(weights.shape[1]), "confidence": cfg.confidence(epoch),
            "alpha": model.alpha.detach().cpu().tolist()}


CHECKPOINT_KIND = "bnbench differentiable search"


def checkpoint(result: DifferentiableResult) -> dict:
    """The JSON document of a finished search: what the ``dartsalpha`` indicator reads (``space``; ``alpha``: the
    op weights' logits, one row per decision of the space, its choices in the space's order, then ``none`` where
    the relaxation has it as an extra column) and what it was trained with (config, history)."""
    model = result.model
    alpha = model.alpha.detach().cpu().numpy()
    return {"kind": CHECKPOINT_KIND, "space": result.space.name, "alpha": alpha.reshape(-1, alpha.shape[-1]).tolist(),
            "beta": None if model.beta is None else model.beta.detach().cpu().tolist(),
            "derived": result.space.to_str(result.derived), "config": result.config.to_dict(),
            "history": result.history, "seconds": result.seconds}
