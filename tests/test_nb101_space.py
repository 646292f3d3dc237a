"""NAS-Bench-101 through the search-space interface: encoding, choices, sampling, cost, supernet (and its BN table)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from bnbench.errors import ArchError, BnbenchError
from bnbench.indicators.bn_score import bn_table
from bnbench.spaces import get_space
from bnbench.spaces.base import last_bn, masked_gather, slots_of
from bnbench.spaces.nb101 import arch as A
from bnbench.spaces.nb101.encoding import WIDTH, check_rows, embed, full_matrices, prune_embed
from bnbench.spaces.nb101.model import cost as model_cost
from bnbench.spaces.nb101.sampling import random_specs
from bnbench.spaces.nb101.supernet import supernet_params
from bnbench.train.params import select_trainable

S = get_space("nb101")
C3, C1, MP = A.OPS
IO_ROW = np.array([0] * 5 + [1] + [0] * 15 + [-1] * 5)  # input -> output only: bit (0, 6), no interior vertex


def spec(matrix, ops) -> str:
    return A.to_json(matrix, ["input", *ops, "output"])


@pytest.fixture(scope="module")
def records(nb101_record_stats):
    return list(nb101_record_stats.items())


@pytest.fixture(scope="module")
def csv_rows(shared_data):
    path = shared_data / "nb101" / "naslib-nb101-cifar10-250.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    df = pd.read_csv(path)
    return df, [A.to_json(json.loads(a), json.loads(o)) for a, o in zip(df["adjacency"], df["ops"])]


def test_registered_with_aliases_and_benchmark_defaults():
    assert get_space("NAS-Bench-101") is S and S.name == "nb101"
    assert S.width == WIDTH == 26 and len(S.decisions) == 26 and S.size == 423_624
    assert S.default_truth_epochs == 108 and S.variants == ("official", "zc")
    assert [d.choices for d in S.decisions[:5]] == [A.OPS] * 5
    assert [d.name for d in S.decisions[5:8]] == ["edge 0->1", "edge 0->2", "edge 0->3"]
    with pytest.raises(BnbenchError, match="too large to enumerate"):
        S.all_archs()


def test_30_records_round_trip_hash_and_parameter_count(records):
    assert len(records) == 30
    for expected_hash, fs in records:
        row = S.parse(A.to_json(fs["module_adjacency"], fs["module_operations"]))
        assert row.shape == (WIDTH,) and row.dtype == np.int64
        assert S.canonical(row) == S.truth_key(row) == expected_hash
        assert np.array_equal(S.parse(S.to_str(row)), row)
        k = len(fs["module_operations"]) - 2  # the records are pruned cells
        assert (row[21:21 + k] >= 0).all() and (row[21 + k:] == -1).all()
        assert S.cost(row[None])["params"][0] == fs["trainable_parameters"]


def test_250_unpruned_csv_cells_prune_round_trip_and_mark_unused_positions(csv_rows):
    df, texts = csv_rows
    rows = S.parse_many(texts)
    assert rows.shape == (250, WIDTH)
    assert len({S.canonical(r) for r in rows}) == 162  # drawn with replacement: 29 rows are input -> output only
    assert sum(np.array_equal(r, IO_ROW) for r in rows) == 29
    for text, row in zip(texts, rows):
        cell = A.parse(text)
        assert S.to_str(row) == A.to_str(cell) and np.array_equal(S.parse(S.to_str(row)), row)
        assert S.canonical(row) == A.module_hash(cell)
    choices = S.choices(rows)
    unused = rows[:, 21:] == -1
    assert np.array_equal(choices[:, :5] == -1, unused)
    m = full_matrices(rows)
    for a in range(len(rows)):
        for d, (i, j) in enumerate(PAIRS_LIST):
            endpoint_unused = (0 < i < 6 and unused[a, i - 1]) or (0 < j < 6 and unused[a, j - 1])
            assert choices[a, 5 + d] == (-1 if endpoint_unused else m[a, i, j])


PAIRS_LIST = [(i, j) for i in range(7) for j in range(i + 1, 7)]


def test_vectorised_pruning_equals_the_official_rule():
    rng = np.random.default_rng(7)
    matrices, ops = random_specs(rng, 3000)
    valid, rows = prune_embed(matrices, ops)
    assert 0.6 < valid.mean() < 0.9
    for m, o, ok, row in zip(matrices, ops, valid, rows):
        try:
            cell = A.make_cell(m, ["input", *(A.OPS[i] for i in o), "output"])
        except ArchError:
            assert not ok
            continue
        assert ok and np.array_equal(embed(cell), row)


def test_check_rows_accepts_exactly_the_embeddings_of_pruned_cells():
    rng = np.random.default_rng(3)
    valid, rows = prune_embed(*random_specs(rng, 4000))
    rows = rows[valid][:1500].copy()
    check_rows(rows)
    where = rng.integers(0, WIDTH, len(rows))
    rows[np.arange(len(rows)), where] = np.where(where < 21, 1 - rows[np.arange(len(rows)), where],
                                                 rng.integers(-1, 3, len(rows)))
    for row in rows:  # a row passes iff decoding, pruning and re-embedding gives it back
        try:
            cell = A.make_cell(*_decoded(row))
            expected = np.array_equal(embed(cell), row)
        except (ArchError, ValueError, IndexError):
            expected = False
        try:
            check_rows(row[None])
            assert expected, row
        except ArchError:
            assert not expected, row


def _decoded(row):
    ops = row[21:]
    k = int((ops >= 0).sum())
    if not (ops[:k] >= 0).all() or (ops[k:] != -1).any():
        raise ValueError
    m = full_matrices(row[None])[0]
    keep = list(range(k + 1)) + [6]
    if m.sum() != m[np.ix_(keep, keep)].sum():
        raise ValueError
    return m[np.ix_(keep, keep)], ["input", *(A.OPS[o] for o in ops[:k]), "output"]


@pytest.mark.parametrize("row, why", [
    (IO_ROW[:-1], "26"),
    (np.where(np.arange(WIDTH) == 21, 0, IO_ROW), "not a pruned valid"),  # position 1 used but unconnected
    (np.array([1] + [0] * 4 + [1] + [0] * 15 + [0, -1, 0, -1, -1]), "not a pruned valid"),  # ops not a prefix
    (np.array([2] + [0] * 20 + [-1] * 5), "not a pruned valid"),  # a bit of 2
])
def test_bad_rows_are_one_line_errors(row, why):
    with pytest.raises(ArchError, match=why) as err:
        S.to_str(row)
    assert "\n" not in str(err.value)
    with pytest.raises(ArchError):
        S.choices(np.asarray(row)[None]) if len(row) == WIDTH else S.choices(np.zeros((1, 25), dtype=np.int64))


@pytest.mark.parametrize("text, why", [
    (spec(np.triu(np.ones((7, 7), int), 1), [C3] * 5), "21 edges after pruning"),
    (spec([[0, 1, 0], [1, 0, 1], [0, 0, 0]], [C3]), "not strictly upper triangular"),
    (spec([[0, 1, 0], [0, 0, 0], [0, 0, 0]], [C3]), "no path from input to output"),
    (spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["conv5x5"]), "unknown op 'conv5x5'"),
    (spec(np.triu(np.ones((8, 8), int), 1), [C3] * 6), "8 vertices"),
    ('{"matrix": [[0, 1], [0, 0]]}', "keys"),
])
def test_invalid_specs_are_one_line_errors(text, why):
    with pytest.raises(ArchError, match=why) as err:
        S.parse(text)
    assert "\n" not in str(err.value)


def test_samples_distinct_by_hash_prefix_stable_and_valid():
    a = S.sample(300, seed=4)
    assert len({S.canonical(r) for r in a}) == 300
    assert np.array_equal(S.sample(120, seed=4), a[:120])
    assert not np.array_equal(S.sample(120, seed=5), a[:120])
    check_rows(a)
    paths = S.random_paths(np.random.default_rng(0), 2000)
    check_rows(paths)
    assert 0.05 < np.mean([np.array_equal(p, IO_ROW) for p in paths]) < 0.15  # the sampler's known bias (~9.7%)
    labels = S.strata(a)
    ops = a[:, 21:]
    assert np.array_equal(labels, 100 * (ops == 0).sum(1) + 10 * (ops == 1).sum(1) + (ops == 2).sum(1))
    with pytest.raises(BnbenchError, match="1..423,624"):
        S.sample(0, 0)


def test_options_common_knobs_and_errors():
    o = S.options(channels=16, cells=1, bn_every_op=True, num_stacks=2)
    assert (o.stem_channels, o.cells_per_stack, o.num_stacks, o.bn_every_op) == (16, 1, 2, True)
    assert S.options() == S.Options(128, 3, 3, False)
    with pytest.raises(BnbenchError, match="search space 'nb101' has no option 'C'"):
        S.options(C=16)
    with pytest.raises(BnbenchError, match="stem_channels=3: at least 4"):
        S.options(channels=3)


def test_cost_equals_the_closed_form_of_the_network_model():
    archs = np.concatenate([S.sample(40, 1), IO_ROW[None]])
    for o, res in ((S.options(), 32), (S.options(channels=8, cells=2, bn_every_op=True), 9),
                   (S.options(channels=4, num_stacks=2, cells=1), 8)):
        got = S.cost(archs, o, num_classes=7, in_channels=1, resolution=res)
        for i, row in enumerate(archs):
            want = model_cost(S.cell(row), o.stem_channels, o.num_stacks, o.cells_per_stack, 7, 1, o.bn_every_op,
                              res)
            assert {k: int(got[k][i]) for k in want} == want, S.to_str(row)
    # input -> output only, by hand: stem 9*3*128 + 2*128; one 1x1 projection per cell; dense 512*10 + 10
    io = S.cost(IO_ROW[None])["params"][0]
    proj = sum((ci * co + 2 * co) for ci, co in [(128, 128)] * 3 + [(128, 256)] + [(256, 256)] * 2 + [(256, 512)]
               + [(512, 512)] * 2)
    assert io == 9 * 3 * 128 + 2 * 128 + proj + 512 * 10 + 10


def test_network_builds_the_pruned_cell_in_every_variant():
    row = S.parse(spec([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [MP, C1]))
    o = S.options(channels=4, cells=1)
    for variant in S.variants:
        for bn in (True, False):
            net = S.network(row, o, num_classes=3, in_channels=1, variant=variant, bn=bn)
            assert net.cell == S.cell(row) and net(torch.randn(2, 1, 8, 8)).shape == (2, 3)
            assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()) == bn


def test_supernet_parameter_count_slots_and_bn_table():
    tiny = S.supernet(S.options(channels=4, cells=1, num_stacks=1), num_classes=10, in_channels=1)
    # stem 9*1*4 + 2*4; 6 projections (4*4 + 2*4); 5 positions x (conv3x3 9*16 + 8, conv1x1 16 + 8, maxpool 0);
    # dense 4*10 + 10
    assert sum(p.numel() for p in tiny.parameters()) == 44 + 6 * 24 + 5 * (152 + 24) + 50 == 1118
    for kw in (dict(channels=16, cells=1), dict(channels=8, cells=2, bn_every_op=True)):
        o = S.options(**kw)
        net = S.supernet(o, num_classes=10, in_channels=3)
        assert sum(p.numel() for p in net.parameters()) == supernet_params(
            o.stem_channels, o.num_stacks, o.cells_per_stack, 10, 3, o.bn_every_op)
        slots = slots_of(net)
        assert len(slots) == o.num_stacks * o.cells_per_stack * 5 * 3
        table = bn_table(net, S)
        assert table.shape == (26, 3)
        assert (table[5:] == 0).all()  # edges hold no module of their own
        assert (table[:5, :2] == o.num_stacks * o.cells_per_stack).all()  # fresh BNs: |gamma| = 1 in every cell
        assert (table[:5, 2] == (o.num_stacks * o.cells_per_stack if o.bn_every_op else 0)).all()


def test_bn_score_sums_the_chosen_ops_last_bns():
    torch.manual_seed(0)
    net = S.supernet(S.options(channels=8, cells=2), num_classes=10, in_channels=1)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(-2, 2)
    archs = np.concatenate([S.sample(20, 2), IO_ROW[None]])
    scores = masked_gather(bn_table(net, S), S.choices(archs))
    modules = dict(net.named_modules())
    for row, score in zip(archs, scores):
        expected = 0.0
        for cell in range(len(net.layers)):
            if not hasattr(net.layers[cell], "ops"):
                continue
            for p, op in enumerate(row[21:]):
                norm = last_bn(modules[f"layers.{cell}.ops.{p}.{op}"]) if op >= 0 else None
                expected += 0.0 if norm is None else float(norm.weight.detach().abs().mean())
        assert score == pytest.approx(expected)
    assert scores[-1] == 0.0


def test_bn_only_training_selects_each_op_slots_last_bn():
    for bn_every_op, per_position in ((False, 2), (True, 3)):
        net = S.supernet(S.options(channels=4, cells=1, bn_every_op=bn_every_op), num_classes=10, in_channels=1)
        params = select_trainable(net, "bn", "last")
        assert len(params) == 3 * 5 * per_position * 2  # 3 cells x 5 positions x BN-bearing ops x (gamma, beta)
        assert {id(p) for p in params} == {id(p) for p in net.parameters() if p.requires_grad}


def test_supernet_rejects_rows_that_encode_no_cell():
    net = S.supernet(S.options(channels=4, cells=1), num_classes=10, in_channels=1)
    with pytest.raises(ArchError, match="not a pruned valid"):
        net(torch.randn(1, 1, 8, 8), np.where(np.arange(WIDTH) == 21, 0, IO_ROW))


def test_a_few_spos_steps_lower_the_loss_on_digits(one_thread):
    from bnbench.datasets import BatchAugmenter, load_dataset
    from bnbench.indicators.supernet_acc import fixed_images
    from bnbench.train.config import TrainConfig
    from bnbench.train.supernet import build_supernet, train_supernet

    data = load_dataset("digits", train_fraction=0.5, seed=0)
    cfg = TrainConfig(dataset="digits", space="nb101", channels=8, cells=1, epochs=5, batch_size=32,
                      train_mode="full", seed=0)
    archs = S.sample(6, 0)
    x, y = fixed_images(data.train, 256, BatchAugmenter(data.mean, data.std, data.augment, None), 0)

    @torch.no_grad()
    def loss(model):
        model.train()  # batch statistics: the same rule before and after training
        return float(np.mean([F.cross_entropy(model(x, a), y).item() for a in archs]))

    before = loss(build_supernet(cfg, data))
    after = loss(train_supernet(cfg, data, progress=False, announce=lambda line: None).model)
    assert after < before - 0.15, (before, after)  # measured: 2.48 -> 2.21


def test_zero_cost_batch_defaults_to_that_of_the_spaces_published_values():
    """NB101's published per-architecture proxies (NAS-Bench-Suite-Zero) used 32 images, NB201's (zero-cost-nas) 64."""
    from bnbench.errors import BnbenchError
    from bnbench.indicators.zc.common import resolve_batch_size

    assert resolve_batch_size(None, "nb101") == 32 and resolve_batch_size(None, "nb201") == 64
    assert resolve_batch_size(16, "nb101") == 16
    with pytest.raises(BnbenchError, match="--zc-batch-size 1"):
        resolve_batch_size(1, "nb101")
