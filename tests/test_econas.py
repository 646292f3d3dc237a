"""EcoNAS reduced settings, the reduced-training proxy (flat and hierarchical) and the task engines."""

from __future__ import annotations

import importlib.util
import json
import socket
from functools import partial

import numpy as np
import pytest

from bnbench.econas import ReducedSetting, Schedule
from bnbench.econas.hierarchical import staged_scores
from bnbench.econas.runs import ProxyJob, ProxyRunner, RunStore, parse_seeds, setup, train_task
from bnbench.engine import Engine, attempt, is_failure, run_tasks
from bnbench.errors import BnbenchError
from bnbench.train.config import TrainConfig

ARCHS = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
         "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|",
         "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|skip_connect~2|"]


def test_setting_names_and_what_they_train():
    s = ReducedSetting.parse("c4r4s2e10")
    assert (s.c, s.r, s.s, s.e) == (4, 4, 2, 10) and s.name == "c4r4s2e10" == str(s)
    assert s.channels(16) == 4 and s.resolution(32) == 8 and s.train_fraction == 0.5
    zero = ReducedSetting.parse("c0r0s0e3")
    assert zero.channels(16) == 16 and zero.resolution(32) == 32 and zero.train_fraction == 1.0
    assert ReducedSetting.parse("c64r16s0e1").channels(16) == 1 and ReducedSetting.parse("c0r16s0e1").resolution(32) == 4
    cfg = s.train_config(TrainConfig(dataset="digits", channels=16, cells=2, train_mode="full"), 16, 32)
    assert (cfg.channels, cfg.cells, cfg.resolution, cfg.train_fraction, cfg.epochs) == (4, 2, 8, 0.5, 10)
    assert zero.train_config(TrainConfig(dataset="digits", channels=8), 8, 8).resolution is None  # native: no resize


@pytest.mark.parametrize("bad", ["c4r4s0", "c4r4s0e0", "c1r0s0e5", "x4r4s0e10", "c4 r4 s0 e10", ""])
def test_bad_settings_are_one_line_errors(bad):
    with pytest.raises(BnbenchError, match="reduced setting"):
        ReducedSetting.parse(bad)


def test_schedule_parse():
    flat = Schedule.parse("c4r4s0e10")
    assert flat.flat and flat.name == "c4r4s0e10"
    staged = Schedule.parse("c8r4s0e5+top0.5+c4r2s0e10+top0.25+c2r0s0e20")
    assert [s.name for s in staged.stages] == ["c8r4s0e5", "c4r2s0e10", "c2r0s0e20"] and staged.keep == (0.5, 0.25)
    assert staged.name == "c8r4s0e5+top0.5+c4r2s0e10+top0.25+c2r0s0e20"
    assert staged.survivors(2, 100) == 13 and staged.survivors(0, 100) == 100
    for bad in ("c8r4s0e5+c4r2s0e10", "c8r4s0e5+top2+c4r2s0e10", "c8r4s0e5+top0.5", "c8r4s0e5+top0+c4r2s0e10"):
        with pytest.raises(BnbenchError, match="econas schedule"):
            Schedule.parse(bad)


def test_stop_epochs_name_the_early_part_of_a_run():
    s = ReducedSetting.parse("c4r4s0e60@20")
    assert (s.e, s.stop, s.epochs_trained, s.name, s.run.name) == (60, 20, 20, "c4r4s0e60@20", "c4r4s0e60")
    assert ReducedSetting.parse("c4r4s0e6@6") == ReducedSetting.parse("c4r4s0e6")  # @e is the run itself
    assert s.train_config(TrainConfig(dataset="digits", channels=16), 16, 32).epochs == 60  # the 60-epoch schedule
    later = ReducedSetting.parse("c4r4s0e60@40")
    assert later.continues(s) and ReducedSetting.parse("c4r4s0e60").continues(later) and not s.continues(later)
    assert not ReducedSetting.parse("c2r4s0e60").continues(s)  # another run
    for bad in ("c4r4s0e6@7", "c4r4s0e6@0", "c4r4s0e6@"):
        with pytest.raises(BnbenchError, match="reduced setting"):
            ReducedSetting.parse(bad)
    econas = Schedule.parse("c4r4s0e60@20+top0.5+c4r4s0e60@40+top0.5+c4r4s0e60")
    assert [econas.continued(k) for k in range(3)] == [False, True, True]
    assert not Schedule.parse("c8r4s0e5@2+top0.5+c4r4s0e5").continued(1)
    for bad in ("c4r4s0e6@4+top0.5+c4r4s0e6@4", "c4r4s0e6+top0.5+c4r4s0e6@3", "c4r4s0e6@4+top0.5+c4r4s0e6@2"):
        with pytest.raises(BnbenchError, match="no further"):
            Schedule.parse(bad)


