"""torch.utils.data (Dataset, TensorDataset, DataLoader over a dataset), torch.save/load,
and the nn pieces a PyTorch program uses (Parameter, nn.init, the layers, the extra losses,
Module.to/apply/modules), checked against torch where installed, on both backends."""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pytest

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import gradcheck, nn
from tinygrad_mnist.tensor_files import SavedFileError
from tinygrad_mnist.utils.data import DataLoader, Dataset, TensorDataset, random_split

try:
    import torch
except ImportError:  # torch is a test oracle only
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# ---------------------------------------------------------------- utils.data
def test_tensor_dataset_loader_keeps_dtypes_and_sizes(backend_name):
    x = tg.arange(20, dtype=tg.float32).reshape(10, 2)
    y = tg.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][1].item() == 3 and ds[3][0].tolist() == [6.0, 7.0]
    loader = DataLoader(ds, batch_size=4, shuffle=True, drop_last=True, num_workers=2)
    assert loader.dataset is ds and len(loader) == 2
    seen = []
    for xb, yb in loader:
        assert xb.shape == (4, 2) and xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy() * 2.0)
        seen += yb.tolist()
    assert len(set(seen)) == 8
    assert [len(b[1]) for b in DataLoader(ds, batch_size=4)] == [4, 4, 2]
    assert len(DataLoader(ds)) == 10  # torch's default batch_size is 1
    assert [b[1].tolist() for b in DataLoader(ds, 5)] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_shuffling_follows_manual_seed_and_generator():
    ds = TensorDataset(tg.arange(50))

    def epoch(**kw):
        return [b[0].tolist() for b in DataLoader(ds, batch_size=50, shuffle=True, **kw)]

    tg.manual_seed(1)
    a = epoch()
    tg.manual_seed(1)
    assert epoch() == a and sorted(a[0]) == list(range(50)) and a[0] != list(range(50))
    g = tg.Generator().manual_seed(3)
    assert epoch(generator=g) == epoch(generator=tg.Generator().manual_seed(3))
    made_before = DataLoader(ds, batch_size=50, shuffle=True)  # then seeded: follows the seed
    tg.manual_seed(1)
    assert [b[0].tolist() for b in made_before] == a


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i, "w": 0.5, "name": str(i)}


def test_a_custom_dataset_is_collated_as_torch():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    b = batches[0]
    assert b["x"].dtype == np.float32 and b["x"].tolist() == [[0, 0], [1, 1]]
    assert b["y"].dtype == np.int64 and b["w"].dtype == np.float64 and b["name"] == ["0", "1"]
    custom = DataLoader(Squares(), batch_size=5, collate_fn=lambda s: len(s))
    assert list(custom) == [5]


@needs_torch
def test_collation_matches_torch():
    from torch.utils.data import DataLoader as TorchLoader

    ours = next(iter(DataLoader(Squares(), batch_size=3)))
    theirs = next(iter(TorchLoader(Squares(), batch_size=3)))
    for k in ("x", "y", "w"):
        assert str(ours[k].dtype) == str(theirs[k].dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours[k].numpy(), theirs[k].numpy())


def test_random_split_and_errors():
    parts = random_split(
        TensorDataset(tg.arange(10)), [7, 3], generator=tg.Generator().manual_seed(0)
    )
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(
        p[0].item() for part in parts for p in (part[i] for i in range(len(part)))
    ) == list(range(10))
    assert [len(p) for p in random_split(TensorDataset(tg.arange(10)), [0.5, 0.5])] == [5, 5]
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(tg.zeros(3), tg.zeros(4))
    with pytest.raises(TypeError, match="expected a Dataset"):
        DataLoader(5, batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(tg.zeros(3)), batch_size=0)


def test_the_course_loader_still_takes_arrays():
    x, y = np.zeros((10, 3)), np.arange(10)
    loader = DataLoader(x, y, 4, shuffle=True, seed=0)
    xb, yb = next(iter(loader))
    assert xb.dtype == np.float32 and yb.dtype == np.int64 and len(loader) == 3
    assert len(loader.dataset) == 10


