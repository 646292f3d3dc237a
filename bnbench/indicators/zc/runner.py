"""Per-architecture scoring shared by every zero-cost proxy: store lookup, progress bar, ``--jobs``.

:func:`proxy` registers ``fn(make, batch) -> float`` as an indicator. Scoring an architecture set:

1. the batch is built once (``batch(ctx)``: training images, or an input shape for data-free proxies;
   under the ``per-arch`` batch policy, a seeded draw per architecture, see ``Batch.for_arch``);
2. architectures already in the :class:`~bnbench.indicators.zc.store.ScoreStore` are skipped;
3. the rest are scored in this process (``jobs`` = 1) or by ``jobs`` forked CPU workers (one torch
   thread each), every result appended to the store as it arrives (a tqdm bar on a terminal, plain lines in a log: :mod:`bnbench.progress`);
4. a proxy that fails numerically (non-finite value, singular matrix, :class:`Undefined`) gives NaN for
   that architecture and the reason is logged and stored; it never aborts the run.

Each architecture's network is initialised from :func:`~bnbench.indicators.zc.common.arch_seed`, so
results do not depend on order, process or ``jobs``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing as mp
import time
from typing import Any, Callable

import numpy as np
import torch

from bnbench.progress import track
from bnbench.errors import BnbenchError
from bnbench.indicators.registry import ScoringContext, register
from bnbench.indicators.zc.common import DEFAULT_VARIANT, Batch, NetFactory, Undefined, arch_seed, image_batch, network_factory
from bnbench.indicators.zc.store import ScoreStore, store_path

ProxyFn = Callable[[NetFactory, Batch], float]
log = logging.getLogger("bnbench.zc")
_FAILURES = (Undefined, ArithmeticError, RuntimeError, ValueError, np.linalg.LinAlgError)
_JOB: dict[str, Any] = {}  # what forked workers inherit


def proxy(name: str, higher_is_better: bool = True, needs: tuple[str, ...] = ("data",), summary: str = "",
          batch: Callable[[ScoringContext], Batch] = image_batch):
    """Register ``fn(make, batch) -> float`` as the per-architecture indicator ``name``."""

    def wrap(fn: ProxyFn) -> ProxyFn:
        def indicator(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
            return score_archs(name, fn, archs, ctx, batch)

        indicator.__doc__ = fn.__doc__
        register(name, higher_is_better, needs, summary)(indicator)
        return fn

    return wrap


def model_variant(ctx: ScoringContext) -> str:
    variant = str(ctx.options.get("model_variant") or DEFAULT_VARIANT)
    known = getattr(ctx.space, "variants", ("official",))
    if variant not in known:
        raise BnbenchError(f"--model-variant {variant!r}: expected one of {', '.join(known)} (search space {ctx.space.name})")
    return variant


def score_archs(name: str, fn: ProxyFn, archs: np.ndarray, ctx: ScoringContext,
                make_batch: Callable[[ScoringContext], Batch]) -> np.ndarray:
    """Scores of ``archs`` (NaN where undefined), from the store where possible."""
    variant, jobs = model_variant(ctx), ctx.options.get("jobs")
    jobs = 1 if jobs is None else int(jobs)
    if jobs < 1:
        raise BnbenchError(f"--jobs {jobs}: expected a positive number of worker processes")
    batch = make_batch(ctx)
    if getattr(fn, "version", 1) > 1:  # a changed definition is never served records of the old one
        batch = dataclasses.replace(batch, key=f"{batch.key}:{name}-v{fn.version}")
    if jobs > 1 and batch.device.type != "cpu":
        raise BnbenchError(f"--jobs {jobs}: parallel workers run on the CPU only (use --device cpu or --jobs 1)")
    store = ScoreStore(store_path(ctx.options.get("cache_dir")))
    names = [ctx.space.to_str(a) for a in archs]
    keys = [(a, name, variant, ctx.seed, batch.key) for a in names]
    todo = list({k[0]: (tuple(int(o) for o in row), k[0]) for row, k in zip(archs, keys) if k not in store}.values())
    _JOB.update(fn=fn, name=name, batch=batch, space=ctx.space, net=ctx.network, variant=variant, seed=ctx.seed)
    try:
        if jobs == 1 or len(todo) <= 1:
            store.append(track(map(_score_one, todo), len(todo), name, ctx.progress))
        else:
            with mp.get_context("fork").Pool(min(jobs, len(todo)), _init_worker) as pool:
                store.append(track(pool.imap_unordered(_score_one, todo), len(todo), name, ctx.progress))
    finally:
        _JOB.clear()
    records = [store.get(k) for k in keys]
    failed = [r for r in records if r["value"] is None]
    if failed:
        log.warning("%s: undefined for %d of %d architectures (NaN), e.g. %s: %s", name, len(failed), len(records),
                    failed[0]["arch"], failed[0]["reason"])
    return np.array([np.nan if r["value"] is None else float(r["value"]) for r in records], dtype=np.float64)


def _init_worker() -> None:
    torch.set_num_threads(1)


def _score_one(task: tuple[tuple[int, ...], str]) -> dict[str, Any]:
    """Score one architecture with the job's proxy; returns its store record."""
    ops, arch = task
    job = _JOB
    batch = job["batch"].for_arch(arch)
    make = network_factory(job["space"], job["net"], job["variant"], ops, arch_seed(job["seed"], arch), batch.device)
    start = time.perf_counter()
    value, reason = math.nan, None
    try:
        with torch.enable_grad():
            value = float(job["fn"](make, batch))
        if math.isnan(value) or (math.isinf(value) and not getattr(job["fn"], "infinite_ok", False)):
            reason = f"non-finite value ({value})"  # +-inf only where the proxy defines it (nwot: -inf is worst)
    except _FAILURES as err:
        reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else 'no message'}"
    if reason:
        log.info("%s undefined for %s: %s", job["name"], arch, reason)
    return {"arch": arch, "proxy": job["name"], "variant": job["variant"], "seed": job["seed"], "batch": batch.key,
            "value": None if reason else (value if math.isfinite(value) else str(value)),  # JSON has no inf
            "reason": reason, "seconds": time.perf_counter() - start,
            "device": batch.device.type}