def test_parse_seeds():
    assert parse_seeds("0, 1") == (0, 1) and parse_seeds(3) == (3,) and parse_seeds([2, 5]) == (2, 5)
    for bad in ("", "a", "1,1"):
        with pytest.raises(BnbenchError):
            parse_seeds(bad)


class FakeRunner:
    """Accuracy = a fixed table per (arch, setting); records which archs each setting trained."""

    def __init__(self, table):
        self.table, self.calls = table, []

    def accuracy(self, archs, setting, seeds, after=None):
        self.calls.append((setting.name, list(archs)))
        acc = np.array([[self.table[setting.name][a] + s for s in seeds] for a in archs], dtype=float)
        return acc, np.ones_like(acc)


def test_hierarchical_promotes_the_best_and_ranks_promoted_above_dropped():
    archs = list("abcdefgh")
    cheap = dict(zip(archs, [50, 80, 70, 10, 60, 90, 20, np.nan]))
    dear = {a: 100 - i for i, a in enumerate(archs)}  # reverses the order among the promoted
    runner = FakeRunner({"c8r4s0e1": cheap, "c2r0s0e4": dear})
    res = staged_scores(runner, archs, Schedule.parse("c8r4s0e1+top0.5+c2r0s0e4"), (0, 1))
    assert runner.calls[1] == ("c2r0s0e4", ["b", "c", "e", "f"])  # top 4 of 8 by cheap accuracy, NaN never promoted
    assert list(res.trained) == [8, 4] and list(res.seconds) == [16.0, 8.0] and res.total_seconds == 24.0
    promoted = res.scores[[1, 2, 4, 5]]
    assert np.all(promoted >= 1) and np.all(np.delete(res.scores, [1, 2, 4, 5, 7]) < 1)
    assert np.argsort(-promoted).tolist() == [0, 1, 2, 3]  # within the stage: the dear accuracy (b > c > e > f)
    assert np.isnan(res.scores[7])  # its only run failed
    assert res.scores[1] == pytest.approx(1 + (dear["b"] + 0.5) / 100)  # mean over seeds 0,1 of acc + seed
    flat = staged_scores(FakeRunner({"c8r4s0e1": cheap}), archs, Schedule.parse("c8r4s0e1"), (0,))
    assert np.allclose(flat.scores[:7], [50, 80, 70, 10, 60, 90, 20])  # flat: the accuracy (%) itself


def _job(**kw) -> ProxyJob:
    base = TrainConfig(dataset="digits", channels=8, cells=1, train_mode="full", lr=0.1, batch_size=128, epochs=1)
    return ProxyJob(space="nb201", dataset="digits", data_dir=None, truth_split="kfold", base=base.to_dict(),
                    full_channels=8, native_side=8, **kw)


def test_runs_are_stored_keyed_and_reused(tmp_path, one_thread):
    job = _job(eval_images=200)
    store = RunStore(tmp_path / "runs.jsonl")
    runner = ProxyRunner(job, store, progress=False)
    setting = ReducedSetting.parse("c2r0s2e1")
    acc, sec = runner.accuracy(ARCHS[:2], setting, (0, 1))
    assert acc.shape == (2, 2) and np.all((acc >= 0) & (acc <= 100)) and np.all(sec > 0)
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 4
    rec = json.loads(lines[0])
    assert rec["eval_images"] == 200 and rec["train_images"] == 500  # s2: half of digits' 1,000 training images
    again = ProxyRunner(job, RunStore(tmp_path / "runs.jsonl"), progress=False)
    acc2, _ = again.accuracy(ARCHS[:2], setting, (0, 1))
    assert np.array_equal(acc, acc2) and len((tmp_path / "runs.jsonl").read_text().splitlines()) == 4  # reused
    other = ProxyRunner(_job(eval_images=100), RunStore(tmp_path / "runs.jsonl"), progress=False)
    assert other.key(setting) != runner.key(setting)  # other evaluation images: other runs


def test_evaluation_images_are_disjoint_from_training_images(one_thread):
    state = setup(_job())
    train = {bytes(x.numpy().tobytes()) for x in state.dataset.train.x}
    assert not any(bytes(x.numpy().tobytes()) in train for x in state.eval.x[:200])


