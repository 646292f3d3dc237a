"""``econas:<schedule>``: the reduced-training proxy of EcoNAS (Zhou et al., CVPR 2020), flat or hierarchical.

Each architecture is trained from scratch at a reduced setting (:mod:`bnbench.econas.setting`: ``c4r4s0e10`` =
channels / 4, resolution / 4, every training image, 10 epochs, relative to the truth's network) and scored by its
top-1 accuracy (%) on evaluation images disjoint from its training images and, where the data allows, from the
truth's images (:mod:`bnbench.econas.runs`). Higher is better. With several seeds (``--econas-seeds 0,1``) the
score is the mean accuracy over seeds.

Hierarchical (``econas:c8r4s0e5+top0.5+c4r2s0e10``, EcoNAS section 5): every candidate is trained at the first
setting, the best fraction at the next, and so on (:func:`bnbench.econas.hierarchical.staged_scores`); stages of
one run stopped at later epochs continue it (``econas:c4r4s0e60@20+top0.5+c4r4s0e60@40+top0.5+c4r4s0e60``,
EcoNAS's own form; checkpoints in ``<cache_dir>/econas-checkpoints/``). The score
of an architecture is ``k + acc / 100``: ``k`` the index of the last stage it was trained at (0 = dropped after
the first) and ``acc`` its accuracy there, so every promoted architecture ranks above every dropped one and the
ranking within a stage is that stage's accuracy.

Training protocol (every stage, every space): NB201's (Dong & Yang, ICLR 2020): SGD with Nesterov momentum 0.9,
learning rate 0.1 with cosine decay over the setting's epochs, weight decay 5e-4, batch 256, the dataset's default
augmentation; ``--econas-batch-size`` / ``--econas-lr`` override batch and rate. The network is the truth's
(its cells and build options), at the setting's width.

Options (``ScoringContext.options``): ``econas_seeds`` (default ``0``), ``econas_eval_images`` (evaluation images,
default all of ``Dataset.eval``), ``econas_batch_size``, ``econas_lr``; ``engine`` / ``address`` / ``jobs`` say
where the runs go (:mod:`bnbench.engine`; results do not depend on them). Runs are stored per (architecture,
setting, seed) in ``<cache_dir>/econas-runs.jsonl`` and reused by every later run with the same configuration.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bnbench.econas.setting import Schedule
from bnbench.errors import BnbenchError
from bnbench.indicators.registry import Indicator, ScoringContext, register_family

PROTOCOL = dict(train_mode="full", lr=0.1, weight_decay=5e-4, momentum=0.9, batch_size=256, schedule="cosine")
STORE_NAME = "econas-runs.jsonl"
CHECKPOINTS = "econas-checkpoints"  # training states of runs stopped early (``@<epoch>``), for continued stages


def proxy_job(ctx: ScoringContext):
    """The :class:`~bnbench.econas.runs.ProxyJob` of a scoring context: the truth's network (``ctx.network``) on the
    run's dataset, trained with :data:`PROTOCOL` (and the econas_* options)."""
    from bnbench.econas.runs import ProxyJob
    from bnbench.train.config import TrainConfig

    if ctx.dataset is None:
        raise BnbenchError("econas: needs a dataset (pass --dataset/--data-dir)")
    space, net = ctx.space, ctx.network
    options = net.space_options(space)
    common = type(options).COMMON
    full_channels = int(getattr(options, common["channels"]))
    protocol = dict(PROTOCOL)
    if ctx.options.get("econas_batch_size") is not None:
        protocol["batch_size"] = int(ctx.options["econas_batch_size"])
    if ctx.options.get("econas_lr") is not None:
        protocol["lr"] = float(ctx.options["econas_lr"])
    extra = {k: v for k, v in options.to_dict().items() if k not in (common["channels"], common["cells"], "bn_every_op")}
    base = TrainConfig(dataset=ctx.dataset.name, space=space.name, channels=full_channels,
                       cells=int(getattr(options, common["cells"])), bn_every_op=bool(getattr(options, "bn_every_op", False)),
                       space_options=extra, seed=0, **protocol)
    images = ctx.dataset.images or {}
    truth = (images.get("truth") or {}).get("given")  # the truth split the dataset was told (None: assumed)
    eval_images = ctx.options.get("econas_eval_images")
    return ProxyJob(space=space.name, dataset=ctx.dataset.name, data_dir=ctx.options.get("data_dir"),
                    truth_split=truth, base=base.to_dict(), full_channels=full_channels,
                    native_side=int(ctx.dataset.resolution),
                    eval_images=None if eval_images is None else int(eval_images),
                    device=str(ctx.dataset.train.x.device.type))


def runner_for(ctx: ScoringContext):
    """The run's :class:`~bnbench.econas.runs.ProxyRunner` (memoised in ``ctx.memo`` per job)."""
    from bnbench.econas.runs import ProxyRunner, RunStore
    from bnbench.engine import Engine

    job = proxy_job(ctx)
    memo_key = ("econas", job)
    if memo_key not in ctx.memo:
        cache = ctx.options.get("cache_dir")
        store = RunStore(Path(cache) / STORE_NAME if cache else None)
        if cache:
            job = replace(job, checkpoints=str(Path(cache) / CHECKPOINTS))
        else:  # no output folder: continued stages still continue, from this process's temporary folder
            job = replace(job, checkpoints=ctx.memo.setdefault(("econas-tmp",), _temporary_folder()))
        kind = str(ctx.options.get("engine") or "local")
        jobs = 1 if ctx.options.get("jobs") is None else int(ctx.options["jobs"])  # 0: Engine's one-line error
        engine = Engine(kind=kind, jobs=None if kind == "ray" and jobs == 1 else jobs, address=ctx.options.get("address"))
        ctx.memo[memo_key] = ProxyRunner(job, store, engine, progress=ctx.progress)
    return ctx.memo[memo_key]


def _temporary_folder() -> str:
    """A folder removed when the process exits (checkpoints of a run without an output folder)."""
    import atexit
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="bnbench-econas-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _make(argument: str) -> Indicator:
    schedule = Schedule.parse(argument)

    def score(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
        from bnbench.econas.hierarchical import staged_scores
        from bnbench.econas.runs import parse_seeds

        seeds = parse_seeds(ctx.options.get("econas_seeds", "0"))
        names = [ctx.space.to_str(a) for a in archs]
        return staged_scores(runner_for(ctx), names, schedule, seeds).scores

    kind = "trained at " + schedule.name if schedule.flat else "hierarchical: " + schedule.name.replace("+", " ")
    return Indicator(f"econas:{schedule.name}", score, True, frozenset({"data"}),
                     f"EcoNAS reduced-training accuracy (%), {kind}")


register_family("econas", _make, "econas:c4r4s0e10",
                "EcoNAS reduced training from scratch: c<ch/x>r<res/y>s<images/z>e<epochs>[@<stop epoch>], stages "
                "joined by +top<f>+ (a later @ of the same run continues it)")
