"""Per-architecture scoring shared by every zero-cost proxy: store lookup, shared passes, progress bar, ``--jobs``.

:func:`proxy` registers a proxy as an indicator: ``fn(make, batch) -> float``, or a :class:`~.shared.Tap` (the
quantity of a shared pass it reads and a value function of it). Scoring an architecture set with one or more
proxies (:func:`score_proxies`):

1. each proxy's batch is built once (``batch(ctx)``: training images, or an input shape for data-free
   proxies; under the ``per-arch`` batch policy, a seeded draw per architecture, see ``Batch.for_arch``);
2. architectures already in the :class:`~bnbench.indicators.zc.store.ScoreStore` are skipped;
3. proxies that read the same network and the same images (same model variant, same batch) are scored
   together from one shared pass (:mod:`~bnbench.indicators.zc.shared`); the others alone;
4. the rest are scored in this process (``jobs`` = 1) or by ``jobs`` forked CPU workers (one torch
   thread each), every result appended to the store as it arrives (a tqdm bar on a terminal, plain lines in a log: :mod:`bnbench.progress`);
5. a proxy that fails numerically (non-finite value, singular matrix, :class:`Undefined`) gives NaN for
   that architecture and the reason is logged and stored; it never aborts the run.

Each architecture's network is initialised from :func:`~bnbench.indicators.zc.common.arch_seed`, so
results do not depend on order, process, ``jobs`` or which proxies are scored together. A record's ``seconds``
is the time charged to that proxy: its own pass, or an equal share of the shared pass it was scored in (the
record's ``shared`` lists the proxies of that pass).

:func:`prefetch` is how a run scores several proxies at once (``experiment.score_indicators``): it fills the
run's store (``ScoringContext.memo``) from shared passes, and each proxy's indicator call then reads it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import multiprocessing as mp
import time
from collections import ChainMap
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch

from bnbench.engine import reason as one_line
from bnbench.errors import BnbenchError
from bnbench.indicators.registry import ScoringContext, register
from bnbench.indicators.zc.common import DEFAULT_VARIANT, Batch, NetFactory, Undefined, arch_seed, image_batch, network_factory
from bnbench.indicators.zc.shared import Tap, run_pass, single
from bnbench.indicators.zc.store import ScoreStore, store_path
from bnbench.progress import track

ProxyFn = Callable[[NetFactory, Batch], float]
log = logging.getLogger("bnbench.zc")
_FAILURES = (Undefined, ArithmeticError, RuntimeError, ValueError, np.linalg.LinAlgError)
_JOB: dict[str, Any] = {}  # what forked workers inherit


@dataclasses.dataclass(frozen=True)
class ProxySpec:
    """A registered proxy: its single-proxy function, how its batch is built, its shared-pass tap (None: it has
    its own pass) and the scoring options it binds whatever the run says (``bind(ctx)``; None: none)."""

    name: str
    fn: ProxyFn
    make_batch: Callable[[ScoringContext], Batch]
    tap: Tap | None = None
    bind: Callable[[ScoringContext], Mapping[str, Any]] | None = None

    def context(self, ctx: ScoringContext) -> ScoringContext:
        """``ctx`` with this proxy's bound options overriding the run's (which are then not read)."""
        if self.bind is None:
            return ctx
        return dataclasses.replace(ctx, options=ChainMap(dict(self.bind(ctx)), ctx.options))


SPECS: dict[str, ProxySpec] = {}


def proxy(name: str, higher_is_better: bool = True, needs: tuple[str, ...] = ("data",), summary: str = "",
          batch: Callable[[ScoringContext], Batch] = image_batch, tap: Tap | None = None):
    """Register a zero-cost proxy as the per-architecture indicator ``name``.

    Without ``tap``: a decorator registering ``fn(make, batch) -> float`` (a proxy with its own pass). With
    ``tap``: registers the proxy that reads ``tap.quantity`` of a shared pass and returns its single-proxy
    function ``value(run_pass(make, batch, {quantity}))``."""

    def wrap(fn: ProxyFn) -> ProxyFn:
        _register(ProxySpec(name, fn, batch, tap), higher_is_better, needs, summary, fn.__doc__)
        return fn

    if tap is not None:
        fn = single(tap)
        fn.__doc__ = tap.value.__doc__
        return wrap(fn)
    return wrap


def register_bound(name: str, tap: Tap, bind: Callable[[ScoringContext], Mapping[str, Any]], summary: str,
                   higher_is_better: bool = True) -> None:
    """Register the image-batch proxy ``name`` reading ``tap`` with the options ``bind(ctx)`` bound: they override
    the run's scoring options of the same name (which are then not read); every other option is the run's."""
    fn = single(tap)
    fn.__doc__ = tap.value.__doc__
    _register(ProxySpec(name, fn, image_batch, tap, bind), higher_is_better, ("data",), summary, fn.__doc__)


def _register(spec: ProxySpec, higher_is_better: bool, needs: tuple[str, ...], summary: str, doc: str | None) -> None:
    SPECS[spec.name] = spec

    def indicator(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
        return score_proxies([spec.name], archs, ctx)[spec.name]

    indicator.__doc__ = doc
    register(spec.name, higher_is_better, needs, summary)(indicator)


def model_variant(ctx: ScoringContext) -> str:
    variant = str(ctx.options.get("model_variant") or DEFAULT_VARIANT)
    known = getattr(ctx.space, "variants", ("official",))
    if variant not in known:
        raise BnbenchError(f"--model-variant {variant!r}: expected one of {', '.join(known)} (search space {ctx.space.name})")
    return variant


@dataclasses.dataclass
class _Member:
    """One proxy of a scoring job: its spec, model variant and batch (key tagged with the proxy's version)."""

    spec: ProxySpec
    variant: str
    batch: Batch
    images: str  # the key of the images it reads (the batch key before the version tag)

    @property
    def name(self) -> str:
        return self.spec.name

    def key(self, arch: str, seed: int) -> tuple:
        return (arch, self.name, self.variant, seed, self.batch.key)


def _member(spec: ProxySpec, ctx: ScoringContext) -> _Member:
    ctx = spec.context(ctx)
    variant = model_variant(ctx)
    batch = spec.make_batch(ctx)
    images = batch.key
    if getattr(spec.fn, "version", 1) > 1:  # a changed definition is never served records of the old one
        batch = dataclasses.replace(batch, key=f"{batch.key}:{spec.name}-v{spec.fn.version}")
    return _Member(spec, variant, batch, images)


def _groups(members: list[_Member]) -> list[list[_Member]]:
    """Members that can share one pass: taps on the same variant, device and images (``weights`` taps read no
    images and join any such group); every other member alone."""
    groups: dict[tuple, list[_Member]] = {}
    alone: list[list[_Member]] = []
    weights_only: list[_Member] = []
    for m in members:
        if m.spec.tap is None:
            alone.append([m])
        elif m.spec.tap.quantity == "weights":
            weights_only.append(m)
        else:
            groups.setdefault((m.variant, m.batch.device.type, m.images), []).append(m)
    for m in weights_only:
        home = next((g for (variant, device, _), g in groups.items()
                     if variant == m.variant and device == m.batch.device.type), None)
        if home is not None:
            home.append(m)
        else:
            groups[(m.variant, m.batch.device.type, m.images)] = [m]
    return list(groups.values()) + alone


def run_store(ctx: ScoringContext) -> ScoreStore:
    """The run's score store (``ctx.memo``), opened once: ``$BNBENCH_CACHE`` / ``cache_dir`` on disk, else memory."""
    path = store_path(ctx.options.get("cache_dir"))
    memo_key = ("zc-store", str(path))
    if memo_key not in ctx.memo:
        ctx.memo[memo_key] = ScoreStore(path)
    return ctx.memo[memo_key]


def _jobs(ctx: ScoringContext) -> int:
    jobs = ctx.options.get("jobs")
    jobs = 1 if jobs is None else int(jobs)
    if jobs < 1:
        raise BnbenchError(f"--jobs {jobs}: expected a positive number of worker processes")
    return jobs


def score_proxies(names: Iterable[str], archs: np.ndarray, ctx: ScoringContext) -> dict[str, np.ndarray]:
    """Scores of ``archs`` (an ``(n, width)`` encoding matrix) under each registered proxy of ``names``: an
    ``(n,)`` float64 array per name, NaN where the proxy is undefined; from the run's store where possible,
    proxies reading the same network and images scored from one shared pass. Raises BnbenchError (one line)
    for a bad ``--jobs``, ``--model-variant`` or batch option."""
    members = [_member(SPECS[n], ctx) for n in names]
    jobs = _jobs(ctx)
    store = run_store(ctx)
    arch_names = [ctx.space.to_str(a) for a in archs]
    for group in _groups(members):
        _score_group(group, archs, arch_names, ctx, store, jobs)
    out = {}
    for m in members:
        records = [store.get(m.key(a, ctx.seed)) for a in arch_names]
        failed = [r for r in records if r["value"] is None]
        if failed:
            log.warning("%s: undefined for %d of %d architectures (NaN), e.g. %s: %s", m.name, len(failed),
                        len(records), failed[0]["arch"], failed[0]["reason"])
        out[m.name] = np.array([np.nan if r["value"] is None else float(r["value"]) for r in records],
                               dtype=np.float64)
    return out


def prefetch(names: Iterable[str], archs: np.ndarray, contexts: Mapping[str, ScoringContext]) -> dict[str, float]:
    """Score the proxies among ``names`` that can share passes (two or more on the same network and images)
    into the run's store, ahead of their indicator calls; ``contexts[name]`` is the context that proxy's call
    will get (its options, read through it, are recorded as read). Returns the seconds charged to each proxy
    scored here (an equal share of the groups' wall time); proxies that cannot share are left alone."""
    members = [_member(SPECS[n], contexts[n]) for n in names if n in SPECS and SPECS[n].tap is not None]
    charged: dict[str, float] = {}
    for group in _groups(members):
        if len(group) < 2:
            continue
        ctx = contexts[group[0].name]
        start = time.perf_counter()
        _score_group(group, archs, [ctx.space.to_str(a) for a in archs], ctx, run_store(ctx), _jobs(ctx))
        share = (time.perf_counter() - start) / len(group)
        charged.update({m.name: share for m in group})
    return charged


def _score_group(group: list[_Member], archs: np.ndarray, arch_names: list[str], ctx: ScoringContext,
                 store: ScoreStore, jobs: int) -> None:
    """Score every architecture missing a record of some member of ``group``, appending to ``store``."""
    if jobs > 1 and any(m.batch.device.type != "cpu" for m in group):
        raise BnbenchError(f"--jobs {jobs}: parallel workers run on the CPU only (use --device cpu or --jobs 1)")
    todo: dict[str, tuple[tuple[int, ...], str, tuple[str, ...]]] = {}
    for row, arch in zip(archs, arch_names):
        missing = tuple(m.name for m in group if m.key(arch, ctx.seed) not in store)
        if missing and arch not in todo:
            todo[arch] = (tuple(int(o) for o in row), arch, missing)
    tasks = list(todo.values())
    label = ",".join(m.name for m in group)
    _JOB.update(members={m.name: m for m in group}, space=ctx.space, net=ctx.network, seed=ctx.seed)
    if str(ctx.options.get("engine") or "local") == "ray" and tasks:
        _score_group_ray(group, tasks, label, ctx, store, jobs)
        return
    try:
        with contextlib.ExitStack() as stack:
            if jobs == 1 or len(tasks) <= 1:
                results: Iterable[list[dict[str, Any]]] = map(_score_one, tasks)
            else:
                pool = stack.enter_context(mp.get_context("fork").Pool(min(jobs, len(tasks)), _init_worker))
                results = pool.imap_unordered(_score_one, tasks)
            store.append(record for records in track(results, len(tasks), label, ctx.progress) for record in records)
    finally:
        _JOB.clear()


def _init_worker() -> None:
    torch.set_num_threads(1)


def _job_state(members: dict, space: Any, net: Any, seed: int) -> dict[str, Any]:
    return {"members": members, "space": space, "net": net, "seed": seed}


def _score_task(state: dict[str, Any], task: tuple[tuple[int, ...], str, tuple[str, ...]]) -> dict[str, Any]:
    """One architecture's proxies in a Ray task (:mod:`bnbench.engine`): ``{"records": [...]}``."""
    _JOB.update(state)
    return {"records": _score_one(task)}


def _score_group_ray(group: list[_Member], tasks: list, label: str, ctx: ScoringContext, store: ScoreStore,
                     jobs: int) -> None:
    """``--engine ray``: one Ray task per architecture (all of the group's missing proxies, one shared pass), each
    with one torch thread as the local workers; a task that fails after its retries leaves its proxies undefined
    (NaN) with the reason recorded, as a proxy error does."""
    from functools import partial

    from bnbench.engine import Engine, is_failure, run_tasks

    engine = Engine(kind="ray", jobs=None if jobs == 1 else jobs, address=ctx.options.get("address"))
    members = {m.name: m for m in group}
    setup = partial(_job_state, members, ctx.space, ctx.network, ctx.seed)
    cuda = any(m.batch.device.type != "cpu" for m in group)
    by_arch = {task[1]: task for task in tasks}
    _JOB.update(_job_state(members, ctx.space, ctx.network, ctx.seed))
    try:
        def records():
            for rec in track(run_tasks(_score_task, setup, tasks, engine, cuda=cuda), len(tasks), label, ctx.progress):
                if is_failure(rec):
                    _, arch, names = by_arch[rec["task"][1]]
                    yield from (_record(members[n], arch, RuntimeError(rec["failed"]), 0.0, None) for n in names)
                else:
                    yield from rec["records"]

        store.append(records())
    finally:
        _JOB.clear()


def _score_one(task: tuple[tuple[int, ...], str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """Score one architecture with the job's proxies ``task[2]`` (one shared pass when there are several);
    returns their store records."""
    ops, arch, names = task
    members = [_JOB["members"][n] for n in names]
    reader = next((m for m in members if m.spec.tap is None or m.spec.tap.quantity != "weights"), members[0])
    batch = reader.batch.for_arch(arch)
    make = network_factory(_JOB["space"], _JOB["net"], reader.variant, ops, arch_seed(_JOB["seed"], arch), batch.device)
    start = time.perf_counter()
    values: dict[str, Any] = {}
    with torch.enable_grad():
        if len(members) == 1:
            try:
                values[reader.name] = float(reader.spec.fn(make, batch))
            except _FAILURES as err:
                values[reader.name] = err
        else:
            try:
                shared = run_pass(make, batch, {m.spec.tap.quantity for m in members})
            except _FAILURES as err:
                shared = err
            for m in members:
                try:
                    values[m.name] = shared if isinstance(shared, BaseException) else float(m.spec.tap.value(shared))
                except _FAILURES as err:
                    values[m.name] = err
    seconds = (time.perf_counter() - start) / len(members)
    return [_record(m, arch, values[m.name], seconds, names if len(members) > 1 else None) for m in members]


def _record(m: _Member, arch: str, value: Any, seconds: float, shared: tuple[str, ...] | None) -> dict[str, Any]:
    """The store record of one (architecture, proxy) result; an exception or a non-finite value (where the
    proxy does not define one) is recorded as undefined with its reason."""
    reason = None
    if isinstance(value, BaseException):
        reason, value = one_line(value), math.nan
    elif math.isnan(value) or (math.isinf(value) and not getattr(m.spec.fn, "infinite_ok", False)):
        reason = f"non-finite value ({value})"  # +-inf only where the proxy defines it (nwot: -inf is worst)
    if reason:
        log.info("%s undefined for %s: %s", m.name, arch, reason)
    record = {"arch": arch, "proxy": m.name, "variant": m.variant, "seed": _JOB["seed"], "batch": m.batch.key,
              "value": None if reason else (value if math.isfinite(value) else str(value)),  # JSON has no inf
              "reason": reason, "seconds": seconds, "device": m.batch.device.type}
    if shared:
        record["shared"] = list(shared)
    return record
