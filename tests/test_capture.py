"""TinyJit (capture.py): a captured step gives the eager step's numbers bit for bit, keeps
.grad, versions and optimizer state true, and never replays a plan that no longer fits.

Each test runs the same training twice from the same start, eagerly and through TinyJit, on
the same batches, and compares every array exactly (np.array_equal, not allclose)."""

from __future__ import annotations

import random

import numpy as np
import pytest

import tinygrad_mnist as tm
from tinygrad_mnist import TinyJit, nn, optim
from tinygrad_mnist.backends import numpy_backend
from tinygrad_mnist.nn import functional as F

pytestmark = pytest.mark.skipif(
    "c" not in tm.backends.available(), reason="capture replays C kernels"
)


def batches(n, batch=17, features=29, classes=5, seed=1, sizes=None):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        b = sizes[i] if sizes else batch
        x = tm.tensor(rng.standard_normal((b, features)).astype(np.float32))
        y = tm.tensor(rng.integers(0, classes, b))
        out.append((x, y))
    return out


def make_run(make_opt, layers=(29, 13, 7, 5), activation="relu", fuse=True, schedule=True):
    model = nn.MLP(list(layers), activation, seed=3, fuse=fuse)
    opt = make_opt(model.parameters())
    sched = optim.CosineLR(opt, 40) if schedule else None

    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return logits, loss

    return model, opt, sched, step


def train(make_opt, data, capture, **kw):
    model, opt, sched, step = make_run(make_opt, **kw)
    fn = TinyJit(step, quiet=True) if capture else step
    outs = []
    for x, y in data:
        logits, loss = fn(x, y)
        outs.append((logits.data.copy(), loss.item()))
        if sched is not None:
            sched.step()
    return model, opt, outs, fn


def state(model, opt):
    arrays = [p.data for p in model.parameters()] + [p.grad.data for p in model.parameters()]
    for name in ("buffers", "m", "v"):
        arrays += [a for a in getattr(opt, name, []) if a is not None]
    return arrays


def assert_same_training(a, b):
    (m1, o1, outs1, _), (m2, o2, outs2, _) = a, b
    for x, y in zip(state(m1, o1), state(m2, o2)):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    for (l1, s1), (l2, s2) in zip(outs1, outs2):
        assert np.array_equal(l1, l2) and s1 == s2
    assert [p._vbox[0] for p in m1.parameters()] == [p._vbox[0] for p in m2.parameters()]
    assert getattr(o1, "t", None) == getattr(o2, "t", None)


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd-nesterov-wd": lambda ps: optim.SGD(
        ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3
    ),
    "sgd-loop": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, foreach=False),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2),
    "adam-wd-loop": lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=1e-2, foreach=False),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_captured_training_is_bit_identical_to_eager(name):
    data = batches(12)
    eager = train(OPTIMIZERS[name], data, capture=False)
    captured = train(OPTIMIZERS[name], data, capture=True)
    assert_same_training(eager, captured)
    step = captured[3]
    assert step.notes == [] and step.replays == 10  # call 1 records, call 2 proves


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu"])
def test_every_fused_activation_replays_exactly(activation):
    data = batches(6, batch=3)
    opt = OPTIMIZERS["sgd-momentum"]
    eager = train(opt, data, capture=False, activation=activation)
    captured = train(opt, data, capture=True, activation=activation)
    assert_same_training(eager, captured)
    assert captured[3].replays == 4, captured[3].notes


def test_unfused_layers_stay_eager_and_say_why():
    """fuse=False (the course's graph: Transpose, MatMul, Add, activation): a weight's
    gradient arrives as a transposed view, which .grad copies in NumPy; no replay could
    repeat that copy, so the step stays eager, with the same numbers."""
    data = batches(5, batch=3)
    opt = OPTIMIZERS["sgd-momentum"]
    eager = train(opt, data, capture=False, fuse=False)
    captured = train(opt, data, capture=True, fuse=False)
    assert_same_training(eager, captured)
    assert captured[3].replays == 0
    assert captured[3].notes == ["runs eagerly: a gradient is copied into .grad in NumPy"]


