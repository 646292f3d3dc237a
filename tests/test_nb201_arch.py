import numpy as np
import pandas as pd
import pytest

from bnbench.errors import ArchError
from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.sampling import strata, stratified_sample

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_parse_and_print_round_trip():
    ops = A.parse(BEST)
    assert ops == (3, 3, 4, 1, 3, 1)
    assert A.to_str(ops) == BEST


def test_enumeration_is_complete_and_codes_invert():
    archs = A.all_archs()
    assert len(archs) == 15625 == len(set(archs))
    assert all(A.decode(A.encode(a)) == a for a in archs[::97])


@pytest.mark.parametrize("bad, fragment", [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "expected 3 nodes"),
    ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_5x5'"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "should read from node 0"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 inputs"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "enclosed"),
    ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "malformed edge"),
])
def test_malformed_strings_raise_clear_errors(bad, fragment):
    with pytest.raises(ArchError, match=fragment) as err:
        A.parse(bad)
    assert bad in str(err.value) and "\n" not in str(err.value)


def test_canonical_identifies_simple_isomorphisms():
    a = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    b = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"  # node 1 never reaches the output
    assert A.canonical(a) == A.canonical(b)
    assert A.canonical(BEST) != A.canonical(a)


def test_canonical_matches_nats_unique_string(shared_data):
    df = pd.read_csv(shared_data / "nb201" / "nats-tss-test-200ep.csv")
    mine = [A.canonical(s) for s in df["ArchitectureString"]]
    assert len(set(mine)) == 6466
    assert mine == list(df["UniqueString"])


def test_stratified_sample_is_proportional_and_seeded():
    pool = A.ops_matrix(A.all_archs())
    idx = stratified_sample(pool, 1000, seed=3)
    assert len(idx) == len(set(idx)) == 1000
    np.testing.assert_array_equal(idx, stratified_sample(pool, 1000, seed=3))
    assert not np.array_equal(idx, stratified_sample(pool, 1000, seed=4))
    keys, counts = np.unique(strata(pool), return_counts=True)
    sample_counts = {k: c for k, c in zip(*np.unique(strata(pool[idx]), return_counts=True))}
    for k, c in zip(keys, counts):
        assert abs(sample_counts.get(k, 0) - c * 1000 / 15625) < 1.0
