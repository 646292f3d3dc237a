"""Supernet training on several processes: ``torchrun --nproc_per_node N bnbench train-supernet ...``.

torchrun sets ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` / ``MASTER_ADDR`` / ``MASTER_PORT``; :func:`init_from_env`
then joins the process group (gloo on CPU, NCCL on GPUs, one GPU per process: ``cuda:LOCAL_RANK``). The supernet is
wrapped in :class:`torch.nn.parallel.DistributedDataParallel` (``find_unused_parameters``: a SPOS path leaves the
other candidate ops without gradient). Every rank draws the same path and the same global batch each step (the
path and data generators are seeded identically), and trains on its own ``1/N`` slice of that batch
(``x[rank::N]``); DDP averages the gradients, so one step is one step of the global batch ``--batch-size`` with the
same learning rate and schedule as a single process. BatchNorm statistics are computed per rank (per slice), as in
standard DDP; that is the one arithmetic difference from single-process training. Only rank 0 writes the
checkpoint and the log; the checkpoint holds the unwrapped model and resumes in a single process or under torchrun.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def launched() -> bool:
    """True when started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str = "auto") -> str:
    """Join torchrun's process group if this process was launched by it with ``WORLD_SIZE`` > 1; returns the device
    this rank trains on (``device`` unchanged outside torchrun)."""
    if not launched() or dist.is_initialized():
        return device
    cuda = torch.cuda.is_available() and device in ("auto",) or device.startswith("cuda")
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        dist.init_process_group("nccl")
        return f"cuda:{local}"
    dist.init_process_group("gloo")
    return "cpu"


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` in DDP when a process group with more than one rank is active, else ``model`` itself."""
    if world()[1] == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, find_unused_parameters=True)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


def shard(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's slice ``[rank::world]`` of a global batch."""
    rank, size = world()
    return (x, y) if size == 1 else (x[rank::size], y[rank::size])


def is_main() -> bool:
    return world()[0] == 0


def finish() -> None:
    """Leave the process group (torchrun runs only)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