@pytest.mark.ray
def test_local_pool_and_ray_give_identical_records(one_thread):
    pytest.importorskip("ray")
    job = _job(eval_images=100)
    tasks = [(a, "c2r0s0e1", 0) for a in ARCHS]
    drop = ("seconds", "seconds_total")

    def run(engine):
        recs = list(run_tasks(train_task, partial(setup, job), tasks, engine))
        assert not any(is_failure(r) for r in recs), recs
        return sorted(({k: v for k, v in r.items() if k not in drop} for r in recs), key=lambda r: r["arch"])

    single = run(Engine(jobs=1))
    assert run(Engine(jobs=2)) == single
    assert run(Engine(kind="ray", jobs=2)) == single


def _flaky(state, task):
    if task == "bad":
        raise ValueError("this task always fails\nsecond line")
    return {"task": task, "state": state}


def test_failures_are_retried_then_recorded():
    setup_fn = partial(str, "S")
    ok = attempt(_flaky, setup_fn, "good", retries=2)
    assert ok == {"task": "good", "state": "S"}
    bad = attempt(_flaky, setup_fn, "bad", retries=2)
    assert is_failure(bad) and bad["attempts"] == 3 and bad["failed"] == "ValueError: this task always fails"
    recs = list(run_tasks(_flaky, setup_fn, ["good", "bad", "good2"], Engine(jobs=2)))
    assert sum(map(is_failure, recs)) == 1 and len(recs) == 3


def test_engine_options_are_checked(monkeypatch):
    with pytest.raises(BnbenchError, match="--engine"):
        Engine(kind="spark")
    with pytest.raises(BnbenchError, match="--address"):
        Engine(kind="local", address="ray://x:10001")
    import builtins

    real = builtins.__import__

    def no_ray(name, *args, **kw):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real(name, *args, **kw)

    if importlib.util.find_spec("ray") is not None:  # an address where nothing listens: one line, not minutes
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with pytest.raises(BnbenchError, match="no Ray cluster answers there"):
            list(run_tasks(_flaky, partial(str, "S"), ["good"], Engine(kind="ray", address=f"127.0.0.1:{port}")))
    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(BnbenchError, match=r'pip install "bnbench\[ray\]"'):
        list(run_tasks(_flaky, partial(str, "S"), ["good"], Engine(kind="ray")))


def test_econas_indicator_correlates_and_reuses_its_runs(tmp_path, one_thread):
    from bnbench import api
    from bnbench.indicators import get

    with pytest.raises(BnbenchError, match="reduced setting"):
        get("econas:c4r4")
    out = tmp_path / "run"
    kw = dict(sample_archs=8, out=str(out), progress=False, econas_eval_images=200, econas_batch_size=128)
    res = api.correlate("nb201", "econas:c2r0s0e1+top0.5+c0r0s0e1", **kw)
    ind = res.results["indicators"]["econas:c2r0s0e1+top0.5+c0r0s0e1"]
    assert ind["direction"] == "higher" and np.isfinite(ind["kendall_tau"])
    runs = [json.loads(line) for line in (out / "econas-runs.jsonl").read_text().splitlines()]
    assert [r["setting"] for r in runs].count("c2r0s0e1") == 8 and [r["setting"] for r in runs].count("c0r0s0e1") == 4
    images = res.results["evaluation_images"]["indicators"]["econas:c2r0s0e1+top0.5+c0r0s0e1"]
    assert [r["role"] for r in images["reads"]] == ["training from scratch", "evaluation"]
    scores = res.scores["econas:c2r0s0e1+top0.5+c0r0s0e1"].to_numpy()
    assert (scores >= 1).sum() == 4  # promoted half ranks above the rest
    flat = api.correlate("nb201", "econas:c2r0s0e1", **kw)  # stage 0 of the schedule: same runs, none new
    assert len((out / "econas-runs.jsonl").read_text().splitlines()) == 12
    dropped = scores < 1
    assert np.allclose(flat.scores["econas:c2r0s0e1"].to_numpy()[dropped], scores[dropped] * 100)


@pytest.mark.ray
def test_zero_cost_scoring_on_ray_equals_local_workers():
    pytest.importorskip("ray")
    from bnbench import api

    kw = dict(progress=False, zc_batch_size=8, dataset="digits", jobs=2)
    local = api.score("nb201", 4, "snip,grad_norm,synflow", **kw)
    ray = api.score("nb201", 4, "snip,grad_norm,synflow", engine="ray", **kw)
    for name in ("snip", "grad_norm", "synflow"):
        assert np.array_equal(local[name].to_numpy(), ray[name].to_numpy()), name


