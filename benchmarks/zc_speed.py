"""Seconds per architecture of the zero-cost proxies on the CPU (NB201, C=16, N=5, 32x32, batch 64), alone and
scored together from shared passes, against one forward and backward of the same cell and, given a checkout of
zero-cost-nas (``--reference PATH``), against that reference run unmodified on the same cells and images.

Rows (medians over ``--repeats`` runs of ``--archs`` stratified cells; no store: every run recomputes):

* ``fwd+bwd``: one forward and cross-entropy backward of the cell's network on the batch (network built outside
  the timing; its build time is printed separately): the unit the shared-pass target is stated in;
* each proxy alone (its own network and pass), then ``all N together`` as a run scores them
  (``experiment.score_indicators``: the proxies on one network and batch share one pass);
* with ``--reference``: zero-cost-nas's ``find_measures`` per measure and for its seven together (it computes
  each measure on its own copy of the network), on its ``nasbench2`` model of the same cells, same images.

Peak memory: the process's resident high-water mark (``ru_maxrss``) after each row. ``--memory-archs N`` then
scores N more sampled cells with all the proxies together, one cell at a time as a ``--jobs`` worker does, and
prints the resident memory every N/10 cells: it must stay flat (a leak grows it with every architecture).
``--memory-jobs J`` scores them instead as a run with ``--jobs J`` does (one call, J forked workers per group of
proxies that share a pass) and samples every worker's memory from ``/proc`` while it runs: resident (RSS), its
high-water mark (VmHWM) and proportional share (PSS: pages shared with the parent and the other workers divided
among them, so the PSS of the parent and all workers add up to what the run occupies).

    python benchmarks/zc_speed.py [--archs 4] [--repeats 3] [--proxies synflow,snip] [--threads 1]
        [--reference ../zero-cost-nas] [--data-dir ../shared/data/cifar10] [--memory-archs 1000 [--memory-jobs 2]]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time

import torch
import torch.nn.functional as F

from bnbench.datasets import Dataset, ImageSplit, load_dataset
from bnbench.datasets.augment import AugmentConfig
from bnbench.experiment import score_indicators
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.indicators.zc import PROXIES
from bnbench.indicators.zc.common import arch_seed, image_batch, network_factory
from bnbench.spaces import get_space

REFERENCE_MEASURES = ("synflow", "snip", "grad_norm", "fisher", "jacob_cov", "plain", "grasp")


def synthetic(n: int = 512) -> Dataset:
    g = torch.Generator().manual_seed(0)
    split = ImageSplit(torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                       torch.randint(0, 10, (n,), generator=g))
    return Dataset("synthetic", split, split, 10, (0.5,) * 3, (0.25,) * 3, 32, AugmentConfig(), "synthetic 32x32")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(fn, repeats: int, per: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) / per)
    return statistics.median(times)


def fwd_bwd(space, ctx, archs, repeats: int) -> tuple[float, float]:
    """(median s/arch of one forward + backward, median s/arch of building the network)."""
    batch = image_batch(ctx)
    makes = [network_factory(space, ctx.network, "zc", tuple(int(o) for o in a), arch_seed(0, space.to_str(a)))
             for a in archs]
    nets = []
    build = median_seconds(lambda: nets.extend(make() for make in makes), repeats, len(archs))

    def step() -> None:
        for net in nets[:len(archs)]:
            net.zero_grad()
            F.cross_entropy(net(batch.x), batch.y).backward()

    step()  # warm-up
    return median_seconds(step, repeats, len(archs)), build


def reference(path: str, arch_strings: list[str], x: torch.Tensor, y: torch.Tensor, names, repeats: int) -> dict:
    """zero-cost-nas's s/arch per measure and for ``names`` together, on its nasbench2 model, images ``x, y``."""
    sys.path.insert(0, os.path.abspath(path))
    from foresight.models import nasbench2  # noqa: E402  (the reference checkout)
    from foresight.pruners import predictive

    loader = [(x, y)]
    out = {}

    def run(measures) -> None:
        for arch in arch_strings:
            net = nasbench2.get_model_from_arch_str(arch, 10)
            predictive.find_measures(net, loader, ("random", 1, 10), torch.device("cpu"), measure_names=list(measures))

    for name in names:
        out[name] = median_seconds(lambda: run([name]), repeats, len(arch_strings))
    out["together"] = median_seconds(lambda: run(names), repeats, len(arch_strings))
    return out