# ---------------------------------------------------------------- save / load
def test_save_and_load_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    obj = {
        "model": model.state_dict(),
        "epoch": 3,
        "history": [0.5, float("nan"), math.inf],
        "labels": tg.tensor([1, 2]),
        "weights": tg.ones(2, requires_grad=True),
        "pair": (tg.zeros(1, dtype=tg.float64), None, "text", True),
    }
    tg.save(obj, tmp_path / "ckpt.pt")
    back = tg.load(tmp_path / "ckpt.pt", map_location="cpu", weights_only=True)
    assert list(back) == list(obj) and back["epoch"] == 3
    assert (
        back["history"][0] == 0.5
        and math.isnan(back["history"][1])
        and back["history"][2] == math.inf
    )
    assert back["labels"].dtype == np.int64 and back["labels"].tolist() == [1, 2]
    assert back["weights"].requires_grad and back["pair"][0].dtype == np.float64
    assert back["pair"][1:] == (None, "text", True) and isinstance(back["pair"], tuple)
    for k, v in obj["model"].items():
        np.testing.assert_array_equal(back["model"][k], v)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(back["model"])
    x = tg.randn(5, 3)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())
    buffer = io.BytesIO()
    tg.save(tg.arange(3), buffer)
    buffer.seek(0)
    assert tg.load(buffer).tolist() == [0, 1, 2]


def test_saved_files_hold_no_pickle(tmp_path):
    tg.save({"a": tg.ones(2)}, tmp_path / "f.pt")
    with zipfile.ZipFile(tmp_path / "f.pt") as z:
        for name in z.namelist():
            assert b"\x80\x04" not in z.read(name)[:2]  # no pickle protocol header
    np.load(tmp_path / "f.pt", allow_pickle=False)["__meta__"]


def test_save_load_errors(tmp_path):
    with pytest.raises(TypeError, match="state_dict"):
        tg.save(nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(SavedFileError, match="no such file"):
        tg.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(SavedFileError, match="junk.pt"):
        tg.load(tmp_path / "junk.pt")
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(SavedFileError, match="no header"):
        tg.load(tmp_path / "other.npz")


# ---------------------------------------------------------------- Parameter, init, Linear
def test_parameter_and_module_discovery():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(tg.randn(3, 2))
            self.frozen = nn.Parameter(tg.zeros(2), requires_grad=False)
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
            self.scale = tg.ones(1)  # a plain tensor: not a parameter

        def forward(self, x):
            h = x @ self.w
            for layer in self.layers:
                h = layer(h)
            return h

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "w",
        "frozen",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
    assert isinstance(net.w, tg.Tensor) and net.w.requires_grad and net.w.dtype == np.float32
    assert len(list(net.modules())) == 4 and len(list(net.children())) == 1
    assert net(tg.ones(4, 3)).shape == (4, 1)
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "ModuleList", "Net"]


def test_linear_default_init_is_torchs():
    tg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = layer.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-b, b) has std b / sqrt(3)
    assert np.abs(layer.bias.numpy()).max() <= bound
    tg.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.numpy(), w)  # manual_seed repeats
    he = nn.Linear(400, 300, init="kaiming", seed=0).weight.numpy()
    assert np.abs(he).max() > 2 * bound  # the course's He init, asked for by name


@pytest.mark.parametrize(
    "init, std",
    [
        (lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(3 * 200)),
        (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 200)),
        (lambda w: nn.init.kaiming_normal_(w, mode="fan_out"), math.sqrt(2 / (1 + 0.01**2) / 100)),
        (lambda w: nn.init.xavier_uniform_(w), math.sqrt(2 / 300)),
        (lambda w: nn.init.xavier_normal_(w, gain=2.0), 2 * math.sqrt(2 / 300)),
        (lambda w: nn.init.normal_(w, 0.0, 0.02), 0.02),
        (lambda w: nn.init.uniform_(w, -1, 1), 1 / math.sqrt(3)),
        (lambda w: nn.init.trunc_normal_(w, std=1.0), 0.88),
    ],
)  # fmt: skip
def test_torch_init_functions(init, std):
    w = nn.Parameter(tg.empty(100, 200))
    out = init(w)
    assert out is w and w.requires_grad
    assert abs(w.numpy().std() - std) < 0.03 * std


def test_constant_inits_and_gain():
    w = tg.empty(3, 3)
    assert nn.init.ones_(w).sum().item() == 9 and nn.init.zeros_(w).sum().item() == 0
    assert nn.init.constant_(w, 2.0).sum().item() == 18 and nn.init.eye_(w).sum().item() == 3
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("tanh") == 5 / 3


# ---------------------------------------------------------------- layers vs torch
def _copy_weights(ours, theirs):
    with torch.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.tensor(p.numpy()))


