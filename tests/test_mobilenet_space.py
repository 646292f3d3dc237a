"""The MobileNet (MBConv) spaces: strings, bad input, canonical form, sampling, options and exact cost.

Known values: BN-NAS's searched network (``--model_id`` of bychen515/BNNAS ``BNNAS/retrain``) has 5,228,536
parameters at 224 px and 1,000 classes (its retrain log, ``eval-SPOS/log.txt``: "param size = 5.228536MB", a sum
over ``model.named_parameters()``); the all-k3e3 network is counted by hand below from BN-NAS's literal widths.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from bnbench.cli import main
from bnbench.errors import ArchError, BnbenchError
from bnbench.spaces import get_space
from bnbench.spaces.mobilenet import SPACE, SPACE_DEPTH

BNNAS_FINAL = ("k5e6-id-k3e3-k7e3-k3e3-id-id-k3e3-k7e3-id-k7e3-k7e3-k3e6-k7e3-k5e3-k3e3-k3e3-k7e3-k3e3-k5e3-k5e3")
BNNAS_IDS = [3, -1, 0, 4, 0, -1, -1, 0, 4, -1, 4, 4, 1, 4, 2, 0, 0, 4, 0, 2, 2]  # its model_id (-1: identity)


def test_registered_with_aliases():
    assert get_space("mobilenet") is SPACE and get_space("MBConv") is SPACE and get_space("bnnas") is SPACE
    assert get_space("proxyless") is SPACE and get_space("mobilenet-depth") is SPACE_DEPTH
    assert SPACE.size == 6 ** 21 and SPACE_DEPTH.size == 6 ** 6 * 7 ** 15
    assert [len(d.choices) for d in SPACE.decisions] == [6] * 21
    assert [len(d.choices) for d in SPACE_DEPTH.decisions].count(7) == 15
    with pytest.raises(BnbenchError, match="too large to enumerate"):
        SPACE.all_archs()


def test_string_round_trip_and_bnnas_op_ids():
    arch = SPACE_DEPTH.parse(BNNAS_FINAL)
    assert arch.tolist() == [6 if i < 0 else i for i in BNNAS_IDS]  # choice index = BN-NAS's op id, id = 6
    assert SPACE_DEPTH.to_str(arch) == BNNAS_FINAL
    text = "-".join(["k3e3", "k3e6", "k5e3", "k5e6", "k7e3", "k7e6", "k3e3"] * 3)
    assert SPACE.to_str(SPACE.parse(text)) == text
    assert SPACE.to_str(SPACE.parse(" " + text.upper().replace("-", " - ") + " ")) == text


@pytest.mark.parametrize("space, text, message", [
    (SPACE, "-".join(["k3e3"] * 20), "20 layers, expected 21"),
    (SPACE, "-".join(["k3e3"] * 22), "22 layers, expected 21"),
    (SPACE, "-".join(["k3e3"] * 20 + ["k9e3"]), "layer 20 has unknown block 'k9e3'"),
    (SPACE, "-".join(["k3e3"] * 5 + ["id"] + ["k3e3"] * 15), "layer 5 cannot be id: this space has no identity"),
    (SPACE_DEPTH, "-".join(["id"] + ["k3e3"] * 20), "layer 0 cannot be id: it is the first of its stage"),
    (SPACE_DEPTH, "-".join(["k3e3"] * 4 + ["id"] + ["k3e3"] * 16), "layer 4 cannot be id"),
    (SPACE, "", "1 layers, expected 21"),
])
def test_bad_strings_are_one_line_arch_errors(space, text, message):
    with pytest.raises(ArchError, match=message) as err:
        space.parse(text)
    assert "\n" not in str(err.value)


def test_bad_encodings_are_arch_errors():
    with pytest.raises(ArchError, match="expected \\(n, 21\\)"):
        SPACE.choices(np.zeros((2, 20), dtype=np.int64))
    with pytest.raises(ArchError, match="layer 3 has choice 6"):
        SPACE.to_str(np.array([0, 0, 0, 6] + [0] * 17))


def test_cli_bad_architecture_is_one_line(tmp_path, capsys):
    path = tmp_path / "archs.txt"
    path.write_text("-".join(["k3e3"] * 21) + "\n" + "-".join(["k3e3"] * 19) + "\n")
    code = main(["score", "--space", "mobilenet", "--indicators", "params", "--archs", str(path),
                 "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "19 layers, expected 21" in err


def test_canonical_collapses_identities_within_a_stage_only():
    base = SPACE_DEPTH.parse(BNNAS_FINAL)
    moved = base.copy()
    moved[[1, 2]] = moved[[2, 1]]  # stage 1: k5e6-id-k3e3-k7e3 -> k5e6-k3e3-id-k7e3
    assert SPACE_DEPTH.to_str(moved) != SPACE_DEPTH.to_str(base)
    assert SPACE_DEPTH.canonical(moved) == SPACE_DEPTH.canonical(base)
    assert SPACE_DEPTH.canonical(base).startswith("k5e6-k3e3-k7e3-id-")
    opts = SPACE_DEPTH.options(channels=8)
    counts = SPACE_DEPTH.cost(np.stack([base, moved]), opts, resolution=32)
    assert counts["params"][0] == counts["params"][1] and counts["macs"][0] == counts["macs"][1]
    other = base.copy()
    other[[2, 3]] = other[[3, 2]]  # swapping two blocks is a different network
    assert SPACE_DEPTH.canonical(other) != SPACE_DEPTH.canonical(base)
    assert SPACE.canonical(SPACE.sample(1, 0)[0]) == SPACE.to_str(SPACE.sample(1, 0)[0])


def test_sampling_is_uniform_per_layer_distinct_and_reproducible():
    a = SPACE_DEPTH.sample(3000, seed=1)
    assert np.array_equal(a, SPACE_DEPTH.sample(3000, seed=1)) and len({r.tobytes() for r in a}) == 3000
    first = np.array([d.choices[-1] != "id" for d in SPACE_DEPTH.decisions])
    assert (a[:, first] < 6).all() and (a[:, ~first] == 6).mean() == pytest.approx(1 / 7, abs=0.01)
    assert np.bincount(SPACE.sample(3000, 2).ravel(), minlength=6) == pytest.approx([3000 * 21 / 6] * 6, rel=0.03)
    paths = SPACE.random_paths(np.random.default_rng(0), 4)
    assert paths.shape == (4, 21) and (paths < 6).all()
    strata = SPACE_DEPTH.strata(SPACE_DEPTH.parse_many([BNNAS_FINAL]))
    assert strata.tolist() == [32 * 4 + 2]  # 4 identities, 2 expansion-6 blocks


def test_options_and_common_knobs():
    opts = SPACE.options(channels=8, cells=2, width_mult=0.5)
    assert (opts.stem_channels, opts.repeats, opts.width_mult) == (8, 2, 0.5)
    assert opts.plan.stem == 4 and opts.plan.layers[0].c_out == 3  # int(40 * 0.2 * 0.5), int(32 * 0.1)
    assert SPACE.options().plan.head == 1728 and SPACE.options(width_mult=1.5).plan.head == 2592
    for bad, message in (({"width_mult": 0}, "positive number"), ({"cells": 0}, "positive integer"),
                         ({"identity": True}, "has no option 'identity'")):
        with pytest.raises(BnbenchError, match=message):
            SPACE.options(bad)


def _hand_count_all_k3e3(num_classes: int = 1000) -> int:
    """Parameters of the all-k3e3 BN-NAS network, from its literal widths (conv kernels + 2 per BN channel)."""
    total = 3 * 9 * 40 + 2 * 40  # stem
    total += 9 * 40 + 2 * 40 + 40 * 24 + 2 * 24  # expansion-1 block: depthwise 3x3, projection
    c_in = 24
    for c_out in [32] * 4 + [56] * 4 + [112] * 4 + [128] * 4 + [256] * 4 + [432]:
        h = 3 * c_in
        total += c_in * h + 2 * h + 9 * h + 2 * h + h * c_out + 2 * c_out
        c_in = c_out
    return total + 432 * 1728 + 2 * 1728 + 1728 * num_classes + num_classes


def test_known_parameter_counts_at_the_full_layout():
    opts = SPACE.options()
    all_k3e3 = np.zeros((1, 21), dtype=np.int64)
    assert SPACE.cost(all_k3e3, opts, num_classes=1000, resolution=224)["params"][0] == _hand_count_all_k3e3()
    final = SPACE_DEPTH.parse(BNNAS_FINAL)
    assert SPACE_DEPTH.cost(final, opts, num_classes=1000, resolution=224)["params"][0] == 5_228_536
    net = SPACE_DEPTH.network(final, opts, num_classes=1000)
    assert sum(p.numel() for p in net.parameters()) == 5_228_536


@pytest.mark.parametrize("resolution, channels", [(224, 8), (32, 16), (8, 8)])
def test_cost_equals_torch_flop_counter(resolution, channels, one_thread):
    space = SPACE_DEPTH
    archs = space.sample(2, seed=resolution)
    opts = space.options(channels=channels, cells=2 if resolution == 8 else 1, bn_every_op=True)
    counts = space.cost(archs, opts, num_classes=10, in_channels=3, resolution=resolution)
    for arch, flops, params in zip(archs, counts["flops"], counts["params"]):
        net = space.network(arch, opts, num_classes=10, in_channels=3).eval()
        assert params == sum(p.numel() for p in net.parameters())
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            net(torch.zeros(1, 3, resolution, resolution))
        if resolution == 8:  # the depthwise convs skip padding-only taps there (fewer executed than nominal)
            assert counter.get_total_flops() < flops
        else:
            assert counter.get_total_flops() == flops
    assert np.array_equal((counts["macs"] - 10) * 2, counts["flops"])  # the classifier's bias: 10 MACs, no FLOPs


def test_a_mobilenet_table_is_told_by_its_keys_and_serves_the_depth_space():
    import numpy as np

    from bnbench.errors import BenchmarkError
    from bnbench.truth.table import TruthTable
    from bnbench.truth.table_space import check_space, infer_space

    fixed = ["-".join(["k3e6"] * 21), "-".join(["k5e3"] * 21)]
    table = TruthTable(archs=fixed, indices=np.arange(2), columns={})
    assert infer_space(table) == "mobilenet"
    assert check_space(table, "mobilenet-depth", "t.csv") is table
    depth = TruthTable(archs=["-".join(["k3e6", "id"] + ["k3e3"] * 19)], indices=np.arange(1), columns={})
    assert infer_space(depth) == "mobilenet-depth"
    with pytest.raises(BenchmarkError, match="a ground truth of the MobileNet \\(depth search\\) space"):
        check_space(depth, "mobilenet", "d.csv")
