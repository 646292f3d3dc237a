import json

import numpy as np
import pytest
import torch

from bnbench.cli import main
from bnbench.datasets.fake import write_fake_cifar10
from bnbench.spaces.nb201 import arch as A
from bnbench.study import analysis
from bnbench.study.snapshots import ensure_snapshots, snapshot_path

from bnbench.spaces import get_space as _get_space

SPACE201 = _get_space("nb201")


pytestmark = pytest.mark.usefixtures("one_thread")


def fake_truth(path, n: int = 150, seed: int = 0):
    """An NB201-style CSV: accuracy grows with the convolutions of a cell, plus noise (values in CIFAR-10's range,
    which bnbench checks against the setting the file name states)."""
    rng = np.random.default_rng(seed)
    archs = A.sample(n, rng)
    lines = ["file id,arch str,train accuracy,validation accuracy,test accuracy"]
    for i, a in enumerate(archs):
        acc = 78 + 2 * a.count(3) + 1.2 * a.count(2) + rng.normal(0, 0.8)
        lines.append(f"{i},{A.to_str(a)},{acc + 5:.3f},{acc:.3f},{acc - 1:.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_disjoint_samples_are_disjoint_and_stratified():
    ops = A.ops_matrix(A.sample(300, np.random.default_rng(1)))
    values = np.arange(300.0)
    (a, va), (b, vb) = analysis.disjoint_samples(SPACE201, ops, values, 100, seed=0)
    assert len(a) == len(b) == 100 and not set(va) & set(vb)
    assert np.array_equal(va, values[np.sort(analysis.stratified_indices(SPACE201.strata(ops), 100, 0))])
    with pytest.raises(Exception, match="need 400"):
        analysis.disjoint_samples(SPACE201, ops, values, 200, seed=0)


def test_op_frequencies_and_top_indices():
    archs = np.array([[0] * 6, [3] * 6, [3, 3, 2, 2, 1, 1]])
    weights = analysis.top_weights(np.array([0.1, np.nan, 0.5]), True, 2)
    assert weights.tolist() == [1.0, 0.0, 1.0]
    freq = analysis.op_frequencies(SPACE201, archs, np.array([0.0, 1.0, 1.0]))
    assert freq["nor_conv_3x3"] == pytest.approx(8 / 12) and sum(freq.values()) == pytest.approx(1)


def test_fairness_study_end_to_end_and_resume(tmp_path, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv("MPLBACKEND", "Agg")
    write_fake_cifar10(root, per_batch=40)
    truth = fake_truth(tmp_path / "nb201-v1_1-cifar10-valid-200ep.csv")
    out = tmp_path / "study"
    argv = ["study", "fairness", "--data-dir", str(root), "--benchmark", str(truth), "--device", "cpu",
            "--sample-archs", "30", "--checkpoints", "0,1,2", "--top", "5", "--bootstrap", "50", "--out", str(out),
            "--channels", "4", "--cells", "1", "--resolution", "8", "--batch-size", "16", "--calib-batches", "2",
            "--val-images", "40", "--mc-batches", "2", "--mc-batch-size", "16", "--probe-images", "24",
            "--ntk-samples", "8", "--curve-indicators", "bn,params,supernet_acc", "--no-progress"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["runs"]) == {"original-bn", "fair-bn", "original-full"}
    assert results["samples"] == {"selection": 30, "report": 30}
    assert sorted(results["runs"]["original-full"]["epochs"]) == ["0", "1", "2"]  # 0: the initialised supernet
    assert list(results["runs"]["fair-bn"]["epochs"]) == ["2"]
    full = results["runs"]["original-full"]["epochs"]
    assert set(full["1"]["indicators"]) == {"bn", "params", "supernet_acc"} and "composite" in full["2"]["indicators"]
    assert "composite" in full["0"]["indicators"] and full["0"]["train_s"] == 0.0  # epoch 0 scores everything
    initial = results["runs"]["original-bn"]["epochs"]["0"]["indicators"]["bn"]  # untrained: every |gamma| is 1
    assert initial["kendall_tau"] is not None
    final = results["runs"]["fair-bn"]["epochs"]["2"]["indicators"]
    assert set(final) == {"bn", "composite", "expressivity", "trainability", "uncertainty", "feature_rank", "params",
                          "supernet_acc", "flops", "convs"}  # + the structural baselines
    assert final["convs"]["baseline"] and not final["bn"]["baseline"]
    assert final["params"]["beyond_structure"]["partial_tau_given_params"]["partial_tau"] is None
    assert final["bn"]["beyond_structure"]["within_strata"]["strata"] == "number of convolutions in the cell"
    assert final["params"]["kendall_tau"] is not None and final["params"]["kendall_tau_ci"] is not None
    assert final["composite"]["degenerate"] >= final["expressivity"]["degenerate"]
    for run in ("original-bn", "fair-bn"):
        choice = results["runs"][run]["composite_choice"]
        assert choice["chosen"] and len(choice["selection_table"]) == 7
    freqs = results["runs"]["original-bn"]["top_ops"]
    assert set(freqs) == set(final) | {"truth"} and sum(freqs["truth"].values()) == pytest.approx(1)
    report = (out / "report.md").read_text()
    for part in ("## What the measurement shows", "**Fairness.**", "beyond structure", "Ceiling", "**BN-only vs full training**", "## 1.", "## 2.",
                 "## 3.", "## 4.", "tau_bars.png", "curve.png", "top_ops_fair-bn.png"):
        assert part in report
    for png in ("tau_bars.png", "curve.png", "top_ops_original-bn.png", "top_ops_fair-bn.png"):
        assert (out / png).stat().st_size > 1000

    # a rerun trains and scores nothing: every stage is cached
    import bnbench.study.snapshots as snapshots
    from bnbench.indicators.registry import Indicator

    monkeypatch.setattr(snapshots, "train_supernet", lambda *a, **k: pytest.fail("retrained"))
    monkeypatch.setattr(Indicator, "__call__", lambda *a, **k: pytest.fail("rescored"))
    assert main(argv) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["runs"]["fair-bn"]["epochs"]["2"]["indicators"]["composite"]["kendall_tau"] == \
        final["composite"]["kendall_tau"]


def test_snapshots_resume_from_the_run_checkpoint(tmp_path):
    from bnbench.datasets import load_dataset
    from bnbench.train.config import TrainConfig
    from bnbench.train.supernet import load_supernet, train_supernet

    data = load_dataset("digits", train_fraction=0.2, seed=0)
    cfg = TrainConfig(dataset="digits", channels=4, cells=1, epochs=2, batch_size=32, train_fraction=0.2)
    snaps = ensure_snapshots(cfg, data, tmp_path / "run", [0, 1, 2], progress=False)
    assert snaps == {e: snapshot_path(tmp_path / "run", e) for e in (0, 1, 2)}
    assert load_supernet(snaps[0], data).resumed_from == 0
    straight = train_supernet(cfg, data, progress=False).model
    resumed = load_supernet(snaps[2], data).model
    assert all(torch.equal(v, resumed.state_dict()[k]) for k, v in straight.state_dict().items())
    assert load_supernet(snaps[1], data).resumed_from == 1


def _results(bn_curve, full_curve, fair_bn_tau=0.1):
    """A minimal study results dict: taus of ``bn`` per (train s) on the two training curves."""
    from bnbench.spaces.nb201.arch import OPS

    def epochs(curve):
        return {str(i + 1): {"train_s": s, "indicators": {"bn": {"kendall_tau": t}, "params": {"kendall_tau": 0.5}}}
                for i, (s, t) in enumerate(curve)}

    conv_heavy = dict(zip(OPS, (0.0, 0.1, 0.4, 0.4, 0.1)))
    truth = dict(zip(OPS, (0.1, 0.2, 0.3, 0.3, 0.1)))
    free_heavy = dict(zip(OPS, (0.0, 0.5, 0.1, 0.1, 0.3)))
    choice = {"chosen": {"trainability": 1.0}, "label": "trainability", "report": {"kendall_tau": 0.61}}
    return {"config": {"top": 50}, "runs": {
        "original-bn": {"epochs": epochs(bn_curve), "top_ops": {"bn": conv_heavy, "truth": truth},
                        "composite_choice": choice},
        "fair-bn": {"epochs": {"10": {"train_s": 1, "indicators": {"bn": {"kendall_tau": fair_bn_tau}}}},
                    "top_ops": {"bn": free_heavy, "truth": truth}},
        "original-full": {"epochs": epochs(full_curve), "top_ops": {}}}}


def test_findings_are_computed_from_the_numbers():
    from bnbench.study.findings import findings

    text = "\n".join(findings(_results([(10, 0.48), (20, 0.50)], [(100, 0.30), (200, 0.49)])))
    assert "over-selects convolutions: 80%" in text and "swings to parameter-free ops" in text
    assert "loses most of its ranking: tau 0.500 -> 0.100" in text
    assert "trainability, tau 0.610 (meets the 0.60 target, above params (0.500))" in text
    assert "bn: best tau 0.500; BN-only reaches it after 10 s, full training after 200 s: 20.0x, which supports" in text
    slow = "\n".join(findings(_results([(10, 0.30), (20, 0.50)], [(12, 0.50), (24, 0.50)], fair_bn_tau=0.49)))
    assert "1.2x, which does not support" in slow and "keeps its ranking" in slow
    never = "\n".join(findings(_results([(10, 0.2), (20, 0.2)], [(12, 0.5), (24, 0.5)])))
    assert "BN-only training never reaches 0.480" in never
    untrained = "\n".join(findings(_results([(0, 0.50), (10, 0.45)], [(0, 0.50), (100, 0.40)])))
    assert "best tau 0.500 is already reached by the untrained supernet (epoch 0)" in untrained
    assert "the speed-up claim does not apply" in untrained
