"""Every TINYGRAD_* environment variable that the package, its build, the benchmarks or the
tests read is documented in README's table, and the table names none that nothing reads."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = re.compile(r"TINYGRAD_[A-Z0-9_]*[A-Z0-9]")
HEADER_GUARD = re.compile(r"TINYGRAD_(MNIST_)?\w+_H$")


def read_by_code() -> set[str]:
    files = [REPO / "setup.py", *REPO.glob("tinygrad_mnist/**/*.py"), *REPO.glob("csrc/**/*.[ch]")]
    files += [*REPO.glob("benchmarks/*.py"), *REPO.glob("tests/*.py")]
    names: set[str] = set()
    for f in files:
        if f.name == Path(__file__).name:
            continue
        names |= {
            n for n in NAME.findall(f.read_text(encoding="utf-8")) if not HEADER_GUARD.match(n)
        }
    return names


def documented() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Environment variables") : text.index("## Development")]
    names = set(NAME.findall(table))
    # `TINYGRAD_GEMM_KC`, `_MC`, `_NC`, `_DIRECT_KC` share one row
    names |= {f"TINYGRAD_GEMM_{s}" for s in re.findall(r"`_([A-Z_]+)`", table)}
    return names


def test_every_variable_read_is_documented():
    assert read_by_code() - documented() == set()


def test_the_table_names_only_variables_that_are_read():
    assert documented() - read_by_code() == set()