def speed(args, space, data, archs, names) -> None:
    """The timing rows (module docstring): fwd+bwd, each proxy alone, all together, the reference."""
    def context() -> ScoringContext:  # a fresh run: nothing served from a previous row's store
        return ScoringContext(space=space, network=NetSpec(16, 5, 10, 3, 32), dataset=data, seed=0, progress=False,
                              options={"model_variant": args.variant, "zc_batch_size": 64})

    print(f"{len(archs)} NB201 cells, C=16 N=5 32x32, batch 64, variant {args.variant}, "
          f"{torch.get_num_threads()} torch thread(s) of {os.cpu_count()} cores, median of {args.repeats}")
    get("snip")(archs[:1], context())  # warm-up: allocator, first-call kernel selection
    unit, build = fwd_bwd(space, context(), archs, args.repeats)
    print(f"{'fwd+bwd':24s} {unit:8.3f} s/arch   (network build {build:.3f} s)")
    alone = {}
    for name in names:
        alone[name] = median_seconds(lambda: get(name)(archs, context()), args.repeats, len(archs))
        print(f"{name:24s} {alone[name]:8.3f} s/arch   {alone[name] / unit:5.1f}x fwd+bwd   peak {peak_mb():6.0f} MB",
              flush=True)
    together = median_seconds(lambda: score_indicators([get(n) for n in names], archs, context(), None, {}),
                              args.repeats, len(archs))
    one_by_one = sum(alone.values())
    print(f"{f'all {len(names)} together':24s} {together:8.3f} s/arch   {together / unit:5.1f}x fwd+bwd   "
          f"(one by one {one_by_one:.3f}: {one_by_one / together:.1f}x)   peak {peak_mb():6.0f} MB")
    seven = [n for n in REFERENCE_MEASURES if n in names]
    ours7 = median_seconds(lambda: score_indicators([get(n) for n in seven], archs, context(), None, {}),
                           args.repeats, len(archs))
    print(f"{f'its {len(seven)} of zero-cost-nas':24s} {ours7:8.3f} s/arch")
    if args.reference:
        batch = image_batch(context())
        ref = reference(args.reference, [space.to_str(a) for a in archs], batch.x, batch.y, seven, args.repeats)
        print(f"\nzero-cost-nas (unmodified, {args.reference}) vs bnbench, s/arch")
        print(f"{'proxy':24s} {'zero-cost-nas':>14s} {'bnbench':>9s} {'ratio':>7s}")
        for name in seven:
            print(f"{name:24s} {ref[name]:14.3f} {alone[name]:9.3f} {ref[name] / alone[name]:6.1f}x")
        print(f"{f'all {len(seven)}':24s} {ref['together']:14.3f} {ours7:9.3f} {ref['together'] / ours7:6.1f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--archs", type=int, default=4, help="cells timed (0: only the --memory-archs run)")
    p.add_argument("--repeats", type=int, default=3, help="runs per row; the median is printed (default: 3)")
    p.add_argument("--proxies", default=",".join(n for n in PROXIES if n != "fisher_naslib"),
                   help="default: the 13 proxies (fisher_naslib is fisher on another network)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    p.add_argument("--variant", default="zc")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--reference", default=None, help="a checkout of SamsungLabs/zero-cost-nas to time side by side")
    p.add_argument("--memory-archs", type=int, default=0, help="then score this many more cells, printing memory")
    p.add_argument("--memory-network", default="16,5,32", help="C,N,side of the --memory-archs run (default: 16,5,32)")
    p.add_argument("--memory-jobs", type=int, default=0,
                   help="score the --memory-archs cells with this many --jobs workers and sample each worker's memory")
    p.add_argument("--memory-every", type=float, default=60.0, help="seconds between worker samples (default: 60)")
    args = p.parse_args()
    os.environ.pop("BNBENCH_CACHE", None)  # time the computation, not the store
    os.environ.setdefault("BNBENCH_PROGRESS", "off")  # the figures only
    torch.set_num_threads(args.threads)
    data = load_dataset("cifar10-valid", args.data_dir) if args.data_dir else synthetic()
    space = get_space("nb201")
    archs = space.sample(args.archs, 0) if args.archs > 0 else None
    names = args.proxies.split(",")

    if args.archs > 0:
        speed(args, space, data, archs, names)
    network = [int(v) for v in args.memory_network.split(",")]
    if args.memory_archs and args.memory_jobs:
        worker_memory(space, data, names, args.memory_archs, network, args.variant, args.memory_jobs,
                      args.memory_every)
    elif args.memory_archs:
        memory(space, data, names, args.memory_archs, network, args.variant)