def test_param_groups_and_live_settings():
    """Two groups with their own rates; the rate, momentum and weight decay changed by hand
    between steps are read live (no re-capture)."""

    def make(ps):
        ps = list(ps)
        return optim.SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05}], lr=0.1, momentum=0.9)

    def run(capture):
        model, opt, _, step = make_run(make, schedule=False)
        fn = TinyJit(step, quiet=True) if capture else step
        for i, (x, y) in enumerate(batches(8)):
            opt.param_groups[1]["lr"] = 0.05 / (i + 1)
            opt.param_groups[0]["momentum"] = 0.9 - 0.05 * i
            opt.param_groups[0]["weight_decay"] = 1e-3 * i
            fn(x, y)
        return model, opt, [], fn

    eager, captured = run(False), run(True)
    assert_same_training(eager, captured)
    assert captured[3].replays == 6 and captured[3].notes == []


def test_grad_and_versions_after_replay_are_what_eager_code_sees():
    data = batches(5)
    model, opt, _, step = make_run(OPTIMIZERS["adam"], schedule=False)
    fn = TinyJit(step, quiet=True)
    for x, y in data:
        fn(x, y)
    assert fn.replays == 3
    # eager code after a replay: a backward through a graph built before the next step works,
    # and one built before an optimizer step is refused, as after eager steps
    x, y = data[0]
    loss = F.cross_entropy(model(x), y)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    F.cross_entropy(model(x), y).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_a_new_batch_size_gets_a_plan_of_its_own():
    sizes = [17, 17, 17, 5, 17, 5, 5, 17, 5]
    data = batches(len(sizes), sizes=sizes)
    opt = OPTIMIZERS["sgd-nesterov-wd"]
    eager, captured = train(opt, data, False), train(opt, data, True)
    assert_same_training(eager, captured)
    assert captured[3].replays == 5 and captured[3].notes == []


def test_replaced_parameter_array_recaptures():
    def run(capture):
        model, opt, _, step = make_run(OPTIMIZERS["sgd-momentum"], schedule=False)
        fn = TinyJit(step, quiet=True) if capture else step
        for i, (x, y) in enumerate(batches(8)):
            if i == 4:
                p = next(iter(model.parameters()))
                p.data = p.data * 0.5  # a new array: a plan holding the old one is stale
            fn(x, y)
        return model, opt, [], fn

    eager, captured = run(False), run(True)
    assert_same_training(eager, captured)
    assert captured[3].notes == ["re-capturing: a parameter's array was replaced"]


def test_optimizer_load_state_dict_recaptures():
    def run(capture):
        model, opt, _, step = make_run(OPTIMIZERS["adam"], schedule=False)
        fn = TinyJit(step, quiet=True) if capture else step
        for i, (x, y) in enumerate(batches(8)):
            if i == 5:
                opt.load_state_dict(opt.state_dict())  # new state arrays, same numbers
            fn(x, y)
        return model, opt, [], fn

    eager, captured = run(False), run(True)
    assert_same_training(eager, captured)
    assert "re-capturing" in captured[3].notes[0] and "state arrays" in captured[3].notes[0]


def test_momentum_switched_on_recaptures():
    def run(capture):
        model, opt, _, step = make_run(OPTIMIZERS["sgd"], schedule=False)
        fn = TinyJit(step, quiet=True) if capture else step
        for i, (x, y) in enumerate(batches(8)):
            if i == 4:
                opt.param_groups[0]["momentum"] = 0.9  # now buffers are needed: new kernels
            fn(x, y)
        return model, opt, [], fn

    eager, captured = run(False), run(True)
    assert_same_training(eager, captured)
    assert captured[3].notes and captured[3].notes[0].startswith("re-capturing")