@needs_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda M: M.nn.Sequential(M.nn.Flatten(), M.nn.Linear(12, 5), M.nn.ReLU(), M.nn.Linear(5, 3)),
        lambda M: M.nn.Sequential(M.nn.Flatten(), M.nn.Linear(12, 4), M.nn.BatchNorm1d(4), M.nn.Tanh()),
        lambda M: M.nn.Sequential(M.nn.Flatten(0, 1), M.nn.LayerNorm(4), M.nn.Identity()),
        lambda M: M.nn.Sequential(M.nn.Flatten(), M.nn.Linear(12, 3), M.nn.LogSoftmax(dim=1)),
        lambda M: M.nn.Sequential(M.nn.Flatten(), M.nn.Linear(12, 3), M.nn.Softmax(dim=-1)),
        lambda M: M.nn.Sequential(M.nn.Flatten(), M.nn.Linear(12, 4), M.nn.Dropout(0.5), M.nn.Sigmoid()),
    ],
)  # fmt: skip
def test_layers_match_torch_forward_and_backward(make, backend_name):
    ours, theirs = make(tg), make(torch)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(0).normal(size=(6, 3, 4)).astype(np.float32)
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        has_dropout = any(isinstance(m, nn.Dropout) for m in ours.modules())
        if mode == "train" and has_dropout:
            continue  # different random masks
        xt, tt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xt), theirs(tt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        weights = np.random.default_rng(1).normal(size=yt.shape).astype(np.float32)
        (yo * tg.tensor(weights)).sum().backward()
        (yt * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(xt.grad.numpy(), tt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (n, b), (m, c) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert n == m
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_in_training_and_eval(backend_name):
    tg.manual_seed(0)
    d = nn.Dropout(0.25)
    x = tg.ones(100, 100, requires_grad=True)
    y = d(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02 and np.allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert d.eval()(x) is x
    with pytest.raises(ValueError, match="p must be"):
        nn.Dropout(1.5)


def test_embedding_gathers_rows_and_scatters_gradients(backend_name):
    emb = nn.Embedding(10, 3)
    idx = tg.tensor([[1, 2], [1, 9]])
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[1, 1].detach().numpy(), emb.weight[9].detach().numpy())
    out.sum().backward()
    assert emb.weight.grad[1].tolist() == [2.0] * 3 and emb.weight.grad[0].tolist() == [0.0] * 3
    with pytest.raises(TypeError, match="integers"):
        emb(tg.tensor([1.0]))


def test_lazy_linear_learns_its_input_size():
    layer = nn.LazyLinear(4)
    opt = tg.optim.SGD(layer.parameters(), lr=0.1)
    y = layer(tg.randn(2, 7))
    assert y.shape == (2, 4) and layer.weight.shape == (4, 7) and layer.in_features == 7
    y.sum().backward()
    before = layer.weight.numpy().copy()
    opt.step()
    assert not np.array_equal(before, layer.weight.numpy())


@needs_torch
@pytest.mark.parametrize(
    "loss",
    [
        lambda M, a, b: M.nn.functional.l1_loss(a, b),
        lambda M, a, b: M.nn.functional.smooth_l1_loss(a, b),
        lambda M, a, b: M.nn.functional.smooth_l1_loss(a, b, beta=0.3, reduction="sum"),
        lambda M, a, b: M.nn.functional.huber_loss(a, b, delta=0.5),
        lambda M, a, b: M.nn.L1Loss(reduction="none")(a, b),
        lambda M, a, b: M.nn.SmoothL1Loss(beta=2.0)(a, b),
        lambda M, a, b: M.nn.HuberLoss(delta=2.0)(a, b),
    ],
)  # fmt: skip
def test_regression_losses_match_torch(loss, backend_name):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)) * 2, rng.normal(size=(5, 3))
    ta = torch.tensor(a, requires_grad=True)
    want = loss(torch, ta, torch.tensor(b))
    oa = tg.tensor(a, requires_grad=True)
    got = loss(tg, oa, tg.tensor(b))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(oa.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    gradcheck(lambda x: loss(tg, x, tg.tensor(b)), [a])


def test_one_hot_and_grad_modes():
    assert F.one_hot(tg.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            assert tg.is_grad_enabled()
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    with tg.inference_mode():
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_module_to_dtype_and_load_result():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    result = model.load_state_dict(model.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    partial = {k: v for k, v in model.state_dict().items() if k.startswith("0.")}
    assert model.load_state_dict(partial, strict=False).missing_keys[0].startswith("1.")
    with pytest.raises(ValueError, match="missing"):
        model.load_state_dict(partial)
