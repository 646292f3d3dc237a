"""Differentiable search on the NB201 cell (DARTS first order, BNAS-v2's CLR and PC+EN) and the dartsalpha indicator."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bnbench.cli import main
from bnbench.errors import BnbenchError
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.search.differentiable import DifferentiableConfig, checkpoint, search
from bnbench.spaces import get_space
from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.relaxed import RelaxedCell, RelaxedSupernet
from bnbench.spaces.relaxation import channel_shuffle

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = dict(epochs=2, channels=4, cells=1, batch_size=32, train_fraction=0.5)


@pytest.fixture(scope="module")
def digits():
    from bnbench.datasets import load_dataset

    return load_dataset("digits", None)


def test_a_one_hot_relaxed_cell_computes_the_chosen_cell():
    torch.manual_seed(0)
    cell = RelaxedCell(4).eval()
    arch = A.parse("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|")
    onehot = torch.zeros(6, 5)
    onehot[torch.arange(6), torch.as_tensor(arch)] = 1.0
    x = torch.randn(2, 4, 6, 6)
    nodes, e = [x], 0
    for j in range(1, 4):
        total = 0
        for i in range(j):
            op = A.OPS[arch[e]]
            total = total + (torch.zeros_like(x) if op == "none" else cell.edges[e][arch[e]](nodes[i]))
            e += 1
        nodes.append(total)
    torch.testing.assert_close(cell(x, onehot, None), nodes[-1])


def test_channel_shuffle_is_a_permutation_of_channels():
    x = torch.arange(8.0).reshape(1, 8, 1, 1)
    assert channel_shuffle(x, 4).flatten().tolist() == [0, 2, 4, 6, 1, 3, 5, 7]


def test_edge_weights_are_a_softmax_per_destination_node():
    net = RelaxedSupernet(4, 1, edge_norm=True)
    with torch.no_grad():
        net.beta.copy_(torch.tensor([0.0, 1.0, 2.0, 0.0, 0.0, 0.0]))
    w = net.edge_weights().detach()
    assert float(w[0]) == pytest.approx(1.0)
    assert float(w[1] + w[2]) == pytest.approx(1.0) and float(w[3:].sum()) == pytest.approx(1.0)
    assert RelaxedSupernet(4, 1).edge_weights() is None
    with pytest.raises(BnbenchError, match="divisor"):
        RelaxedSupernet(6, 1, partial=4)


def test_confident_learning_rate_schedule():
    cfg = DifferentiableConfig(epochs=4, clr=True)
    assert [cfg.confidence(t) for t in range(4)] == [1 / 16, 4 / 16, 9 / 16, 1.0]
    assert DifferentiableConfig(epochs=4).confidence(0) == 1.0


def test_search_learns_reproducibly_and_records_collapse_measures(digits):
    first = search(digits, DifferentiableConfig(**TINY, clr=True))
    again = search(digits, DifferentiableConfig(**TINY, clr=True))
    np.testing.assert_array_equal(first.alpha(), again.alpha())
    record = first.history[-1]
    assert set(record) >= {"derived", "parameter_free", "entropy", "alpha", "confidence", "weight_loss"}
    assert 0 <= record["parameter_free"] <= 1 and record["confidence"] == 1.0
    assert first.history[0]["confidence"] == 0.25
    torch.manual_seed(0)
    initial = RelaxedSupernet(4, 1, 10, 1).alpha.detach().numpy()  # the search's initialisation (seed 0)
    assert np.abs(first.alpha() - initial).max() > 1e-4  # Adam moved alpha
    pc = search(digits, DifferentiableConfig(**TINY, partial=2, edge_norm=True))
    assert pc.model.beta is not None and pc.history[-1]["derived"]


def test_bn_only_search_trains_only_bn_the_classifier_and_alpha(digits):
    torch.manual_seed(0)
    result = search(digits, DifferentiableConfig(**TINY, train_mode="bn"))
    torch.manual_seed(0)
    fresh = RelaxedSupernet(4, 1, 10, 1, affine=True)
    convs = [(n, p) for n, p in result.model.named_parameters() if "weight" in n and p.dim() == 4]
    initial = dict(fresh.named_parameters())
    assert convs and all(torch.equal(p.detach().contiguous(), initial[n].detach()) for n, p in convs)


def test_dartsalpha_ranks_the_derived_cell_first(digits, tmp_path):
    result = search(digits, DifferentiableConfig(**TINY))
    path = tmp_path / "search.json"
    path.write_text(json.dumps(checkpoint(result)))
    space = get_space("nb201")
    ctx = ScoringContext(space=space, network=NetSpec(), progress=False, options={"search_checkpoint": str(path)})
    scores = get("dartsalpha")(space.all_archs(), ctx)
    assert A.to_str(space.all_archs()[int(np.argmax(scores))]) == A.to_str(result.derived)
    alpha = result.alpha()
    log_p = alpha - np.log(np.exp(alpha).sum(axis=1, keepdims=True))
    cell = space.all_archs()[123]
    assert scores[123] == pytest.approx(log_p[np.arange(6), cell].sum())


def test_dartsalpha_bad_checkpoints_are_one_line_errors(tmp_path):
    ctx = ScoringContext(space=get_space("nb201"), progress=False)
    archs = get_space("nb201").sample(3, 0)
    with pytest.raises(BnbenchError, match="needs a differentiable-search checkpoint"):
        get("dartsalpha")(archs, ctx)
    junk = tmp_path / "junk.json"
    junk.write_text("{\"alpha\": 1}")
    with pytest.raises(BnbenchError, match="not a `bnbench search darts` checkpoint"):
        get("dartsalpha")(archs, ScoringContext(space=ctx.space, options={"search_checkpoint": str(junk)}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"kind": "bnbench differentiable search", "space": "darts", "alpha": []}))
    with pytest.raises(BnbenchError, match="a search of darts"):
        get("dartsalpha")(archs, ScoringContext(space=ctx.space, options={"search_checkpoint": str(other)}))


def test_search_darts_command(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["search", "darts", "--epochs", "1", "--channels", "4", "--cells", "1", "--clr",
                 "--no-progress", "--out", str(out)]) == 0
    doc = json.loads((out / "search.json").read_text())
    assert doc["space"] == "nb201" and len(doc["history"]) == 1 and "versions" in doc
    assert main(["search", "darts", "--space", "nb101", "--out", str(out)]) == 2
    assert "differentiable search runs on nb201" in capsys.readouterr().err


def test_darts_relaxation_derives_the_genotype_its_alpha_favours():
    from bnbench.spaces.darts.relaxed import RelaxedDartsSupernet
    from bnbench.spaces.darts.encoding import edge_index

    space = get_space("darts")
    row = space.sample(1, 3)[0]  # canonical: each node's pairs in input order
    net = RelaxedDartsSupernet(4, 3, edge_norm=True)
    pairs = row.reshape(2, 8, 2)
    with torch.no_grad():
        net.alpha.zero_()
        net.alpha[:, :, -1] = 10.0  # `none` strongest everywhere: never derived
        for t in range(2):
            for p, (op, src) in enumerate(pairs[t]):
                net.alpha[t, edge_index(p // 2, src), op] = 5.0
    np.testing.assert_array_equal(net.derive(), row)
    assert net.parameter_free(row) == pytest.approx(
        np.isin(pairs[..., 0], [0, 1, 2]).mean())  # max/avg pool, skip
    out = RelaxedDartsSupernet(8, 3, partial=4, edge_norm=True)(torch.randn(2, 3, 16, 16))
    assert out.shape == (2, 10)


def test_darts_search_and_dartsalpha_on_the_darts_space(digits, tmp_path):
    result = search(digits, DifferentiableConfig(epochs=1, channels=4, cells=3, batch_size=32, train_fraction=0.3),
                    space="darts")
    space = get_space("darts")
    assert space.parse(space.to_str(result.derived)).shape == (32,)
    path = tmp_path / "search.json"
    path.write_text(json.dumps(checkpoint(result)))
    ctx = ScoringContext(space=space, progress=False, options={"search_checkpoint": str(path)})
    archs = np.concatenate([result.derived[None], space.sample(20, 0)])
    scores = get("dartsalpha")(archs, ctx)
    assert np.isfinite(scores).all()


def test_an_interrupted_search_resumes_to_the_uninterrupted_alpha(digits, tmp_path):
    cfg = DifferentiableConfig(**{**TINY, "epochs": 3}, clr=True, partial=2, edge_norm=True)
    whole = search(digits, cfg)
    state = tmp_path / "search.state.pt"
    lines: list[str] = []
    part = search(digits, cfg, state_path=state, stop_after=1)  # as a run killed after its first epoch
    assert len(part.history) == 1 and state.exists()
    resumed = search(digits, cfg, progress=lines.append, state_path=state)
    assert any("resumed from" in line and "after epoch 1/3" in line for line in lines)
    np.testing.assert_array_equal(resumed.alpha(), whole.alpha())
    np.testing.assert_array_equal(resumed.model.beta.detach().numpy(), whole.model.beta.detach().numpy())
    assert [h["derived"] for h in resumed.history] == [h["derived"] for h in whole.history]
    again = search(digits, cfg, state_path=state)  # a finished state: nothing left to train
    np.testing.assert_array_equal(again.alpha(), whole.alpha())


def test_a_foreign_or_corrupt_search_state_is_a_one_line_error(digits, tmp_path):
    state = tmp_path / "search.state.pt"
    search(digits, DifferentiableConfig(**TINY), state_path=state, stop_after=1)
    with pytest.raises(BnbenchError, match=r"different config \{'clr': \(False, True\)\}"):
        search(digits, DifferentiableConfig(**TINY, clr=True), state_path=state)
    with pytest.raises(BnbenchError, match="is of space 'nb201', not 'darts'"):
        search(digits, DifferentiableConfig(**TINY), state_path=state, space="darts")
    state.write_bytes(b"not a state")
    with pytest.raises(BnbenchError, match="search.state.pt is unreadable"):
        search(digits, DifferentiableConfig(**TINY), state_path=state)


def test_search_darts_command_resumes(tmp_path, capsys):
    out = tmp_path / "d"
    argv = ["search", "darts", "--epochs", "2", "--channels", "4", "--cells", "1", "--out", str(out)]
    assert main(argv) == 0
    first = json.loads((out / "search.json").read_text())
    assert (out / "search.state.pt").exists()
    capsys.readouterr()
    assert main(argv) == 0  # the finished state: the same result, no epoch trained again
    captured = capsys.readouterr()
    assert "resumed from" in captured.err + captured.out
    assert json.loads((out / "search.json").read_text())["alpha"] == first["alpha"]


def test_second_order_arch_gradient_matches_the_exact_hypergradient():
    """DARTS eq. 7-8 against autograd's exact Hessian-vector product, in float64 with a finite-difference step short
    enough not to cross the ReLUs' kinks (DARTS's 0.01 does: its product is a smoothed one)."""
    from bnbench.search.differentiable import unrolled_arch_grad

    torch.manual_seed(0)
    model = RelaxedSupernet(4, 1, 10, 1, affine=True).double().train()
    weights = model.weight_parameters()
    w_opt = torch.optim.SGD(weights, lr=0.05, momentum=0.9, nesterov=True, weight_decay=3e-4)
    x = torch.randn(16, 1, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 10, (16,))
    xa, ya = torch.randn(16, 1, 8, 8, dtype=torch.float64), torch.randint(0, 10, (16,))
    F = torch.nn.functional
    F.cross_entropy(model(x), y).backward()
    w_opt.step()  # momentum buffers exist, as after the first step of a search
    w_opt.zero_grad(set_to_none=True)
    unrolled_arch_grad(model, w_opt, (x, y), (xa, ya), radius=1e-7)
    approx = model.alpha.grad.clone()
    # exact: d/dalpha L_val(w - xi * step(alpha), alpha) with the step as a differentiable function of alpha
    from torch.func import functional_call

    names = {id(p): n for n, p in model.named_parameters()}
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), weights, create_graph=True)
    unrolled = {}
    for w, g in zip(weights, grads):
        d = g + 3e-4 * w
        buf = 0.9 * w_opt.state[w]["momentum_buffer"] + d
        unrolled[names[id(w)]] = w - 0.05 * (d + 0.9 * buf)
    val = F.cross_entropy(functional_call(model, unrolled, (xa,)), ya)
    (exact,) = torch.autograd.grad(val, model.alpha)
    first = torch.autograd.grad(F.cross_entropy(functional_call(model, {k: v.detach() for k, v in unrolled.items()},
                                                                (xa,)), ya), model.alpha)[0]
    assert (exact - first).abs().max() > 1e-6  # the second-order term is not negligible here
    np.testing.assert_allclose(approx.numpy(), exact.detach().numpy(), rtol=1e-3, atol=1e-6)


def test_second_order_search_runs_and_differs_from_first_order(digits):
    first = search(digits, DifferentiableConfig(**TINY))
    second = search(digits, DifferentiableConfig(**TINY, order=2))
    again = search(digits, DifferentiableConfig(**TINY, order=2))
    np.testing.assert_array_equal(second.alpha(), again.alpha())
    assert np.abs(second.alpha() - first.alpha()).max() > 1e-6
    with pytest.raises(BnbenchError, match="--order 3"):
        DifferentiableConfig(order=3)
