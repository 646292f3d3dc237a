"""Where per-architecture training and scoring tasks run: this machine's processes, or a Ray cluster.

Every long per-architecture job of bnbench (``truth build``'s (arch, seed, fold) runs, the EcoNAS proxy's
(arch, setting, seed) runs, zero-cost scoring) is a list of small picklable tasks, each turned into one record
(a JSON-able dict) by a top-level function ``fn(state, task)``. ``state`` is what every task of the job reads
(a dataset, a config), built once per worker process by a picklable ``setup()`` and memoised there.

Engines (:class:`Engine`):

* ``local``: ``jobs`` forked worker processes on this machine (``jobs=1``: in the calling process).
* ``ray``: one Ray task per item (Moritz et al., OSDI 2018), on the cluster at ``address`` (``ray://host:10001``
  or ``host:6379``) or, without one, a local Ray instance with this machine's cores (``jobs`` caps it).
  A task asks for one CPU, and one GPU where the cluster has GPUs and the job runs on CUDA. Every node must
  import bnbench and reach the data at the same ``--data-dir``. Ray is optional: ``pip install "bnbench[ray]"``.

Both engines run every task with **one torch thread** (set and restored around it), so a task's result does not
depend on where it ran: on CPU the two engines give bit-identical records (tested). A task that raises is retried
``retries`` times in its worker (a Ray worker that dies is resubmitted by Ray up to ``retries`` times as well);
then it comes back as a *failure record*, ``{"failed": reason, "task": task, "attempts": n}``, and the job goes
on. Records are yielded as they finish, in completion order: callers append them to a resumable store.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import torch

from bnbench.errors import BnbenchError

ENGINES = ("local", "ray")
RAY_INSTALL = 'pip install "bnbench[ray]"'

TaskFn = Callable[[Any, Any], dict]


@dataclass(frozen=True)
class Engine:
    """How a job's tasks are run: ``kind`` (``local`` / ``ray``), ``jobs`` (local worker processes; with Ray, the
    CPUs of a local instance it starts, None = all), ``address`` (an existing Ray cluster), ``retries`` (extra
    attempts of a failing task), ``gpus`` (GPUs per Ray task; None = 1 when the cluster has any and the job
    runs on CUDA, else 0)."""

    kind: str = "local"
    jobs: int | None = 1
    address: str | None = None
    retries: int = 1
    gpus: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ENGINES:
            raise BnbenchError(f"--engine {self.kind!r}: expected one of {', '.join(ENGINES)}")
        if self.jobs is not None and self.jobs < 1:
            raise BnbenchError(f"--jobs {self.jobs}: expected a positive number of workers")
        if self.retries < 0:
            raise BnbenchError(f"retries {self.retries}: expected 0 or more")
        if self.address and self.kind != "ray":
            raise BnbenchError(f"--address {self.address}: only the ray engine joins a cluster (add --engine ray)")

    def describe(self) -> str:
        if self.kind == "local":
            return f"local ({self.jobs or 1} process{'es' if (self.jobs or 1) > 1 else ''})"
        return f"ray ({self.address or 'local instance'})"


def is_failure(record: dict) -> bool:
    return "failed" in record


def reason(err: BaseException) -> str:
    """``Type: first line of the message`` of a task's error (what failure records and undefined scores keep)."""
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else 'no message'}"


_STATE: dict[str, Any] = {}  # per worker process: the last job's setup object, its key and its state


def worker_state(setup: Callable[[], Any]) -> Any:
    """``setup()``, built once per process and job: reused while the same setup object, or an equal one (compared
    pickled: a Ray task receives its own copy), comes back; one job's state at a time (a dataset can be large)."""
    if _STATE and _STATE["setup"] is setup:
        return _STATE["state"]
    key = _setup_key(setup)
    if not _STATE or _STATE["key"] != key:
        _STATE.update(key=key, state=setup())
    _STATE["setup"] = setup
    return _STATE["state"]


def _setup_key(setup: Callable[[], Any]) -> Any:
    import pickle

    try:
        return pickle.dumps(setup)
    except Exception:  # noqa: BLE001  (an unpicklable in-process setup: keyed by identity)
        return id(setup)


