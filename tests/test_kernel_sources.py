"""What the student reads is what runs: kernels grep can find, each derivative defined once."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

CSRC = REPO / "csrc"
KERNEL_FILES = sorted(CSRC.glob("*.c"))  # csrc/gemm/ is the GEMM engine, not kernels.h's list


def _declared() -> list[str]:
    return re.findall(r"^\w[\w ]*?\b(tg_\w+)\(", (CSRC / "kernels.h").read_text(), re.M)


def test_every_declared_kernel_has_a_definition_grep_finds():
    # `grep -n "tg_sigmoid_f32(" csrc/*.c` must land on the function itself, not on a macro
    # that builds the name.
    sources = {p.name: p.read_text() for p in KERNEL_FILES + sorted((CSRC / "gemm").glob("*.c"))}
    declared = _declared()
    assert "tg_sigmoid_f32" in declared and len(declared) > 60
    for name in declared:
        pattern = re.compile(rf"^(?:int64_t|int|void|double) {name}\(", re.M)
        found = [f for f, text in sources.items() if pattern.search(text)]
        assert len(found) == 1, f"{name}: defined in {found or 'no file'}"
    for path in KERNEL_FILES:
        assert "##" not in path.read_text(), f"{path.name} pastes names together with ##"


def test_each_activation_derivative_is_written_once_in_c():
    math_h = (CSRC / "activation_math.h").read_text()
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        for suffix in ("f32", "f64"):  # one function per type, both in activation_math.h
            assert len(re.findall(rf"static inline \w+ {name}_backward_{suffix}\(", math_h)) == 1
    # the kernels that apply them (standalone and fused) call them instead of re-deriving
    for path in (CSRC / "activations.c", CSRC / "linear.c"):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)  # the code, no comments
        assert "(1 - y" not in text and "1 - y *" not in text, path.name
        assert "sigmoid_backward_f32(" in text and "sigmoid_f32(" in text


def test_sigmoid_derivative_is_written_once_in_the_numpy_backend():
    text = (REPO / "tinygrad_mnist" / "backends" / "numpy_backend.py").read_text()
    code = "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith(('"""', "#")))
    assert len(re.findall(r"y \* \(1 - y\)", code)) == 1


def test_activation_codes_are_one_enum_shared_by_c_and_python():
    c_backend = pytest.importorskip("tinygrad_mnist.backends.c_backend")
    from tinygrad_mnist._kernels import lib

    from tinygrad_mnist.backends.interface import ACTIVATIONS
    from tinygrad_mnist.nn import functional as F
    from tinygrad_mnist.nn.activation import ACTIVATION_LAYERS

    assert F.ACTIVATIONS is ACTIVATIONS
    assert set(ACTIVATION_LAYERS) == set(ACTIVATIONS) - {"none"}
    codes = {name: getattr(lib, f"TG_ACT_{name.upper()}") for name in ACTIVATIONS}
    assert c_backend._ACTIVATION_CODES == codes
    assert sorted(codes.values()) == list(range(len(ACTIVATIONS)))
    assert "case 2" not in (CSRC / "linear.c").read_text()  # no bare codes
