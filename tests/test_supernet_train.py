import numpy as np
import pytest
import torch

from bnbench.spaces import get_space
from bnbench.datasets import load_dataset
from bnbench.errors import BnbenchError
from bnbench.indicators import ScoringContext, get
from bnbench.spaces.nb201 import arch as A
from bnbench.train.config import TrainConfig
from bnbench.train.params import op_last_bns
from bnbench.train.supernet import load_supernet, train_supernet


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train_fraction=0.3, seed=0)


def tiny(**kw) -> TrainConfig:
    base = dict(dataset="digits", channels=4, cells=1, epochs=3, batch_size=32, train_fraction=0.3, seed=1)
    base.update(kw)
    return TrainConfig(**base)


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_bn_only_training_freezes_everything_but_op_bn_affine(digits):
    cfg = tiny(bn_scope="last")
    torch.manual_seed(cfg.seed)
    from bnbench.train.supernet import build_supernet

    before = snapshot(build_supernet(cfg, digits))
    after = snapshot(train_supernet(cfg, digits, progress=False).model)
    trainable = set()
    model = build_supernet(cfg, digits)
    names = {id(p): n for n, p in model.named_parameters()}
    for bn in op_last_bns(model):
        trainable |= {names[id(bn.weight)], names[id(bn.bias)]}
    moved = {k for k in before if "running" not in k and "num_batches" not in k and not torch.equal(before[k], after[k])}
    assert moved and moved <= trainable
    assert any("weight" in k for k in moved)


@pytest.mark.parametrize("scope", ["all+classifier", "last+classifier", "all"])
def test_bn_scopes_train_what_they_name(digits, scope):
    from bnbench.train.supernet import build_supernet

    cfg = tiny(bn_scope=scope, epochs=1)
    before = snapshot(build_supernet(cfg, digits))
    after = snapshot(train_supernet(cfg, digits, progress=False).model)
    moved = {k for k in before if "running" not in k and "num_batches" not in k and not torch.equal(before[k], after[k])}
    assert ("classifier.weight" in moved) == scope.endswith("+classifier")
    assert ("lastact.0.weight" in moved) == scope.startswith("all")  # the head BN lies outside every op slot
    model = build_supernet(cfg, digits)
    convs = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}
    assert convs and not moved & convs  # convolutions stay frozen
    assert TrainConfig().bn_scope == "all+classifier"  # the default (a documented deviation from BN-NAS)


def test_epoch_zero_is_the_initialised_supernet(digits, tmp_path):
    from bnbench.train.supernet import build_supernet, load_supernet

    cfg = tiny(epochs=0)
    result = train_supernet(cfg, digits, tmp_path, progress=False)
    assert result.history == [] and result.train_seconds == 0.0
    init = snapshot(build_supernet(cfg, digits))
    assert all(torch.equal(init[k], v) for k, v in snapshot(result.model).items())
    loaded = load_supernet(tmp_path / "supernet.pt", digits)  # kept as a checkpoint for reuse
    assert loaded.resumed_from == 0 and loaded.config.epochs == 0
    with pytest.raises(BnbenchError, match="epochs -1"):
        tiny(epochs=-1)


def test_full_training_moves_convolutions(digits):
    cfg = tiny(train_mode="full", epochs=1)
    from bnbench.train.supernet import build_supernet

    before = snapshot(build_supernet(cfg, digits))
    after = snapshot(train_supernet(cfg, digits, progress=False).model)
    assert not torch.equal(before["stem.0.weight"], after["stem.0.weight"])
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])


