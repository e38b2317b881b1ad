"""Model files and checkpoints: exact round trips, one clear error per kind of bad file,
and atomic writes."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

from tinygrad_mnist import Tensor, no_grad
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.optim import SGD, Adam
from tinygrad_mnist.serialization import (
    META_KEY,
    ModelFileError,
    load_checkpoint,
    load_model,
    read_checkpoint_extra,
    save_checkpoint,
    save_model,
)


def small_model(seed: int = 0, activation: str = "tanh") -> MLP:
    return MLP([6, 5, 3], activation=activation, seed=seed)


def predictions(model: MLP, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return model(Tensor(x)).data


def write_npz(path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def npz_arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def header_of(arrays: dict[str, np.ndarray]) -> dict:
    return json.loads(str(arrays[META_KEY]))


def with_header(arrays: dict[str, np.ndarray], **changes) -> dict[str, np.ndarray]:
    header = {**header_of(arrays), **changes}
    return {**arrays, META_KEY: np.array(json.dumps(header))}


@pytest.fixture
def saved(tmp_path):
    """A valid model file, its model, and its arrays (to corrupt in tests)."""
    path = tmp_path / "model.npz"
    model = small_model(seed=1)
    save_model(path, model, {"test_acc": 0.5, "note": "hi"})
    return path, model, npz_arrays(path)


# ----------------------------------------------------------------------- round trips
def test_round_trip_gives_identical_predictions_and_meta(saved):
    path, model, _ = saved
    loaded, meta = load_model(path)
    assert meta == {"test_acc": 0.5, "note": "hi"}
    assert loaded.sizes == [6, 5, 3] and loaded.activation == "tanh"
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(predictions(loaded, x), predictions(model, x))
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), loaded.named_parameters()):
        assert n1 == n2 and p1.dtype == p2.dtype
        np.testing.assert_array_equal(p1.data, p2.data)


def test_file_holds_parameters_by_name_and_json_header(saved):
    _, model, arrays = saved
    assert set(arrays) == {META_KEY, "0.weight", "0.bias", "2.weight", "2.bias"}
    assert arrays[META_KEY].ndim == 0 and arrays[META_KEY].dtype.kind == "U"
    header = header_of(arrays)
    assert header["format"] == "tinygrad-mnist-model" and header["version"] == 1
    assert header["sizes"] == [6, 5, 3] and header["activation"] == "tanh"
    assert header["dtype"] == "float32"


def test_float64_model_round_trips(tmp_path):
    model = MLP([4, 3], dtype=np.float64, seed=2)
    save_model(tmp_path / "m.npz", model)
    loaded, meta = load_model(tmp_path / "m.npz")
    assert meta == {} and loaded.parameters()[0].dtype == np.float64
    np.testing.assert_array_equal(loaded.parameters()[0].data, model.parameters()[0].data)


# ----------------------------------------------------------------------- bad model files
def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match=r"nope\.npz: no such file"):
        load_model(tmp_path / "nope.npz")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ModelFileError, match="not a file"):
        load_model(tmp_path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(saved, keep):
    path, _, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match=r"model\.npz: cannot read it as an \.npz"):
        load_model(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("this is not a model\n")
    with pytest.raises(ModelFileError, match="does not start like a zip archive"):
        load_model(path)


def test_npy_file_is_not_a_model(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ModelFileError, match="not an .npz file"):
        load_model(path)


def test_foreign_npz_without_metadata(tmp_path):
    path = tmp_path / "foreign.npz"
    write_npz(path, {"W1": np.zeros((3, 2)), "b1": np.zeros(2)})
    with pytest.raises(ModelFileError, match=r"no '__meta__' metadata"):
        load_model(path)


def test_foreign_zip(tmp_path):
    import zipfile

    path = tmp_path / "archive.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match=r"no '__meta__' metadata"):
        load_model(path)


@pytest.mark.parametrize(
    ("meta_value", "problem"),
    [
        (np.array("{not json"), "invalid '__meta__' metadata"),
        (np.array("[1, 2]"), "not a JSON object"),
        (np.array([1.0, 2.0]), "not a string"),
    ],
)
def test_invalid_metadata(saved, meta_value, problem):
    path, _, arrays = saved
    write_npz(path, {**arrays, META_KEY: meta_value})
    with pytest.raises(ModelFileError, match=problem):
        load_model(path)


def test_wrong_format_name(saved):
    path, _, arrays = saved
    write_npz(path, with_header(arrays, format="something-else"))
    with pytest.raises(ModelFileError, match="format is 'something-else'"):
        load_model(path)


def test_wrong_version(saved):
    path, _, arrays = saved
    write_npz(path, with_header(arrays, version=2))
    with pytest.raises(ModelFileError, match="version 2 is not supported"):
        load_model(path)


def test_checkpoint_given_as_model_says_so(tmp_path):
    model = small_model()
    save_checkpoint(tmp_path / "c.npz", model, SGD(model.parameters(), lr=0.1), {})
    with pytest.raises(ModelFileError, match="training checkpoint"):
        load_model(tmp_path / "c.npz")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"sizes": [6]}, "'sizes' must be a list"),
        ({"sizes": [6, 0, 3]}, "'sizes' must be a list"),
        ({"activation": "swish"}, "'activation' 'swish'"),
        ({"dtype": "int8"}, "'dtype' 'int8'"),
        ({"sizes": [6, 100000, 100000, 3]}, "metadata is corrupt"),
    ],
)
def test_bad_architecture_in_metadata(saved, changes, problem):
    path, _, arrays = saved
    write_npz(path, with_header(arrays, **changes))
    with pytest.raises(ModelFileError, match=problem):
        load_model(path)


def test_missing_parameter_is_named(saved):
    path, _, arrays = saved
    del arrays["2.bias"]
    write_npz(path, arrays)
    with pytest.raises(ModelFileError, match=r"parameter '2\.bias' is missing"):
        load_model(path)


def test_extra_array_is_named(saved):
    path, _, arrays = saved
    write_npz(path, {**arrays, "4.weight": np.zeros((2, 3), np.float32)})
    with pytest.raises(ModelFileError, match=r"unexpected arrays '4\.weight'"):
        load_model(path)


def test_wrong_shape_is_named(saved):
    path, _, arrays = saved
    arrays["0.weight"] = np.zeros((6, 5), np.float32)  # transposed
    write_npz(path, arrays)
    with pytest.raises(
        ModelFileError, match=r"'0\.weight' has shape \(6, 5\), the model needs \(5, 6\)"
    ):
        load_model(path)


def test_wrong_dtype_is_named(saved):
    path, _, arrays = saved
    arrays["0.bias"] = arrays["0.bias"].astype(np.float64)
    write_npz(path, arrays)
    with pytest.raises(
        ModelFileError, match=r"'0\.bias' has dtype float64, the model needs float32"
    ):
        load_model(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_named(saved, bad):
    path, _, arrays = saved
    arrays["2.weight"][1, 2] = bad
    write_npz(path, arrays)
    with pytest.raises(ModelFileError, match=r"'2\.weight' holds 1 NaN/Inf values"):
        load_model(path)


def test_error_is_a_value_error_naming_the_file(tmp_path):
    assert issubclass(ModelFileError, ValueError)
    with pytest.raises(ValueError, match=str(tmp_path / "x.npz")):
        load_model(tmp_path / "x.npz")


# ----------------------------------------------------------------------- atomic writes
def test_failed_write_leaves_the_old_file_intact(saved, monkeypatch):
    path, model, _ = saved
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        save_model(path, small_model(seed=99), {"other": True})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]  # no temp file left
    loaded, meta = load_model(path)
    assert meta["note"] == "hi"
    np.testing.assert_array_equal(loaded.parameters()[0].data, model.parameters()[0].data)


def test_unserializable_meta_writes_nothing(tmp_path):
    with pytest.raises(TypeError):
        save_model(tmp_path / "m.npz", small_model(), {"bad": object()})
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------- checkpoints
def trained_a_little(optimizer_cls, **kwargs):
    """A model and optimizer after two steps, so the optimizer has non-trivial state."""
    model = small_model(seed=3)
    opt = optimizer_cls(model.parameters(), **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(2):
        x = Tensor(rng.standard_normal((4, 6)))
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize(
    ("optimizer_cls", "kwargs"),
    [
        (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        (SGD, {"lr": 0.1}),
        (Adam, {"lr": 0.01}),
    ],
)
def test_checkpoint_round_trip(tmp_path, optimizer_cls, kwargs):
    model, opt = trained_a_little(optimizer_cls, **kwargs)
    extra = {"epoch": 3, "rng": {"state": 2**100 + 7}, "nested": [1, 2.5, None]}
    save_checkpoint(tmp_path / "c.npz", model, opt, extra)

    fresh = small_model(seed=4)
    fresh_opt = optimizer_cls(fresh.parameters(), **kwargs)
    assert load_checkpoint(tmp_path / "c.npz", fresh, fresh_opt) == extra
    assert read_checkpoint_extra(tmp_path / "c.npz") == extra
    for p, q in zip(model.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    saved_state, loaded_state = opt.state_dict(), fresh_opt.state_dict()
    assert saved_state.keys() == loaded_state.keys()
    for key, value in saved_state.items():
        if isinstance(value, list):
            for a, b in zip(value, loaded_state[key]):
                assert (a is None and b is None) or np.array_equal(a, b)
        else:
            assert loaded_state[key] == value


def test_checkpoint_for_another_optimizer(tmp_path):
    model, opt = trained_a_little(SGD, lr=0.1, momentum=0.9)
    save_checkpoint(tmp_path / "c.npz", model, opt, {})
    other = small_model()
    with pytest.raises(ModelFileError, match="holds SGD optimizer state, but training uses Adam"):
        load_checkpoint(tmp_path / "c.npz", other, Adam(other.parameters()))


def test_checkpoint_for_another_model_leaves_model_unchanged(tmp_path):
    model, opt = trained_a_little(SGD, lr=0.1)
    save_checkpoint(tmp_path / "c.npz", model, opt, {})
    other = MLP([6, 4, 3], activation="tanh", seed=0)
    before = other.state_dict()
    with pytest.raises(ModelFileError, match=r"checkpoint is for a model .*\[6, 5, 3\]"):
        load_checkpoint(tmp_path / "c.npz", other, SGD(other.parameters(), lr=0.1))
    for name, arr in other.state_dict().items():
        np.testing.assert_array_equal(arr, before[name])


def test_checkpoint_with_missing_optimizer_array(tmp_path):
    model, opt = trained_a_little(SGD, lr=0.1, momentum=0.9)
    path = tmp_path / "c.npz"
    save_checkpoint(path, model, opt, {})
    arrays = npz_arrays(path)
    del arrays["optim/buffers/1"]
    write_npz(path, arrays)
    fresh = small_model()
    with pytest.raises(ModelFileError, match="optimizer state is incomplete"):
        load_checkpoint(path, fresh, SGD(fresh.parameters(), lr=0.1, momentum=0.9))


def test_checkpoint_with_nan_parameter(tmp_path):
    model, opt = trained_a_little(SGD, lr=0.1)
    path = tmp_path / "c.npz"
    save_checkpoint(path, model, opt, {})
    arrays = npz_arrays(path)
    arrays["model/0.weight"][0, 0] = np.nan
    write_npz(path, arrays)
    fresh = small_model()
    with pytest.raises(ModelFileError, match=r"'model/0\.weight' holds 1 NaN/Inf"):
        load_checkpoint(path, fresh, SGD(fresh.parameters(), lr=0.1))


def test_model_file_given_as_checkpoint(saved):
    path, _, _ = saved
    model = small_model()
    with pytest.raises(ModelFileError, match="a trained model, not a training checkpoint"):
        load_checkpoint(path, model, SGD(model.parameters(), lr=0.1))


def test_truncated_checkpoint(tmp_path):
    model, opt = trained_a_little(Adam, lr=0.01)
    path = tmp_path / "c.npz"
    save_checkpoint(path, model, opt, {"epoch": 1})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        read_checkpoint_extra(path)


def test_save_model_writes_bytes_loadable_from_memory(tmp_path):
    # The file is a plain .npz: any NumPy can read it without our code.
    save_model(tmp_path / "m.npz", small_model())
    with np.load(io.BytesIO((tmp_path / "m.npz").read_bytes()), allow_pickle=False) as npz:
        assert npz["0.weight"].shape == (5, 6)