def test_a_setting_the_space_cannot_build_is_one_line(one_thread):
    base = TrainConfig(dataset="digits", space="nb101", channels=8, cells=1, train_mode="full", epochs=1)
    job = ProxyJob(space="nb101", dataset="digits", data_dir=None, truth_split="kfold", base=base.to_dict(),
                   full_channels=8, native_side=8)
    runner = ProxyRunner(job, RunStore(None), progress=False)
    from bnbench.spaces import get_space

    arch = get_space("nb101").to_str(get_space("nb101").sample(1, 0)[0])
    with pytest.raises(BnbenchError, match="econas c4r0s0e1: nb101 option stem_channels=2"):
        runner.accuracy([arch], ReducedSetting.parse("c4r0s0e1"), (0,))


def test_study_reports_every_setting_and_resumes(tmp_path, one_thread):
    from bnbench.experiment import RunOptions
    from bnbench.study.econas import EcoNASConfig, run_econas

    out = tmp_path / "study"
    cfg = EcoNASConfig(run=RunOptions(out=str(out), sample_archs=10, n_boot=200, progress=False),
                       settings=("c2r0s0e1", "c0r0s0e1", "c0r0s0e2", "c0r0s2e1"), seeds=(0, 1),
                       schedules=("c2r0s0e1+top0.5+c0r0s0e2", "c0r0s0e2@1+top0.5+c0r0s0e2"), eval_images=200,
                       batch_size=128)
    res = run_econas(cfg)
    assert set(res["settings"]) == {"c2r0s0e1", "c0r0s0e1", "c0r0s0e2", "c0r0s2e1"}
    row = res["settings"]["c0r0s0e1"]
    assert row["runs"] == 20 and row["seed_tau"]["pairs"] == 1 and row["seconds_per_arch"] > 0
    assert -1 <= row["kendall_tau"] <= 1 and len(res["accuracy"]["c0r0s0e1"]) == 10
    staged = res["schedules"]["c2r0s0e1+top0.5+c0r0s0e2"]
    assert staged["trained"] == [10, 5]
    continued = res["schedules"]["c0r0s0e2@1+top0.5+c0r0s0e2"]  # its last stage reuses the flat c0r0s0e2 runs
    assert continued["trained"] == [10, 5] and 0 < continued["seconds_by_stage"][1]
    verdicts = {f["observation"].split()[1]: f for f in res["findings"]}  # "reducing the channels ..." -> "the"
    found = {f["observation"]: f["verdict"] for f in res["findings"]}
    assert len(found) == 6 and sum(v == "not tested" for v in found.values()) == 3  # resolution, combined, iterations
    assert verdicts and all("pairs" in f for f in res["findings"])
    pairs = {(p["setting"], p["versus"]) for f in res["findings"] for p in f["pairs"]}
    assert pairs == {("c2r0s0e1", "c0r0s0e1"), ("c0r0s2e1", "c0r0s0e1"), ("c0r0s0e2", "c0r0s0e1")}
    assert (out / "report.md").read_text().count("| c0r0s0e") == 3 and (out / "tau_vs_cost.png").stat().st_size > 0
    lines = len((out / "econas-runs.jsonl").read_text().splitlines())
    assert lines == 4 * 20 + 20  # and c0r0s0e2@1 (10 cells x 2 seeds)
    again = run_econas(cfg)  # everything stored: nothing retrained, same numbers
    assert len((out / "econas-runs.jsonl").read_text().splitlines()) == lines
    assert again["settings"]["c0r0s0e1"]["kendall_tau"] == row["kendall_tau"]


def test_same_iterations_observation_compares_more_images_against_more_epochs():
    from bnbench.study.econas import OBSERVATIONS, findings

    rng = np.random.default_rng(0)
    truth = rng.normal(size=60)
    rows = {n: {"setting": n, "c": 4, "r": 4, "s": s, "e": e, "stop": 0, "kendall_tau": 0.0}
            for n, s, e in (("c4r4s0e5", 0, 5), ("c4r4s2e10", 2, 10), ("c4r4s2e5", 2, 5), ("c4r4s0e10@5", 0, 10))}
    rows["c4r4s0e10@5"]["stop"] = 5
    means = {"c4r4s0e5": truth + rng.normal(scale=0.3, size=60), "c4r4s2e10": rng.normal(size=60),
             "c4r4s2e5": rng.normal(size=60), "c4r4s0e10@5": truth}
    found = {f["observation"]: f for f in findings(rows, means, truth, 300, 0)}
    iterations = found[OBSERVATIONS["iterations"]]
    assert [(p["setting"], p["versus"]) for p in iterations["pairs"]] == [("c4r4s0e5", "c4r4s2e10")]
    assert iterations["verdict"] == "reproduces" and iterations["pairs"][0]["delta_tau"] > 0
    assert all("@" not in p["setting"] + p["versus"] for f in found.values() for p in f["pairs"])  # early stops: none