def unsampled_ops(cfg: TrainConfig, n_train: int) -> list[tuple[int, int]]:
    from bnbench.train.supernet import epoch_generators

    sampled = set()
    for epoch in range(cfg.epochs):
        rng, _ = epoch_generators(cfg.seed, epoch, torch.device("cpu"))
        for code in rng.integers(0, A.NUM_ARCHS, size=n_train // cfg.batch_size):
            sampled |= set(enumerate(A.decode(int(code))))
    return [(e, o) for e in range(6) for o in (2, 3) if (e, o) not in sampled]  # the ops with weights


def test_ops_off_the_path_do_not_drift(digits):
    """With momentum and weight decay, an op that is never sampled must keep its initial weights."""
    from bnbench.train.supernet import build_supernet

    cfg = next(c for c in (tiny(train_mode="full", epochs=2, batch_size=64, weight_decay=0.1, seed=s) for s in range(100))
               if unsampled_ops(c, len(digits.train)))
    before = snapshot(build_supernet(cfg, digits))
    after = snapshot(train_supernet(cfg, digits, progress=False).model)
    checked = 0
    for e, o in unsampled_ops(cfg, len(digits.train)):
        for k in before:
            if f"edges.{e}.{o}." in k:
                assert torch.equal(before[k], after[k]), k
                checked += 1
    assert checked > 0
    moved = [k for k in before if ".edges." in k and not torch.equal(before[k], after[k])]
    assert moved  # sampled ops did train


def test_resume_gives_identical_weights(digits, tmp_path):
    cfg = tiny(epochs=3)
    full = train_supernet(cfg, digits, tmp_path / "a", progress=False)
    train_supernet(cfg, digits, tmp_path / "b", progress=False, stop_after=1)  # "interrupted" after epoch 1
    resumed = train_supernet(cfg, digits, tmp_path / "b", progress=False)
    assert resumed.resumed_from == 1
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    loaded = load_supernet(tmp_path / "b" / "supernet.pt", digits)
    assert torch.equal(loaded.model.classifier.weight, full.model.classifier.weight)


def test_resume_with_other_config_is_refused(digits, tmp_path):
    train_supernet(tiny(epochs=1), digits, tmp_path, progress=False)
    with pytest.raises(BnbenchError, match="different config"):
        train_supernet(tiny(epochs=1, lr=0.5), digits, tmp_path, progress=False)


def test_corrupt_checkpoint_is_a_clear_error(digits, tmp_path):
    bad = tmp_path / "supernet.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(BnbenchError, match=str(bad)):
        load_supernet(bad, digits)


def test_supernet_acc_is_finite_and_leaves_bn_buffers_untouched(digits):
    result = train_supernet(tiny(epochs=2, train_mode="full"), digits, progress=False)
    before = snapshot(result.model)
    ctx = ScoringContext(space=get_space("nb201"), dataset=digits, supernet=result, options={"calib_batches": 2, "val_images": 200},
                         progress=False)
    archs = A.ops_matrix([A.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"),
                          A.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")])
    acc = get("supernet_acc")(archs, ctx)
    assert np.all((acc >= 0) & (acc <= 100))
    assert acc[1] < 30  # an all-none cell predicts a constant class
    after = snapshot(result.model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_supernet_acc_recalibrates_only_the_path_bns_with_the_same_result(digits):
    """Recalibrating the few BNs a subnet runs gives the accuracy of recalibrating every BN of the supernet."""
    from bnbench.datasets import BatchAugmenter
    from bnbench.indicators.supernet_acc import batched, fixed_images
    from bnbench.train.loop import accuracy, recalibrate_bn

    result = train_supernet(tiny(epochs=1, train_mode="full"), digits, progress=False)
    model, cfg = result.model, result.config
    ctx = ScoringContext(space=get_space("nb201"), dataset=digits, supernet=result, seed=3,
                         options={"calib_batches": 2, "val_images": 150}, progress=False)
    archs = get_space("nb201").sample(4, 0)
    fast = get("supernet_acc")(archs, ctx)
    aug = BatchAugmenter(digits.mean, digits.std, digits.augment, cfg.resolution)
    calib = fixed_images(digits.train, 2 * cfg.batch_size, aug, 3)[0]
    val = batched(*fixed_images(digits.eval, 150, aug, 4), 256)
    saved = snapshot(model)
    slow = []
    for row in archs:
        forward = lambda x, a=tuple(int(o) for o in row): model(x, a)  # noqa: E731
        recalibrate_bn(model, forward, [calib[:cfg.batch_size], calib[cfg.batch_size:]])
        model.eval()
        slow.append(accuracy(forward, val))
    model.load_state_dict(saved)
    np.testing.assert_allclose(fast, slow, atol=1e-9)


def test_label_smoothing_and_grad_clip_are_recorded_only_when_set():
    plain = tiny()
    assert "label_smoothing" not in plain.to_dict() and "grad_clip" not in plain.to_dict()  # old keys stay valid
    bnnas = tiny(label_smoothing=0.1, grad_clip=5.0)
    assert bnnas.to_dict()["label_smoothing"] == 0.1 and bnnas.to_dict()["grad_clip"] == 5.0
    assert TrainConfig.from_dict(bnnas.to_dict()) == bnnas and TrainConfig.from_dict(plain.to_dict()) == plain
    for bad in ({"label_smoothing": 1.0}, {"label_smoothing": -0.1}, {"grad_clip": 0.0}):
        with pytest.raises(BnbenchError, match=next(iter(bad))):
            tiny(**bad)


def test_grad_clip_bounds_the_update_and_label_smoothing_changes_the_loss():
    from bnbench.train import loop

    torch.manual_seed(0)
    x, y = torch.randn(16, 5) * 10, torch.randint(0, 3, (16,))

    def step(**kw):
        torch.manual_seed(1)
        net = torch.nn.Linear(5, 3)
        w0 = net.weight.detach().clone()
        opt = loop.sgd(list(net.parameters()), 1.0, 0.0, 0.0)
        loss = loop.train_step(net, opt, x, y, **kw)
        return loss, float((net.weight.detach() - w0).norm())

    loss, move = step()
    loss_ls, _ = step(label_smoothing=0.2)
    _, move_clip = step(grad_clip=0.01)
    assert move > 0.01 and move_clip <= 0.01 + 1e-6
    target = torch.full((16, 3), 0.2 / 3).scatter_(1, y[:, None], 1 - 0.2 + 0.2 / 3)
    torch.manual_seed(1)
    logits = torch.nn.Linear(5, 3)(x)
    assert loss_ls == pytest.approx(float(-(target * logits.log_softmax(1)).sum(1).mean()), rel=1e-5)
    assert loss_ls != pytest.approx(loss)
