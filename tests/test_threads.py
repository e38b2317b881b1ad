"""Two threads training two models on different backends must not interfere.

The backend choice is per thread (backends/__init__.py), the kernels keep no shared scratch
memory, and cffi releases the GIL during C calls, so both threads really run at once.
"""

from __future__ import annotations

import threading

import numpy as np

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor, nn, optim


def train_small(backend: str, seen: list[str], steps: int = 30) -> dict[str, np.ndarray]:
    """A few SGD steps of a 20-32-16-4 MLP on fixed random data; returns the final weights."""
    tg.set_backend(backend)
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((64, 20)))
    y = rng.integers(0, 4, 64)
    model = nn.MLP([20, 32, 16, 4], seed=3)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen.append(tg.get_backend())
    return model.state_dict()


def test_two_threads_two_backends_do_not_interfere():
    # Reference results, one backend at a time, in fresh threads.
    want = {}
    for name in ("numpy", "c"):
        box: dict = {}
        t = threading.Thread(target=lambda n=name, b=box: b.update(w=train_small(n, [])))
        t.start()
        t.join()
        want[name] = box["w"]

    results: dict[str, dict] = {}
    seen = {"numpy": [], "c": []}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        barrier.wait()  # start together so the steps interleave
        results[name] = train_small(name, seen[name], steps=30)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("numpy", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in ("numpy", "c"):
        assert set(seen[name]) == {name}  # each thread kept its own backend throughout
        for k, w in want[name].items():
            np.testing.assert_array_equal(results[name][k], w)


def test_backend_context_is_per_thread():
    main_before = tg.get_backend()
    inside: list[str] = []
    ready, done = threading.Event(), threading.Event()

    def other() -> None:
        with tg.backend("numpy"):
            inside.append(tg.get_backend())
            ready.set()
            done.wait(5)

    t = threading.Thread(target=other)
    t.start()
    ready.wait(5)
    assert tg.get_backend() == main_before  # the other thread's block did not leak here
    done.set()
    t.join()
    assert inside == ["numpy"]


def test_concurrent_c_matmuls_are_correct():
    c = tg.backends.load("c")
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal((129, 200)), rng.standard_normal((200, 65))) for _ in range(4)]
    pairs = [(a.astype(np.float32), b.astype(np.float32)) for a, b in pairs]
    out: list = [None] * len(pairs)

    def work(i: int) -> None:
        for _ in range(20):
            out[i] = c.matmul(*pairs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (a, b), got in zip(pairs, out):
        ref = a.astype(np.float64) @ b
        assert np.max(np.abs(got - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_switching_the_isa_while_other_threads_compute_keeps_results_right():
    """The ISA is one process-wide setting (csrc/isa.c) that every kernel reads at each call:
    switching it from one thread while others run kernels must give each call a valid path,
    never a wrong result."""
    from tinygrad_mnist.backends import c_backend

    c = tg.backends.load("c")
    isas = c_backend.available_isas()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    w = rng.standard_normal((300, 40)).astype(np.float32)
    want_relu = np.maximum(x, 0)
    want_mm = x.astype(np.float64) @ w
    errors: list[str] = []
    stop = threading.Event()

    def compute() -> None:
        for _ in range(200):
            if not np.array_equal(c.relu(x), want_relu):
                errors.append("relu")
            got = c.matmul(x, w)
            if np.max(np.abs(got - want_mm)) > 1e-5 * np.max(np.abs(want_mm)):
                errors.append("matmul")

    def switch() -> None:
        i = 0
        while not stop.is_set():
            c_backend.set_isa(isas[i % len(isas)])
            i += 1

    previous = c_backend.get_isa()
    workers = [threading.Thread(target=compute) for _ in range(2)]
    switcher = threading.Thread(target=switch)
    try:
        switcher.start()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    finally:
        stop.set()
        switcher.join()
        c_backend.set_isa(previous)
    assert errors == []
