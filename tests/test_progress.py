"""Progress: tqdm bars on a terminal only; plain lines (stage totals, epochs) in a log."""

import pytest

from bnbench import progress


@pytest.fixture()
def lines(monkeypatch):
    monkeypatch.setenv("BNBENCH_PROGRESS", "lines")
    return monkeypatch


def test_mode_follows_the_terminal_and_the_override(monkeypatch, capsys):
    monkeypatch.delenv("BNBENCH_PROGRESS", raising=False)
    assert progress.mode() == "lines"  # pytest's captured stderr is no terminal
    for forced in ("bars", "lines", "off"):
        monkeypatch.setenv("BNBENCH_PROGRESS", forced)
        assert progress.mode() == forced


def test_a_stage_in_a_log_is_one_closing_line(lines, capsys):
    assert list(progress.track(range(5), 5, "supernet_acc")) == list(range(5))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("supernet_acc: 5 archs in ") and "arch/s" in err[0]
    assert "\r" not in capsys.readouterr().err


def test_a_long_stage_writes_heartbeat_lines(lines, capsys, monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.0)
    list(progress.track(iter(range(3)), 3, "truth build", unit="run"))
    err = capsys.readouterr().err.strip().splitlines()
    assert err[:3] == [e for e in err[:3] if e.startswith("truth build: ") and "/3 runs" in e] and len(err) == 4


def test_no_progress_means_lines_not_silence_and_off_means_silence(monkeypatch, capsys):
    monkeypatch.setenv("BNBENCH_PROGRESS", "bars")
    list(progress.track(range(2), 2, "x", enabled=False))
    assert capsys.readouterr().err.startswith("x: 2 archs in ")
    monkeypatch.setenv("BNBENCH_PROGRESS", "off")
    list(progress.track(range(2), 2, "x"))
    progress.line("nothing")
    assert capsys.readouterr().err == ""
    assert list(progress.track([], 0, "empty")) == []


def test_epoch_line_gives_loss_throughput_and_elapsed_time():
    assert progress.epoch_line("supernet bn", 3, 20, 2.18431, 1520.4, 41.23) == \
        "supernet bn epoch 3/20: loss 2.1843, 1520 img/s, 41.2 s elapsed"


def test_training_in_a_log_writes_one_line_per_epoch(lines, capsys):
    from bnbench.datasets import load_dataset
    from bnbench.train.config import TrainConfig
    from bnbench.train.supernet import train_supernet

    cfg = TrainConfig(dataset="digits", channels=4, cells=1, epochs=2, batch_size=32, train_fraction=0.2)
    train_supernet(cfg, load_dataset("digits", train_fraction=0.2, seed=0), progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    epochs = [e for e in err.splitlines() if " epoch " in e]
    assert [e.split(":")[0] for e in epochs] == ["supernet bn epoch 1/2", "supernet bn epoch 2/2"]
    assert all("loss " in e and "img/s" in e and "s elapsed" in e for e in epochs)