def test_econas_bad_worker_count_is_one_line(tmp_path):
    from bnbench import api

    with pytest.raises(BnbenchError, match="--jobs 0"):
        api.correlate("nb201", "econas:c2r0s0e1", sample_archs=4, out=str(tmp_path), jobs=0)


def test_a_continued_run_ends_with_the_uninterrupted_network(tmp_path, one_thread):
    """EcoNAS's hierarchical form: c2r0s0e2@1 for all, then the best continued to e2 from the checkpoints; the
    continued networks score exactly as the uninterrupted c2r0s0e2 runs, and each stage is charged its own time."""
    whole, early = ReducedSetting.parse("c2r0s0e2"), ReducedSetting.parse("c2r0s0e2@1")
    flat = ProxyRunner(_job(eval_images=200, checkpoints=str(tmp_path / "a")), RunStore(tmp_path / "a.jsonl"),
                       progress=False)
    acc_whole, sec_whole = flat.accuracy(ARCHS[:2], whole, (0,))
    runner = ProxyRunner(_job(eval_images=200, checkpoints=str(tmp_path / "b")), RunStore(tmp_path / "b.jsonl"),
                         progress=False)
    acc_early, _ = runner.accuracy(ARCHS[:2], early, (0,))
    assert len(list((tmp_path / "b").rglob("*-s0-e1.pt"))) == 2 and not np.array_equal(acc_early, acc_whole)
    acc, sec = runner.accuracy(ARCHS[:2], whole, (0,), after=early)
    assert np.array_equal(acc, acc_whole)  # bit for bit: weights, momentum, data order and RNG continued
    records = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert [r["epoch_from"] for r in records] == [0, 0, 1, 1]
    assert all(r["seconds_total"] > r["seconds"] for r in records[2:])
    assert np.all(sec > 0)
    assert np.allclose(sec[:, 0], [records[2]["seconds_total"] - records[0]["seconds_total"],
                                   records[3]["seconds_total"] - records[1]["seconds_total"]])
    # without the checkpoints (another machine): trained from epoch 0, the same network, the whole cost
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:2]))  # stage 1's records only
    lost = ProxyRunner(_job(eval_images=200, checkpoints=str(tmp_path / "c")), RunStore(tmp_path / "c.jsonl"),
                       progress=False)
    acc_lost, _ = lost.accuracy(ARCHS[:2], whole, (0,), after=early)
    assert np.array_equal(acc_lost, acc_whole)
    assert [r["epoch_from"] for r in lost.store.records.values() if r["setting"] == whole.name] == [0, 0]


def test_hierarchical_schedule_continues_the_promoted_runs(tmp_path, one_thread):
    runner = ProxyRunner(_job(eval_images=200, checkpoints=str(tmp_path / "ck")), RunStore(tmp_path / "r.jsonl"),
                         progress=False)
    res = staged_scores(runner, ARCHS, Schedule.parse("c2r0s0e2@1+top0.5+c2r0s0e2"), (0,))
    assert list(res.trained) == [3, 2] and np.isfinite(res.scores).all()
    continued = [r for r in runner.store.records.values() if r["setting"] == "c2r0s0e2"]
    assert len(continued) == 2 and all(r["epoch_from"] == 1 for r in continued)
    assert res.seconds[1] == pytest.approx(sum(r["seconds"] for r in continued), rel=1e-6)


def test_a_checkpoint_of_another_run_or_a_corrupt_one_is_a_one_line_error(tmp_path, one_thread):
    from bnbench.datasets import load_dataset
    from bnbench.spaces import get_space
    from bnbench.train.standalone import train_network

    data = load_dataset("digits")
    cfg = TrainConfig(dataset="digits", channels=4, cells=1, train_mode="full", batch_size=128, epochs=2)
    ops = get_space("nb201").parse(ARCHS[0])
    args = (data.train, data.eval, cfg, data.mean, data.std, data.augment, data.num_classes)
    train_network(ops, *args, 1, stop=1, checkpoint=tmp_path / "run.pt")
    with pytest.raises(BnbenchError, match="belongs to another run .*seed"):
        train_network(ops, *args, 2, resume=tmp_path / "run.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(BnbenchError, match="cannot be read"):
        train_network(ops, *args, 1, resume=tmp_path / "bad.pt")
    with pytest.raises(BnbenchError, match="nothing to train"):
        train_network(ops, *args, 1, stop=1, resume=tmp_path / "run.pt")
