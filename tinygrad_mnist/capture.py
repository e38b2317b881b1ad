"""TinyJit: record a training step's kernel calls once, then replay them from C in one call.

An eager training step is Python calling about nine C kernels (3 linear forwards, the loss,
3 linear backwards, the optimizer), with a few hundred microseconds of Python between them:
building the graph, checking arguments, allocating outputs, walking the graph backward. For a
step function whose shapes do not change, all that Python does the same thing every batch.
So, as tinygrad's TinyJit and CUDA graphs do:

    @TinyJit
    def train_step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    for x, y in loader:
        loss = train_step(x, y)     # 1st call: eager, recorded; 2nd: checked; then replayed

1st call (for each shape of the inputs): the step runs eagerly while every kernel call is
  recorded with its buffers: the plan (csrc/plan.c runs it; `print(train_step.plan)` lists
  its kernels with shapes and FLOPs).
2nd call: the proof. The plan is replayed on the new batch, its results kept, the state put
  back, and the step run eagerly again and recorded; the replay must have given the same bits
  in every buffer, and the two recordings must have the same kernels, arguments and buffer
  sharing. Work done outside the kernels (a NumPy temporary, a Python number that changes)
  shows up here. If anything differs the step stays eager, with a one-line note.
3rd call on: replays. Python only swaps in the batch's arrays, sets the live scalars (each
  optimizer's learning rate and other settings, Adam's step count: read from the optimizer
  every step, so schedules work), makes one C call, and then does what eager code would see:
  `.grad` of every parameter set, versions bumped, Adam's step counted. It returns copies
  of the outputs (detached from any graph).

Guards, checked on every call: the backend (C), grad mode, the shapes and dtypes of the
tensor arguments and the values of the others, each parameter's array, each optimizer's
state arrays and structure. A change re-captures (or, for a new input shape, captures a plan
of its own); an op with no C kernel, gradients accumulated in NumPy, float64, or results
that differ in the proof keep the step eager. The step function's own Python (prints, counters,
`loss.item()`) runs on the eager calls only, and arrays it reads that are neither arguments
nor parameters are read in place: change them in place, not by rebinding. A parameter's
.grad is the same tensor after every replay, overwritten by the next one (copy it to keep
it). Results are the same bits as the eager step's; docs/performance.md has the measurements.
"""

from __future__ import annotations

import functools
import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import backends
from .autograd.grad_mode import is_grad_enabled
from .backends import recording
from .tensors.tensor import Tensor

MAX_PLANS = 8  # plans kept per TinyJit, one per input shape (the last batch is often smaller)


class _Refused(Exception):
    """The step cannot be replayed; the message says why."""


class _Call:
    """One recorded kernel call: its name and its arguments by kind, as plan.c reads them."""

    __slots__ = ("name", "code", "kinds", "ints", "ptrs", "reals")

    def __init__(self, name: str, code: int, kinds: list[str]) -> None:
        self.name, self.code, self.kinds = name, code, kinds
        self.ints: list[int] = []
        self.ptrs: list[Any] = []  # a cdata (an array or NULL), or a list of them (*_step_many)
        self.reals: list[float] = []


def _kinds(fn: Any) -> list[str]:
    """'i', 'p' or 'r' for each argument of a cffi function."""
    from ._kernels import ffi

    out = []
    for t in ffi.typeof(fn).args:
        if t.kind == "pointer":
            out.append("p")
        else:
            out.append("r" if t.cname in ("float", "double") else "i")
    return out


