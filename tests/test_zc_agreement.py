"""benchmarks/zc_agreement.py: NAS-Bench-Suite-Zero's keys read as the cells NASLib scored (fast, no data needed).

Known values: the keys and published ``params`` of NASLib's zc_nasbench301.json / zc_nasbench101.json (automl/NASLib
commit 22280f71). A wrong op order or input convention gives other networks, hence other parameter counts."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bnbench.spaces import get_space

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "zc_agreement.py"
spec = importlib.util.spec_from_file_location("zc_agreement", SCRIPT)
Z = importlib.util.module_from_spec(spec)
spec.loader.exec_module(Z)

NB301_KEY = ("[[(0, 4), (1, 3), (0, 2), (2, 3), (2, 3), (0, 3), (2, 6), (3, 5)], "
             "[(0, 3), (1, 3), (1, 1), (0, 5), (2, 3), (0, 2), (4, 4), (3, 1)]]")  # published params 1.204906
NB101_KEY = ("(0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, "
             "1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 4, 4, 4, 1)")  # published params 4.095778


def test_nb301_key_is_the_published_network(one_thread):
    text = Z.key_to_arch("darts", NB301_KEY)
    assert text.startswith("Genotype(normal=[('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('skip_connect', 0)")
    from bnbench.spaces.darts.cost import cost

    assert cost(get_space("darts").parse_many([text]), variant="zc")["params"].tolist() == [1_204_906]


def test_nb101_key_is_the_published_network():
    space = get_space("nb101")
    text = Z.key_to_arch("nb101", NB101_KEY)
    assert json.loads(text)["ops"] == ["input", "maxpool3x3", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu",
                                       "conv3x3-bn-relu", "output"]
    assert space.cost(space.parse_many([text]), space.options({}))["params"].tolist() == [4_095_778]
    with pytest.raises(ValueError):
        Z.key_to_arch("nb101", "(0, 1, 1)")


def test_synflow_log_and_agreement_conventions():
    assert Z.published_log(math.e ** 3) == pytest.approx(3.0)
    assert Z.published_log(-math.e) == pytest.approx(-1.0) and Z.published_log(0.0) == 0.0
    n, rho, tau, ratio = Z.agreement(np.array([1.0, 2.0, np.nan, 4.0]), np.array([2.0, 4.0, 5.0, 8.0]))
    assert (n, rho, tau, ratio) == (3, pytest.approx(1.0), pytest.approx(1.0), 0.5)
