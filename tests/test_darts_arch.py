"""DARTS genotypes: the safe parser and printer, validity errors, encoding, choices, canonical form, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from bnbench.errors import ArchError, BnbenchError
from bnbench.spaces import get_space
from bnbench.spaces.darts.arch import DARTS_V2
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.encoding import EDGES, WIDTH, canonical_rows, check_rows, edge_index
from bnbench.spaces.darts.sampling import random_genotypes

S = get_space("darts")


def with_pair(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_aliases_and_registry():
    for name in ("darts", "nb301", "NAS-Bench-301", "darts-cell"):
        assert get_space(name) is S or get_space(name).name == "darts"
    assert S.size is None and S.width == WIDTH == 32 and len(S.decisions) == 28
    with pytest.raises(BnbenchError, match="too large to enumerate"):
        S.all_archs()


def test_darts_v2_round_trip_and_range_concat():
    row = S.parse(DARTS_V2)
    assert S.to_str(row) == DARTS_V2
    assert row[:4].tolist() == [A.OPS.index("sep_conv_3x3"), 0, A.OPS.index("sep_conv_3x3"), 1]
    printed = DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)").replace(
        "reduce_concat=[2, 3, 4, 5]", "reduce_concat=range(2, 6)")
    assert np.array_equal(S.parse(printed), row)
    assert np.array_equal(S.parse("  " + DARTS_V2.replace("'", '"') + "\n"), row)  # either quote, spaces
    positional = DARTS_V2.replace("normal=", "").replace("normal_concat=", "").replace("reduce=", "").replace(
        "reduce_concat=", "")
    assert np.array_equal(S.parse(positional), row)


@pytest.mark.parametrize("text, message", [
    (with_pair(DARTS_V2, "('dil_conv_3x3', 2)], ", "], "), "normal has 7 .*expected 8"),
    (with_pair(DARTS_V2, "('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "node 3 takes input 5, not an earlier"),
    (with_pair(DARTS_V2, "('sep_conv_3x3', 0), ('sep_conv_3x3', 1)", "('sep_conv_3x3', 0), ('sep_conv_3x3', 2)"),
     "normal node 0 takes input 2, not an earlier"),
    (with_pair(DARTS_V2, "('dil_conv_3x3', 2)", "('conv_7x1_1x7', 2)"), "unknown op 'conv_7x1_1x7'"),
    (with_pair(DARTS_V2, "('dil_conv_3x3', 2)", "('none', 2)"), "unknown op 'none'.*supernet-only"),
    (with_pair(DARTS_V2, "('skip_connect', 0), ('dil_conv_3x3', 2)", "('skip_connect', 0), ('dil_conv_3x3', 0)"),
     "normal node 3 takes input 0 twice"),
    (with_pair(DARTS_V2, "reduce_concat=[2, 3, 4, 5]", "reduce_concat=[4, 5]"), "reduce_concat is \\[4, 5\\]"),
    (with_pair(DARTS_V2, "('dil_conv_3x3', 2)", "('dil_conv_3x3', -1)"), "node 3 takes input -1"),
    (with_pair(DARTS_V2, "('dil_conv_3x3', 2)", "('dil_conv_3x3', '2')"), "pair 7 is .*expected \\(op name, input"),
    (DARTS_V2.replace("reduce_concat=[2, 3, 4, 5]", "extra=1"), "unknown field 'extra'"),
    (DARTS_V2.replace(", reduce_concat=[2, 3, 4, 5]", ""), "missing field 'reduce_concat'"),
    (DARTS_V2.replace("('max_pool_3x3', 0)", "(__import__('os').system('true'), 0)", 1), "unexpected Call"),
    ("Genotype(normal=[", "not a Genotype\\(...\\) expression"),
    ("|nor_conv_3x3~0|+|", "not a Genotype"),
    ("Network(normal=[])", "expected Genotype\\(normal="),
])
def test_malformed_genotypes_are_one_line_errors(text, message):
    with pytest.raises(ArchError, match=message) as err:
        S.parse(text)
    assert "\n" not in str(err.value) and str(err.value).startswith("DARTS genotype ")


def test_canonical_form_ignores_the_order_of_a_nodes_pairs():
    swapped = with_pair(DARTS_V2, "('skip_connect', 0), ('dil_conv_3x3', 2)", "('dil_conv_3x3', 2), ('skip_connect', 0)")
    swapped = with_pair(swapped, "('max_pool_3x3', 0), ('max_pool_3x3', 1)", "('max_pool_3x3', 1), ('max_pool_3x3', 0)")
    a, b = S.parse(DARTS_V2), S.parse(swapped)
    assert not np.array_equal(a, b) and S.to_str(b) == swapped  # the written order is kept ...
    assert S.canonical(a) == S.canonical(b) == S.truth_key(b)  # ... and identified by the canonical form
    assert np.array_equal(S.choices(a[None]), S.choices(b[None]))
    other = with_pair(DARTS_V2, "('dil_conv_3x3', 2)", "('dil_conv_5x5', 2)")
    assert S.canonical(S.parse(other)) != S.canonical(a)
    canon = S.parse(S.canonical(b))
    assert all(canon[16 * t + 4 * n + 1] < canon[16 * t + 4 * n + 3] for t in range(2) for n in range(4))


def test_choices_mark_the_eight_used_edges_per_cell_type():
    row = S.parse(DARTS_V2)
    ch = S.choices(row[None])[0]
    assert ch.shape == (28,) and (ch[:14] >= 0).sum() == 8 and (ch[14:] >= 0).sum() == 8
    assert EDGES[edge_index(3, 2)] == (3, 2) and len(EDGES) == 14
    assert ch[edge_index(3, 2)] == A.OPS.index("dil_conv_3x3")  # normal node 3 <- node 0 (state 2)
    assert ch[edge_index(3, 1)] == -1
    assert ch[14 + edge_index(1, 2)] == A.OPS.index("skip_connect")
    assert S.decisions[14 + edge_index(1, 2)].name == "reduce edge 1<-2"


def test_rows_that_encode_no_genotype_are_refused():
    row = S.parse(DARTS_V2)
    for column, value in ((0, 7), (1, 2), (3, 0), (31, 9)):  # op 7, node 0 <- 2, repeated input, input 9
        bad = row.copy()
        bad[column] = value
        with pytest.raises(ArchError, match="row 0 .* is not a valid DARTS genotype"):
            S.to_str(bad)
    with pytest.raises(ArchError, match="expected integer rows of 32"):
        check_rows(np.zeros((2, 5), dtype=np.int64))


def test_samples_are_valid_canonical_distinct_and_prefix_stable():
    a, b = S.sample(50, seed=4), S.sample(80, seed=4)
    assert np.array_equal(a, b[:50]) and not np.array_equal(a, S.sample(50, seed=5))
    assert np.array_equal(canonical_rows(a), a)
    assert len({S.canonical(r) for r in b}) == 80
    strata = S.strata(b)
    assert strata.min() >= 0 and strata.max() <= 16
    assert strata[0] == sum(S.to_str(b[0]).count(k) for k in ("sep_conv", "dil_conv"))


def test_sampler_is_uniform_per_node():
    rows = random_genotypes(np.random.default_rng(0), 20_000)
    pairs = rows.reshape(-1, 2, 4, 2, 2)
    node3 = pairs[:, :, 3, :, 1].reshape(-1, 2)  # node 3: 10 input pairs of 0..4, each 1/10
    codes = node3[:, 0] * 5 + node3[:, 1]
    counts = np.bincount(codes, minlength=25)[[i * 5 + j for i in range(5) for j in range(i + 1, 5)]]
    assert counts.sum() == len(node3) and abs(counts / len(node3) - 0.1).max() < 0.01
    ops = np.bincount(pairs[..., 0].ravel(), minlength=7) / pairs[..., 0].size
    assert abs(ops - 1 / 7).max() < 0.005
    assert (pairs[:, :, 0, :, 1] == [0, 1]).all()  # node 0 has only inputs 0 and 1