class _Recorder:
    """Collects the kernel calls of one eager step (c_backend.kernels_wrapped routes them
    here), the tensors whose .grad it set, and each optimizer's live-scalar calls."""

    def __init__(self) -> None:
        self.calls: list[_Call] = []
        self.refusals: list[str] = []
        self.grads: list[Tensor] = []  # tensors whose .grad the step set, in order
        self.live: list[tuple[Any, dict[str, Any], list[Tensor], int, int, int]] = []

    def refuse(self, reason: str) -> None:
        if reason not in self.refusals:
            self.refusals.append(reason)

    def mark(self) -> int:
        return len(self.calls)

    def live_scalars(
        self, optimizer: Any, group: dict[str, Any], ps: list[Tensor], first: int, n: int
    ) -> None:
        """The calls since `first` updated `ps` by the optimizer's rule for `group`: their
        last n scalar arguments are that rule, read again before every replay."""
        self.live.append((optimizer, group, ps, first, len(self.calls), n))

    def grad_set(self, t: Tensor) -> None:
        if not any(t is u for u in self.grads):
            self.grads.append(t)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        from ._kernels import lib

        code = getattr(lib, "TG_PLAN_" + name.removeprefix("tg_").upper(), None)
        kinds = _kinds(fn)

        def recorded(*args: Any) -> Any:
            result = fn(*args)
            if code is None:
                self.refuse(f"{name} has no replayable kernel (plans are float32)")
                return result
            call = _Call(name, code, kinds)
            for kind, a in zip(kinds, args):
                if kind == "p":
                    call.ptrs.append(list(a) if isinstance(a, list) else a)
                elif kind == "i":
                    call.ints.append(int(a))
                else:
                    call.reals.append(float(a))
            self.calls.append(call)
            return result

        return recorded


def _flatten(out: Any) -> tuple[list[Tensor], Callable[[list[Tensor]], Any]]:
    """The tensors in a step's return value (a Tensor, None, or a tuple/list of Tensors), and
    a function that builds the same structure from new tensors."""
    if out is None:
        return [], lambda ts: None
    if isinstance(out, Tensor):
        return [out], lambda ts: ts[0]
    if isinstance(out, (tuple, list)) and all(isinstance(t, Tensor) for t in out):
        kind = type(out)
        return list(out), lambda ts: kind(ts)
    raise _Refused(
        f"the step returns {type(out).__name__}; a captured step returns Tensors (or a "
        "tuple of them, or None): call .item() outside it"
    )


def _address(cd: Any) -> int:
    from ._kernels import ffi

    return int(ffi.cast("intptr_t", cd))


