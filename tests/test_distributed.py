"""Supernet training with DistributedDataParallel on 2 CPU processes (gloo), as torchrun runs it."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from bnbench.datasets import load_dataset
from bnbench.train.config import TrainConfig

CFG = dict(dataset="digits", channels=4, cells=1, epochs=2, batch_size=64, train_mode="full", seed=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, world: int, port: int, out: str, results) -> None:
    from bnbench.train import distributed
    from bnbench.train.supernet import train_supernet

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        assert distributed.world() == (rank, world)
        data = load_dataset("digits")
        result = train_supernet(TrainConfig(**CFG), data, out, progress=False, stop_after=1)
        params = torch.cat([p.detach().reshape(-1) for p in result.model.parameters()])
        results[rank] = (params.numpy().tobytes(), result.history[-1]["loss"])
    finally:
        distributed.finish()


def test_two_ranks_train_one_supernet_and_its_checkpoint_resumes_alone(tmp_path):
    from bnbench.train import distributed
    from bnbench.train.supernet import CHECKPOINT, load_checkpoint, train_supernet

    out = tmp_path / "ddp"
    with mp.Manager() as manager:
        results = manager.dict()
        mp.start_processes(_rank, args=(2, _free_port(), str(out), results), nprocs=2, start_method="fork")
        results = dict(results)
    assert results[0][0] == results[1][0]  # DDP kept the ranks' parameters identical (BN running stats: per rank)
    state = load_checkpoint(out / CHECKPOINT)
    assert state["epoch"] == 1
    assert distributed.world() == (0, 1) and not distributed.launched()
    data = load_dataset("digits")
    resumed = train_supernet(TrainConfig(**CFG), data, out, progress=False)  # a single process continues it
    assert resumed.resumed_from == 1 and len(resumed.history) == 2
    assert resumed.history[1]["loss"] < resumed.history[0]["loss"] * 1.5


def test_shard_is_the_rank_slice_of_the_global_batch(monkeypatch):
    from bnbench.train import distributed

    x, y = torch.arange(10).view(10, 1), torch.arange(10)
    assert distributed.shard(x, y)[1].tolist() == list(range(10))
    monkeypatch.setattr(distributed, "world", lambda: (1, 3))
    assert distributed.shard(x, y)[1].tolist() == [1, 4, 7]


@pytest.mark.parametrize("env", [{}, {"WORLD_SIZE": "1"}])
def test_single_process_is_not_distributed(monkeypatch, env):
    from bnbench.train import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert distributed.init_from_env("cpu") == "cpu" and not dist.is_initialized()


def test_torchrun_trains_with_two_processes_and_a_single_process_reads_the_checkpoint(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    torchrun = shutil.which("torchrun") or os.path.join(os.path.dirname(sys.executable), "torchrun")
    bnbench = [sys.executable, "-m", "bnbench"]
    args = ["train-supernet", "--epochs", "1", "--channels", "4", "--cells", "1", "--out", str(tmp_path), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([torchrun, "--nproc_per_node", "2", "--master_port", str(_free_port()), "-m", "bnbench",
                          *args], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("supernet (bn, 1/1 epochs)") == 1  # rank 0 reports, rank 1 is silent
    alone = subprocess.run([*bnbench, *args], capture_output=True, text=True, env=env, timeout=300)
    assert alone.returncode == 0 and "checkpoint already complete" in alone.stdout, alone.stderr[-2000:]