def current_mb() -> float:
    """Resident set size now (Linux /proc), MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(space, data, names, n: int, network: list[int], variant: str) -> None:
    """Score ``n`` sampled cells one at a time with ``names`` together; print resident memory every n/10."""
    channels, cells, side = network
    archs = space.sample(n, 1)
    ctx = ScoringContext(space=space, network=NetSpec(channels, cells, 10, 3, side), dataset=data, seed=0,
                         progress=False, options={"model_variant": variant, "zc_batch_size": 64})
    print(f"\nmemory over {n} cells, C={channels} N={cells} {side}x{side}, all {len(names)} proxies per cell")
    every = max(1, n // 10)
    start = time.perf_counter()
    for i in range(n):
        score_indicators([get(name) for name in names], archs[i:i + 1], ctx, None, {})
        if (i + 1) % every == 0:
            print(f"  {i + 1:6d} cells  resident {current_mb():7.0f} MB  peak {peak_mb():7.0f} MB  "
                  f"{(time.perf_counter() - start) / (i + 1):.3f} s/cell", flush=True)


def proc_memory(pid: int) -> dict[str, float] | None:
    """MB resident (``rss``), high-water (``hwm``) and proportional (``pss``) of process ``pid``; None if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = {k: v for k, _, v in (line.partition(":") for line in f)}
        with open(f"/proc/{pid}/smaps_rollup") as f:
            pss = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
    except (OSError, StopIteration):
        return None
    kb = lambda field: int(status[field].split()[0])  # noqa: E731
    return {"rss": kb("VmRSS") / 1024, "hwm": kb("VmHWM") / 1024, "pss": pss / 1024}


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (scanning /proc: the pool's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return sorted(found)


def worker_memory(space, data, names, n: int, network: list[int], variant: str, jobs: int, every: float) -> None:
    """Score ``n`` sampled cells with ``names`` in one call with ``jobs`` workers, as ``--jobs`` runs do; print
    each worker's memory every ``every`` s and, per worker, its first and last resident size and its high-water."""
    channels, cells, side = network
    archs = space.sample(n, 1)
    me = os.getpid()
    seen: dict[int, dict] = {}
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "zc_scores.jsonl")
        ctx = ScoringContext(space=space, network=NetSpec(channels, cells, 10, 3, side), dataset=data, seed=0,
                             progress=False, options={"model_variant": variant, "zc_batch_size": 64, "jobs": jobs,
                                                      "cache_dir": tmp})

        def records() -> int:
            try:
                with open(store, "rb") as f:
                    return sum(1 for _ in f)
            except OSError:
                return 0

        def sample(start: float) -> None:
            while not stop.wait(every):
                done = records()
                parts = []
                for pid in children(me):
                    m = proc_memory(pid)
                    if m is None:
                        continue
                    w = seen.setdefault(pid, {"first": m, "from": done})
                    w.update(last=m, to=done, hwm=max(w.get("hwm", 0.0), m["hwm"]))
                    parts.append(f"{pid}: {m['rss']:.0f}/{m['hwm']:.0f}/{m['pss']:.0f}")
                parent = proc_memory(me)
                print(f"  {time.perf_counter() - start:7.0f} s  {done:6d} records  parent rss/pss "
                      f"{parent['rss']:.0f}/{parent['pss']:.0f} MB  workers rss/hwm/pss MB: "
                      f"{'; '.join(parts) or '-'}", flush=True)

        print(f"\nworker memory: {n} cells, C={channels} N={cells} {side}x{side}, all {len(names)} proxies, "
              f"--jobs {jobs} (one pool per group of proxies sharing a pass), a sample every {every:.0f} s")
        start = time.perf_counter()
        thread = threading.Thread(target=sample, args=(start,), daemon=True)
        thread.start()
        try:
            score_indicators([get(name) for name in names], archs, ctx, None, {})
        finally:
            stop.set()
            thread.join()
        total = records()
    wall = time.perf_counter() - start
    print(f"  done: {total} records in {wall:.0f} s ({wall / n:.3f} s/cell with {jobs} workers)")
    print(f"  {'worker':>8s} {'records':>17s} {'first rss':>10s} {'last rss':>9s} {'last pss':>9s} {'high-water':>11s}")
    for pid, w in seen.items():
        print(f"  {pid:8d} {w['from']:8d}-{w['to']:<8d} {w['first']['rss']:10.0f} {w['last']['rss']:9.0f} "
              f"{w['last']['pss']:9.0f} {w['hwm']:11.0f}")
    if seen:
        print(f"  peak per worker (largest high-water of any worker): {max(w['hwm'] for w in seen.values()):.0f} MB; "
              f"largest of the children reaped (ru_maxrss): "
              f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