class Plan:
    """A recorded step: its kernel calls as plan.c's struct array, the buffers they use, where
    the inputs go, which calls take live scalars, and what a replay must set afterwards."""

    def __init__(
        self,
        rec: _Recorder,
        arguments: list[Tensor],
        outputs: list[Tensor],
        unflatten: Callable[[list[Tensor]], Any],
    ) -> None:
        from ._kernels import ffi, lib

        self._ffi, self._lib = ffi, lib
        self.unflatten = unflatten
        if rec.refusals:
            raise _Refused(rec.refusals[0])
        if not rec.calls:
            raise _Refused("the step ran no C kernel")
        self.names = [c.name for c in rec.calls]
        self.ints = [tuple(c.ints) for c in rec.calls]
        self.reals = [tuple(c.reals) for c in rec.calls]
        inputs = _arrays(arguments)
        n = len(rec.calls)
        self.calls = ffi.new("struct tg_plan_call[]", n)
        self.n = n
        self._keep: list[Any] = []  # every cdata the struct points into, kept alive
        in_addr = {a.__array_interface__["data"][0]: k for k, a in enumerate(inputs)}
        self.input_slots: list[list[tuple[int, int]]] = [[] for _ in inputs]
        # every buffer, once: address -> (index, cdata); and each call's buffer ids for the proof
        self.buffers: list[Any] = []
        index: dict[int, int] = {}
        self.layout: list[tuple[Any, ...]] = []

        def buffer_id(cd: Any) -> Any:
            if cd == ffi.NULL:
                return None
            addr = _address(cd)
            if addr in in_addr:
                return ("input", in_addr[addr])
            if addr not in index:
                index[addr] = len(self.buffers)
                self.buffers.append(cd)
            return index[addr]

        for j, call in enumerate(rec.calls):
            c = self.calls[j]
            c.kernel = call.code
            for k, v in enumerate(call.ints):
                c.i[k] = v
            for k, v in enumerate(call.reals):
                c.r[k] = v
            ids: list[Any] = []
            for k, p in enumerate(call.ptrs):
                if isinstance(p, list):
                    if all(isinstance(v, int) for v in p):  # the sizes of *_step_many
                        arr = ffi.new("int64_t[]", p)
                        ids.append(("sizes", tuple(p)))
                    else:
                        arr = ffi.new("void *[]", p)
                        elem = [buffer_id(v) for v in p]
                        if any(isinstance(e, tuple) for e in elem):
                            raise _Refused("an optimizer updates an input of the step")
                        ids.append(tuple(elem))
                        self._keep.extend(p)
                    self._keep.append(arr)
                    c.p[k] = arr
                else:
                    b = buffer_id(p)
                    if isinstance(b, tuple):
                        self.input_slots[b[1]].append((j, k))
                    ids.append(b)
                    self._keep.append(p)
                    c.p[k] = p
            self.layout.append((call.code, tuple(ids)))
        self.buffer_views = [ffi.buffer(b) for b in self.buffers]  # their bytes, for the proof
        # live scalars: for each optimizer group, its parameters and where its rule goes:
        # the (call, kind, slot) of each of the last n scalar arguments of each of its calls
        self.live: list[tuple[Any, dict[str, Any], list[Tensor], list[tuple[int, str, int]]]]
        self.live = []
        for o, group, ps, first, last, n in rec.live:
            where = []
            for j in range(first, last):
                kinds = [k for k in rec.calls[j].kinds if k != "p"]
                slots = {"i": 0, "r": 0}
                numbered = []
                for k in kinds:
                    numbered.append((k, slots[k]))
                    slots[k] += 1
                where += [(j, k, slot) for k, slot in numbered[len(numbered) - n :]]
            self.live.append((o, group, ps, where))
        self.optimizers = list({id(o): o for o, *_ in self.live}.values())
        # the proof compares two recordings' arguments, except the live ones
        live_slots = {(j, kind, slot) for *_, where in self.live for j, kind, slot in where}
        for j, (code, ids) in enumerate(self.layout):
            ints = tuple(
                None if (j, "i", k) in live_slots else v for k, v in enumerate(self.ints[j])
            )
            reals = tuple(
                None if (j, "r", k) in live_slots else v for k, v in enumerate(self.reals[j])
            )
            self.layout[j] = (code, ints, reals, ids)
        # what replays set afterwards: .grad of each tensor the step gave one; for an
        # argument (an input that requires grad), of the argument at that place
        self.grads: list[tuple[Tensor, Tensor]] = []
        self.argument_grads: list[tuple[int, Tensor]] = []
        for t in rec.grads:
            g = t._grad
            if g is None or g.data.__array_interface__["data"][0] not in index:
                raise _Refused("a .grad is computed outside the kernels")
            place = [k for k, a in enumerate(arguments) if a is t]
            if place:
                self.argument_grads.append((place[0], g))
            else:
                self.grads.append((t, g))
        self.leaves = [(t, t.data) for t, _ in self.grads if t._ctx is None]
        # the outputs: arrays the kernels write; a replay returns copies of them
        self.outputs: list[np.ndarray] = []
        for t in outputs:
            addr = t.data.__array_interface__["data"][0]
            if addr not in index and addr not in in_addr:
                raise _Refused("the step returns a tensor computed outside the kernels")
            self.outputs.append(t.data)
        calls = self.calls
        # for replays, the struct fields they rewrite, looked up once (each a cdata view of
        # the struct's own memory): the input pointers, and the live scalars by group
        self._input_fields = [
            (calls[j].p, k, n) for n, slots in enumerate(self.input_slots) for j, k in slots
        ]
        self._live_fields = [
            (o, group, [(calls[j].r if kind == "r" else calls[j].i, slot, kind == "r")
                        for j, kind, slot in where])
            for o, group, _, where in self.live
        ]  # fmt: skip
        # after a replay: each tensor's .grad set, and each updated parameter's version bumped
        bumped = [p for _, _, ps, _ in self.live for p in ps]
        self._after = [(t, g, any(t is p for p in bumped)) for t, g in self.grads]
        self._after += [(p, None, True) for p in bumped if not any(p is t for t, _ in self.grads)]
        self._last_rules: list[Any] = [None] * len(self.live)  # the rules last written
        self._optimizer_state = [o._state_arrays() for o in self.optimizers]
        self._optimizer_groups = [_optimizer_groups(o) for o in self.optimizers]
        self._status = ffi.new("int64_t *")
        self.seconds: Any = None  # per-call times of the last replay, when profiling

    # ---------------------------------------------------------------- one replay
    def guards_hold(self) -> str | None:
        """None when the plan still fits the world, else what changed."""
        for t, data in self.leaves:
            if t.data is not data:
                return "a parameter's array was replaced"
        for o, state, groups in zip(self.optimizers, self._optimizer_state, self._optimizer_groups):
            now = o._state_arrays()
            if len(now) != len(state) or not all(map(operator.is_, now, state)):
                return f"{type(o).__name__}'s state arrays were replaced (load_state_dict?)"
            if not _same_groups(_optimizer_groups(o), groups):
                return f"{type(o).__name__}'s parameter groups or settings changed"
        return None

    def replay(self, arguments: list[Tensor], profile: bool = False) -> list[Tensor]:
        """One step on these tensor arguments: their arrays swapped in, the live scalars
        set, one C call, then what an eager step leaves behind on the Python side. Returns
        copies of the outputs."""
        ffi = self._ffi
        inputs = _arrays(arguments)
        held = [ffi.from_buffer(a) for a in inputs]  # alive until the C call returns
        for field, k, n in self._input_fields:
            field[k] = held[n]
        for o in self.optimizers:
            o._advance(1)
        last = self._last_rules
        for number, (o, group, fields) in enumerate(self._live_fields):
            rule = o._rule(group)
            if rule != last[number]:  # rewrite the struct only when a scalar changed
                n = len(rule)
                for m, (field, slot, real) in enumerate(fields):
                    field[slot] = float(rule[m % n]) if real else int(rule[m % n])
                last[number] = rule
        seconds = ffi.NULL
        if profile:
            self.seconds = seconds = ffi.new("double[]", self.n)
        bad = self._lib.tg_plan_run(self.n, self.calls, self._status, seconds)
        if bad >= 0:
            for o in self.optimizers:
                o._advance(-1)
            raise ValueError(self._failure(bad, int(self._status[0]), inputs))
        for t, g, bump in self._after:
            if g is not None:
                t._grad = g
            if bump:
                t._vbox[0] += 1
        wrap = Tensor._wrap
        for k, g in self.argument_grads:  # each argument gets a .grad of its own, as eagerly
            arguments[k]._grad = wrap(np.array(g.data))
        return [wrap(np.array(a)) for a in self.outputs]

    def _failure(self, j: int, status: int, inputs: list[np.ndarray]) -> str:
        name = self.names[j]
        if name.startswith("tg_cross_entropy"):
            classes = self.ints[j][1]
            label = "?"
            for slots, a in zip(self.input_slots, inputs):
                if (j, 1) in slots:
                    label = str(a.reshape(-1)[status])
            return (
                f"cross_entropy: labels must lie in [0, {classes}), got {label} at index {status}"
            )
        return f"{name.removeprefix('tg_')}: the arrays of tensor {status} overlap in memory"

    # ---------------------------------------------------------------- the proof
    def snapshot(self) -> list[bytes]:
        return [v[:] for v in self.buffer_views]

    def restore(self, saved: list[bytes]) -> None:
        for v, b in zip(self.buffer_views, saved):
            v[:] = b

    def same_as(self, other: Plan, results: list[bytes]) -> str | None:
        """None when `other` (recorded eagerly on the batch this plan was replayed on) has the
        same calls and buffer sharing, and its buffers now hold the bits the replay gave."""
        if self.layout != other.layout:
            for j, (a, b) in enumerate(zip(self.layout, other.layout)):
                if a != b:
                    return f"kernel call {j} ({self.names[j]}) differs between two steps"
            return "the step makes a different number of kernel calls each time"
        for mine, theirs in zip(results, other.buffer_views):
            if mine != theirs[:]:
                return (
                    "a replay gave different numbers from the eager step (work outside the "
                    "kernels, e.g. NumPy or a Python number that changes)"
                )
        if len(self.outputs) != len(other.outputs):
            return "the step returns a different number of tensors each time"
        return None

    # ---------------------------------------------------------------- printing
    def __str__(self) -> str:
        rows = [self._describe(j) for j in range(self.n)]
        total = sum(f for _, _, f in rows)
        width = max(len(n) for n, _, _ in rows)
        lines = [f"captured step: {self.n} kernel calls, {_flops(total)} per step"]
        times = self.seconds
        for j, (name, shapes, flops) in enumerate(rows):
            t = f"  {times[j] * 1e6:8.1f} us" if times is not None else ""
            lines.append(f"  {j:2d}  {name:<{width}}  {_flops(flops):>11}{t}  {shapes}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Plan: {self.n} kernel calls>"

    def _describe(self, j: int) -> tuple[str, str, int]:
        return _describe(self.names[j], self.ints[j], self.layout[j][3])

    def flops(self) -> int:
        """Floating-point operations of one replay (a multiply-add counts 2)."""
        return sum(self._describe(j)[2] for j in range(self.n))


def _optimizer_groups(o: Any) -> list[tuple[Any, ...]]:
    """What an optimizer's kernel calls depend on besides its live scalars and state arrays:
    its foreach switch, and for each group its list of parameters (the same list object, of
    the same length) and whether its kernel call takes state arrays."""
    return [(o.foreach, g["params"], len(g["params"]), o._needs_state(g)) for g in o.param_groups]


def _same_groups(now: list[tuple[Any, ...]], then: list[tuple[Any, ...]]) -> bool:
    return len(now) == len(then) and all(
        a[0] == b[0] and a[1] is b[1] and a[2:] == b[2:] for a, b in zip(now, then)
    )


_ACT = {0: "", 1: ", relu", 2: ", sigmoid", 3: ", tanh", 4: ", leaky_relu"}


def _describe(name: str, i: tuple[int, ...], ids: tuple[Any, ...]) -> tuple[str, str, int]:
    """(kernel, its shapes for people, its FLOPs) for one call of a plan; `ids` are its
    pointer arguments as the plan numbers them (None for NULL)."""
    short = name.removeprefix("tg_").removesuffix("_f32")
    if short == "matmul":
        m, n, k = i[:3]
        return short, f"[{m},{k}] @ [{k},{n}]", 2 * m * n * k
    if short == "linear_forward":
        b, n_in, n_out, act = i[:4]
        shapes = f"x[{b},{n_in}] @ w[{n_out},{n_in}]ᵀ + b -> y[{b},{n_out}]{_ACT.get(act, '')}"
        return short, shapes, 2 * b * n_in * n_out + 2 * b * n_out
    if short == "linear_backward":  # pointers: x, w, y, dy, dz, dx, dw, db
        b, n_in, n_out, act = i[:4]
        outs = [f"dw[{n_out},{n_in}]"]
        flops = 2 * b * n_in * n_out + b * n_out  # dw = dz^T x; dz = act'(y) dy
        if ids[5] is not None:
            outs.insert(0, f"dx[{b},{n_in}]")
            flops += 2 * b * n_in * n_out  # dx = dz w
        if ids[7] is not None:
            outs.append(f"db[{n_out}]")
            flops += b * n_out
        shapes = f"dy[{b},{n_out}] -> {', '.join(outs)}{_ACT.get(act, '')}"
        return short, shapes, flops
    if short == "cross_entropy":
        b, c = i[:2]
        return short, f"logits[{b},{c}], labels[{b}] -> loss, dlogits[{b},{c}]", 5 * b * c
    if short in ("sgd_step_many", "adam_step_many"):
        n = sum(ids[0][1])  # ids[0] is ("sizes", the tensors' sizes)
        per = 6 if short.startswith("sgd") else 12
        return short, f"{i[0]} tensors, {n:,} numbers", per * n
    if short in ("sgd_step", "adam_step"):
        per = 6 if short.startswith("sgd") else 12
        return short, f"{i[0]:,} numbers", per * i[0]
    if short in ("binary", "binary_scalar"):
        return short, f"{i[1]:,} numbers", i[1]
    if short in ("binary_row", "binary_col", "sum_axis"):
        count = i[1] * i[2] * (i[0] if short == "sum_axis" else 1)
        return short, "x".join(str(v) for v in i[1:3]), count
    if short in ("softmax", "log_softmax", "softmax_backward", "log_softmax_backward"):
        return short, f"[{i[0]},{i[1]}]", 4 * i[0] * i[1]
    return short, f"{i[0]:,} numbers", i[0]


def _flops(n: int) -> str:
    for unit, scale in (("GFLOP", 1e9), ("MFLOP", 1e6), ("kFLOP", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} FLOP"


class _Entry:
    """What TinyJit knows about one input shape: the stage it is at and its plan."""

    __slots__ = ("stage", "plan", "failures")

    def __init__(self) -> None:
        self.stage = "record"  # record -> prove -> replay, or eager for good
        self.plan: Plan | None = None
        self.failures = 0


class TinyJit:
    """Capture a training step and replay it from C (see the module's docstring).

    TinyJit(fn) or the decorator @TinyJit. `enabled=False` (or `train --no-capture`) runs
    fn eagerly every time. `plan` is the last plan used (print it to see the kernels);
    `replays` counts replayed calls; `notes` lists what kept a step eager or re-captured it
    (each printed once to stderr unless quiet=True)."""

    def __init__(
        self, fn: Callable[..., Any], *, enabled: bool = True, quiet: bool = False
    ) -> None:
        if not callable(fn):
            raise TypeError(f"TinyJit: expected a step function, got {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.enabled = bool(enabled)
        self.quiet = bool(quiet)
        self.profile = False  # replays time each kernel call into plan.seconds
        self.plan: Plan | None = None
        self.replays = 0
        self.notes: list[str] = []
        self._entries: dict[Any, _Entry] = {}
        self._last: tuple[Any, bool, Plan] | None = None  # (signature, grad mode, plan)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        """As a method's decorator: the object is passed as the first argument (a plain
        argument, compared by identity in the guards)."""
        return self if obj is None else functools.partial(self.__call__, obj)

    def __repr__(self) -> str:
        return f"TinyJit({getattr(self.fn, '__name__', self.fn)!r}, replays={self.replays})"

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)
            if not self.quiet:
                name = getattr(self.fn, "__name__", "step")
                print(f"TinyJit({name}): {message}", file=sys.stderr)

    def __call__(self, *args: Any) -> Any:
        if not self.enabled:
            return self.fn(*args)
        last = self._last  # the fast path: the same kind of call as the last replay
        if last is not None and _same_signature(args, last[0]) and is_grad_enabled() == last[1]:
            plan = last[2]
            if backends.current().name == "c" and plan.guards_hold() is None:
                self.replays += 1
                return plan.unflatten(plan.replay(_tensors(args), self.profile))
        self._last = None
        key = self._key(args)
        if key is None:
            return self.fn(*args)
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= MAX_PLANS:
                self._entries.pop(next(iter(self._entries)))
            entry = self._entries[key] = _Entry()
        if entry.stage == "replay":
            plan = entry.plan
            assert plan is not None
            changed = plan.guards_hold()
            if changed is None:
                self.plan = plan
                self._last = (_signature(args), key[0], plan)
                self.replays += 1
                return plan.unflatten(plan.replay(_tensors(args), self.profile))
            self.note(f"re-capturing: {changed}")
            entry.stage, entry.plan = "record", None
        if entry.stage == "eager":
            return self.fn(*args)
        if entry.stage == "record":
            out, plan = self._record(entry, args)
            if plan is not None:
                entry.plan, entry.stage = plan, "prove"
            return out
        return self._prove(entry, args)

    def _key(self, args: tuple[Any, ...]) -> Any:
        be = backends.current()
        if be.name != "c":
            self.note(f"runs eagerly: capture needs the C backend (the backend is {be.name})")
            return None
        parts: list[Any] = [is_grad_enabled()]
        for a in args:
            if isinstance(a, Tensor):
                parts.append((a.shape, a.data.dtype.str, a.requires_grad))
            else:
                try:
                    hash(a)
                except TypeError:
                    self.note(
                        f"runs eagerly: an argument of type {type(a).__name__} is not a Tensor"
                    )
                    return None
                parts.append(("value", type(a), a))
        return tuple(parts)

    def _record(self, entry: _Entry, args: tuple[Any, ...]) -> tuple[Any, Plan | None]:
        """Run the step eagerly while recording it; its plan, or None (then a note)."""
        from .backends import c_backend

        rec = _Recorder()
        if recording.recorder is not None:
            raise RuntimeError("TinyJit: a captured step cannot call another one")
        recording.recorder = rec
        try:
            with c_backend.kernels_wrapped(rec.wrap):
                out = self.fn(*args)
        finally:
            recording.recorder = None
        try:
            tensors, unflatten = _flatten(out)
            plan = Plan(rec, _tensors(args), tensors, unflatten)
        except _Refused as refusal:
            self.note(f"runs eagerly: {refusal}")
            entry.stage = "eager"
            return out, None
        return out, plan

    def _prove(self, entry: _Entry, args: tuple[Any, ...]) -> Any:
        """Replay the plan on this batch, put everything back, run the step eagerly: the
        plan is kept only if both gave the same bits (see the module's docstring)."""
        plan = entry.plan
        assert plan is not None
        changed = plan.guards_hold()
        if changed is not None:
            entry.stage, entry.plan = "record", None
            return self(*args)
        saved = plan.snapshot()
        python_state = _python_state(plan, _tensors(args))
        results = None
        try:
            plan.replay(_tensors(args))
            results = plan.snapshot()
        except ValueError:  # e.g. a bad label: the eager run below says it in its own words
            pass  # (a failed replay has already taken back its optimizer steps)
        finally:
            _uninterrupted(plan.restore, saved)
            _restore_python_state(python_state)
            if results is not None:
                for o in plan.optimizers:
                    o._advance(-1)  # the replay counted a step that the eager run will count
        out, other = self._record(entry, args)
        if other is None:
            return out
        why = "the eager step raised" if results is None else plan.same_as(other, results)
        if why is None:
            entry.plan, entry.stage = other, "replay"
            self.plan = other
            return out
        entry.failures += 1
        if entry.failures >= 2:
            self.note(f"runs eagerly: {why}")
            entry.stage, entry.plan = "eager", None
        else:
            entry.plan = other  # perhaps a first step that set state up: prove the next one
        return out


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments as far as a plan cares: each Tensor's shape, dtype and requires_grad,
    and every other argument itself."""
    return tuple(
        (a.data.shape, a.data.dtype, a.requires_grad) if isinstance(a, Tensor) else (type(a), a)
        for a in args
    )


def _same_signature(args: tuple[Any, ...], signature: tuple[Any, ...]) -> bool:
    """_signature(args) == signature, without building the tuple (the replay's fast path)."""
    if len(args) != len(signature):
        return False
    for a, s in zip(args, signature):
        if isinstance(a, Tensor):
            d = a.data
            if d.shape != s[0] or d.dtype != s[1] or a.requires_grad != s[2]:
                return False
        elif s != (type(a), a):
            return False
    return True


def _tensors(args: tuple[Any, ...]) -> list[Tensor]:
    """The tensor arguments, in order."""
    return [a for a in args if isinstance(a, Tensor)]


def _arrays(tensors: list[Tensor]) -> list[np.ndarray]:
    """Their arrays, C-contiguous (the kernels read them in place)."""
    out = []
    for a in tensors:
        d = a.data
        out.append(d if d.flags.c_contiguous else np.ascontiguousarray(d))
    return out


def _python_state(plan: Plan, arguments: list[Tensor]) -> list[tuple[Any, Any]]:
    """What a replay changes on the tensors: .grad (of the parameters and of these
    arguments) and versions. (The optimizers' step counts go back through _advance.)"""
    tensors = [t for t, _ in plan.grads] + [arguments[k] for k, _ in plan.argument_grads]
    state: list[tuple[Any, Any]] = [(t, ("grad", t._grad)) for t in tensors]
    for _, _, ps, _ in plan.live:
        state += [(p, ("version", p._vbox[0])) for p in ps]
    return state


def _restore_python_state(state: list[tuple[Any, Any]]) -> None:
    for t, (what, value) in state:
        if what == "grad":
            t._grad = value
        else:
            t._vbox[0] = value


def _uninterrupted(fn: Callable[..., None], *args: Any) -> None:
    """fn(*args), finished even if Ctrl-C arrives during it (then re-raised after)."""
    interrupted = False
    while True:
        try:
            fn(*args)
            break
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt
