"""cffi build script for the C kernels in csrc/ (API mode, compiled at `pip install .`).

The declarations cffi needs are read from csrc/kernels.h: every line of that header that is
not a preprocessor line is plain C that cffi's parser understands. Each kernel source file in
csrc/ is compiled into one extension module, `tinygrad_mnist._kernels`.

The same sources build with GCC and Clang on x86-64 and aarch64 (Linux and macOS): every kernel
is compiled for the baseline ISA plus, on x86-64, copies for AVX2 and AVX-512 (csrc/isa.h),
and picks one at run time (tg_get_isa, csrc/isa.c). OpenMP is
used when the compiler accepts -fopenmp (Apple's Clang does not: then the kernels run on one
thread). setup.py makes the whole build optional: if it fails, the package installs without
the kernels and runs on NumPy.

Environment knobs (read at build time):
  CC, LDSHARED          the compiler and the linker command, as for any setuptools build
  TINYGRAD_SANITIZE=1   build with -fsanitize=address,undefined (see docs/reliability.md)
  TINYGRAD_NO_OPENMP=1  do not probe for OpenMP
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from glob import glob

from cffi import FFI

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CSRC = os.path.join(ROOT, "csrc")


def _rel(path: str) -> str:
    """setuptools wants source paths relative to the project root when it can get them."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _cdef_text() -> str:
    with open(os.path.join(CSRC, "kernels.h"), encoding="utf-8") as f:
        lines = [ln for ln in f if not ln.lstrip().startswith("#")]
    return "".join(lines)


def _compiler() -> list[str]:
    """The compiler command setuptools will use: $CC, else the one Python was built with."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)


def _has_openmp() -> bool:
    """Probe: does the C compiler accept -fopenmp and link a tiny OpenMP program?
    (Apple's Clang does not; nor does a Clang without libomp. Then no OpenMP: one thread.)"""
    if os.environ.get("TINYGRAD_NO_OPENMP") or sys.platform == "win32":
        return False
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "probe.c")
        with open(c, "w") as f:
            f.write(src)
        try:
            r = subprocess.run(
                [
                    *_compiler(),
                    "-fopenmp",
                    c,
                    "-o",
                    os.path.join(d, "probe"),
                ],
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return r.returncode == 0


def _flags() -> tuple[list[str], list[str]]:
    if sys.platform == "win32":  # MSVC: C11 mode; no OpenMP, no GCC-style flags
        return ["/O2", "/std:c11"], []
    # -fno-math-errno: sqrt need not set errno (we never read it), so the optimizer's sqrt
    # loops vectorize; unlike -ffast-math it changes no result. (The expf, logf and powf loops
    # stay scalar calls: GCC vectorizes those only with a vector math library and -ffast-math.)
    # -fno-trapping-math: we never enable FP traps, so the compiler may compute both sides of
    # a select; without it `x > 0 ? x : x * s` (leaky_relu) stays a branch, mispredicted on
    # random signs, instead of a vectorized select. Only FP exception flags can differ.
    # -ffp-contract=off: a * b + c stays two roundings in the loops compiled for AVX2 and
    # AVX-512 (which have FMA), so every ISA path gives the results of the generic one and of
    # NumPy; GCC does this by default under -std=c11, Clang does not. (The GEMM uses FMA
    # explicitly, through intrinsics.)
    compile_args = [
        "-O3",
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-fno-strict-aliasing",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-ffp-contract=off",
    ]
    link_args: list[str] = []
    if _has_openmp():
        compile_args.append("-fopenmp")
        link_args.append("-fopenmp")
    if os.environ.get("TINYGRAD_SANITIZE"):
        san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
        compile_args = [a for a in compile_args if a != "-O3"] + ["-O1"] + san
        link_args += san
    return compile_args, link_args


def kernel_sources() -> list[str]:
    """Every C file of the kernels: csrc/*.c and csrc/gemm/*.c (csrc/tests/ is the C test
    program, built on its own by csrc/tests/run_c_tests.sh)."""
    paths = glob(os.path.join(CSRC, "*.c")) + glob(os.path.join(CSRC, "gemm", "*.c"))
    return sorted(paths)


def make_ffibuilder(relative_paths: bool = True) -> FFI:
    """The cffi builder of `tinygrad_mnist._kernels` (API mode)."""
    path = _rel if relative_paths else os.path.abspath
    builder = FFI()
    builder.cdef(_cdef_text())
    compile_args, link_args = _flags()
    builder.set_source(
        "tinygrad_mnist._kernels",
        '#include "kernels.h"\n',
        sources=[path(p) for p in kernel_sources()],
        include_dirs=[path(CSRC)],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    return builder


ffibuilder = make_ffibuilder()  # what setup.py's cffi_modules builds at `pip install .`

if __name__ == "__main__":
    # Development build: writes tinygrad_mnist/_kernels*.so into the source tree. It builds
    # in a temporary folder, so setuptools never reads this project's pyproject.toml (an old
    # setuptools outside the build's isolated environment may not understand it).
    with tempfile.TemporaryDirectory() as tmp:
        built = make_ffibuilder(relative_paths=False).compile(tmpdir=tmp, verbose=True)
        shutil.copy(built, os.path.join(ROOT, "tinygrad_mnist", os.path.basename(built)))