def stays_eager(step_body, data, match, make_opt=OPTIMIZERS["sgd-momentum"]):
    """Train with step_body eagerly and captured; the captured one must stay eager (a note
    matching `match`) and give the same numbers."""

    def run(capture):
        model, opt, _, _ = make_run(make_opt, schedule=False)
        random.seed(0)

        def step(x, y):
            return step_body(model, opt, x, y)

        fn = TinyJit(step, quiet=True) if capture else step
        for x, y in data:
            fn(x, y)
        return model, opt, [], fn

    eager, captured = run(False), run(True)
    assert_same_training(eager, captured)
    assert captured[3].replays == 0
    assert len(captured[3].notes) == 1 and match in captured[3].notes[0], captured[3].notes


def test_no_zero_grad_stays_eager():
    def body(model, opt, x, y):
        F.cross_entropy(model(x), y).backward()
        opt.step()

    stays_eager(body, batches(5), "no zero_grad() in the step")


def test_a_python_number_that_changes_is_caught_by_the_proof():
    def body(model, opt, x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) * random.random()  # a constant in a recording
        loss.backward()
        opt.step()
        return loss

    stays_eager(body, batches(6), "differs between two steps")


def test_numpy_work_on_the_input_is_caught_by_the_proof():
    def body(model, opt, x, y):
        opt.zero_grad()
        doubled = tm.Tensor(x.data * 2)  # NumPy, outside the kernels: stale in a replay
        loss = F.cross_entropy(model(doubled), y)
        loss.backward()
        opt.step()
        return loss

    stays_eager(body, batches(6), "a replay gave different numbers")


def test_a_primitive_without_a_kernel_stays_eager(monkeypatch):
    monkeypatch.setattr(numpy_backend, "halve", lambda a: a / 2, raising=False)

    def body(model, opt, x, y):
        opt.zero_grad()
        x = tm.Tensor(tm.backends.current().halve(x.data))
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    stays_eager(body, batches(4), "halve has no C kernel")


def test_returning_a_python_number_stays_eager():
    def body(model, opt, x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    stays_eager(body, batches(4), "call .item() outside it")


def test_float64_stays_eager():
    model = nn.MLP([29, 7, 5], seed=3).double()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = TinyJit(step, quiet=True)
    for x, y in batches(4):
        fn(x.double(), y)
    assert fn.replays == 0 and "float32" in fn.notes[0]


def test_numpy_backend_runs_eagerly_with_one_note(capsys):
    data = batches(4)
    model, opt, _, step = make_run(OPTIMIZERS["sgd"], schedule=False)
    fn = TinyJit(step)
    with tm.backends.backend("numpy"):
        for x, y in data:
            fn(x, y)
    assert fn.replays == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "capture needs the C backend" in err


def test_a_bad_label_in_a_replay_raises_and_changes_nothing():
    data = batches(5)
    model, opt, _, step = make_run(OPTIMIZERS["adam"], schedule=False)
    fn = TinyJit(step, quiet=True)
    for x, y in data[:4]:
        fn(x, y)
    assert fn.replays == 2
    before = [p.data.copy() for p in model.parameters()]
    t, versions = opt.t, [p._vbox[0] for p in model.parameters()]
    x, y = data[4]
    bad = tm.tensor(np.where(np.arange(len(y)) == 3, 5, y.data))  # 5 classes: 5 is outside
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\), got 5 at index 3"):
        fn(x, bad)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    assert opt.t == t and [p._vbox[0] for p in model.parameters()] == versions


def test_disabled_never_records():
    model, opt, _, step = make_run(OPTIMIZERS["sgd"], schedule=False)
    fn = TinyJit(step, enabled=False)
    for x, y in batches(4):
        fn(x, y)
    assert fn.replays == 0 and fn.plan is None and fn.notes == []