def attempt(fn: TaskFn, setup: Callable[[], Any], task: Any, retries: int) -> dict:
    """Run ``fn(state, task)`` with one torch thread, up to ``1 + retries`` times; the record, or a failure
    record with the last error's one-line reason."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        error: BaseException | None = None
        for n in range(1 + retries):
            try:
                return fn(worker_state(setup), task)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as err:  # noqa: BLE001  (any task error becomes a recorded failure)
                error = err
        return {"failed": reason(error), "task": _jsonable(task), "attempts": 1 + retries}
    finally:
        torch.set_num_threads(threads)


def _jsonable(task: Any) -> Any:
    if isinstance(task, (list, tuple)):
        return [_jsonable(t) for t in task]
    if isinstance(task, dict):
        return {str(k): _jsonable(v) for k, v in task.items()}
    return task if isinstance(task, (str, int, float, bool)) or task is None else repr(task)


_POOL_JOB: dict[str, Any] = {}


def _pool_call(task: Any) -> dict:
    return attempt(_POOL_JOB["fn"], _POOL_JOB["setup"], task, _POOL_JOB["retries"])


def run_tasks(fn: TaskFn, setup: Callable[[], Any], tasks: Iterable[Any], engine: Engine,
              cuda: bool = False) -> Iterator[dict]:
    """Yield one record per task (``fn(state, task)`` or a failure record) as tasks finish.

    ``fn`` and ``setup`` must be picklable (top-level functions, ``functools.partial`` of them). ``cuda``: the
    job runs on a GPU (local engine: one process only; Ray: tasks request GPUs). Raises BnbenchError (one line)
    for ``--engine ray`` without Ray installed or a cluster that cannot be reached.
    """
    tasks = list(tasks)
    if not tasks:
        return iter(())
    if engine.kind == "ray":
        return _run_ray(fn, setup, tasks, engine, cuda)
    jobs = min(engine.jobs or 1, len(tasks))
    if jobs > 1 and cuda:
        raise BnbenchError(f"--jobs {jobs}: local worker processes run on the CPU only (use --device cpu, --jobs 1 "
                           "or --engine ray)")
    if jobs == 1:
        return (attempt(fn, setup, t, engine.retries) for t in tasks)
    return _run_pool(fn, setup, tasks, jobs, engine.retries)


def _run_pool(fn: TaskFn, setup: Callable[[], Any], tasks: list, jobs: int, retries: int) -> Iterator[dict]:
    _POOL_JOB.update(fn=fn, setup=setup, retries=retries)  # inherited by the forked workers
    try:
        with mp.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap_unordered(_pool_call, tasks)
    finally:
        _POOL_JOB.clear()


def import_ray():
    """The ``ray`` module, or a one-line BnbenchError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise BnbenchError(f"--engine ray: Ray is not installed in this environment ({RAY_INSTALL})") from None
    return ray


@contextlib.contextmanager
def ray_session(engine: Engine):
    """Connect to ``engine.address`` or start a local Ray instance (``engine.jobs`` CPUs, default all cores) unless
    Ray is already initialised. The connection is kept for the rest of the process (shut down at exit): starting
    Ray takes seconds, and a run submits several jobs (one per proxy group, stage or setting)."""
    ray = import_ray()
    if engine.address:
        _check_reachable(engine.address)
    if not ray.is_initialized():
        os.environ.setdefault("RAY_ACCEPT_LOCAL_HOSTS_WARNING", "1")
        kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            if engine.address:
                ray.init(address=engine.address, **kwargs)
            else:
                ray.init(num_cpus=engine.jobs or os.cpu_count(), **kwargs)
        except Exception as err:  # noqa: BLE001  (connection errors of every kind: one line)
            where = engine.address or "a local instance"
            raise BnbenchError(f"--engine ray: could not start or join Ray at {where} ({reason(err)})") from None
        atexit.register(ray.shutdown)
    yield ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """One-line BnbenchError when nothing answers at a ``host:port`` / ``ray://host:port`` cluster address (Ray itself
    would retry for minutes); ``auto`` and addresses without a port are left to Ray."""
    import socket

    where = address.split("://", 1)[-1]
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise BnbenchError(f"--address {address}: no Ray cluster answers there ({err.strerror or err}); start one "
                           "with `ray start --head` or omit --address for a local instance") from None


def _ray_attempt(fn: TaskFn, setup: Callable[[], Any], task: Any, retries: int) -> dict:
    return attempt(fn, setup, task, retries)


def _run_ray(fn: TaskFn, setup: Callable[[], Any], tasks: list, engine: Engine, cuda: bool) -> Iterator[dict]:
    with ray_session(engine) as ray:
        gpus = engine.gpus
        if gpus is None:
            gpus = 1 if cuda and ray.cluster_resources().get("GPU", 0) > 0 else 0
        remote = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=engine.retries)(_ray_attempt)
        setup_ref = ray.put(setup)
        pending = {remote.remote(fn, setup_ref, task, engine.retries): task for task in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as err:  # noqa: BLE001  (a worker that died every attempt: recorded, job goes on)
                    yield {"failed": reason(err), "task": _jsonable(task), "attempts": 1 + engine.retries}