def test_printing_the_plan_lists_kernels_shapes_and_flops():
    model, opt, _, step = make_run(OPTIMIZERS["sgd-momentum"], layers=(29, 13, 5))
    fn = TinyJit(step, quiet=True)
    for x, y in batches(3):
        fn(x, y)
    text = str(fn.plan)
    lines = text.splitlines()
    assert lines[0].startswith("captured step: 7 kernel calls")
    kernels = [line.split()[1] for line in lines[1:]]
    assert kernels == [
        "linear_forward",
        "linear_forward",
        "cross_entropy",
        "binary_scalar",
        "linear_backward",
        "linear_backward",
        "sgd_step_many",
    ]
    assert "x[17,29] @ w[13,29]ᵀ + b -> y[17,13], relu" in lines[1]
    assert "dy[17,13] -> dw[13,29], db[13], relu" in lines[6]  # no dx for the input
    b, sizes = 17, (29, 13, 5)
    gemm = 2 * b * sum(i * o for i, o in zip(sizes, sizes[1:]))
    # forward 1 GEMM per layer, backward 2 (1 for the first layer, which has no dx)
    assert fn.plan.flops() > 3 * gemm - 2 * b * 29 * 13
    assert fn.plan.flops() < 3 * gemm + 10_000


def test_profiled_replay_times_each_kernel():
    model, opt, _, step = make_run(OPTIMIZERS["sgd"], schedule=False)
    fn = TinyJit(step, quiet=True)
    fn.profile = True
    for x, y in batches(3):
        fn(x, y)
    seconds = [fn.plan.seconds[j] for j in range(fn.plan.n)]
    assert len(seconds) == 9 and all(0 <= s < 1 for s in seconds) and sum(seconds) > 0
    assert "us" in str(fn.plan).splitlines()[1]


def test_every_plan_kernel_code_names_a_kernel_whose_arguments_fit():
    from tinygrad_mnist._kernels import ffi, lib

    codes = ffi.typeof("enum tg_plan_kernel").elements
    assert sorted(codes) == list(range(len(codes)))
    for name in codes.values():
        kernel = getattr(lib, "tg_" + name.removeprefix("TG_PLAN_").lower())
        kinds = [a.kind == "pointer" for a in ffi.typeof(kernel).args]
        floats = [a.cname in ("float", "double") for a in ffi.typeof(kernel).args]
        assert sum(kinds) <= 10 and sum(floats) <= 6
        assert len(kinds) - sum(kinds) - sum(floats) <= 6


def test_a_method_can_be_captured_and_a_non_function_is_refused():
    class Trainer:
        def __init__(self):
            self.model, self.opt, _, _ = make_run(OPTIMIZERS["sgd-momentum"], schedule=False)

        @TinyJit
        def step(self, x, y):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.opt.step()
            return loss

    trainer = Trainer()
    model, opt, _, step = make_run(OPTIMIZERS["sgd-momentum"], schedule=False)
    for x, y in batches(5):
        assert trainer.step(x, y).item() == step(x, y)[1].item()
    assert Trainer.step.replays == 3
    for a, b in zip(trainer.model.parameters(), model.parameters()):
        assert np.array_equal(a.data, b.data)
    with pytest.raises(TypeError, match="TinyJit: expected a step function, got int"):
        TinyJit(5)


def test_inputs_that_require_grad_and_tensor_subclasses():
    """An input made with requires_grad gets its own .grad after each replay, as eagerly; a
    Tensor subclass (nn.Parameter) is an input like any Tensor."""

    def run(capture, make_input):
        model, opt, _, _ = make_run(OPTIMIZERS["sgd"], schedule=False)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = TinyJit(step, quiet=True) if capture else step
        grads = []
        for x, y in batches(6):
            x = make_input(x.data)
            fn(x, y)
            grads.append(None if x.grad is None else x.grad.data.copy())
        return model, opt, grads, fn

    for make_input in (lambda a: tm.tensor(a, requires_grad=True), nn.Parameter):
        eager, captured = run(False, make_input), run(True, make_input)
        assert captured[3].replays == 4 and captured[3].notes == []
        for a, b in zip(eager[2], captured[2]):
            assert a is not None and np.array_equal(a, b)
        for a, b in zip(eager[0].parameters(), captured[0].parameters()):
            assert np.array_equal(a.data, b.data)
