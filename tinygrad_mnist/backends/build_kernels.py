"""cffi build script for the C kernels in csrc/ (API mode, compiled at `pip install .`).

The declarations cffi needs are read from csrc/kernels.h: every line of that header that is
not a preprocessor line is plain C that cffi's parser understands. Each kernel source file in
csrc/ is compiled into one extension module, `tinygrad_mnist._kernels`.

Environment knobs (read at build time):
  TINYGRAD_SANITIZE=1   build with -fsanitize=address,undefined (see docs/reliability.md)
  TINYGRAD_NO_OPENMP=1  do not probe for OpenMP
"""

from __future__ import annotations

import os
import subprocess
import sys
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


def _has_openmp(cc: str = "cc") -> bool:
    """Probe: does the C compiler accept -fopenmp and link a tiny OpenMP program?"""
    if os.environ.get("TINYGRAD_NO_OPENMP") or sys.platform == "win32":
        return False
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "probe.c")
        with open(c, "w") as f:
            f.write(src)
        try:
            r = subprocess.run(
                [os.environ.get("CC", cc), "-fopenmp", c, "-o", os.path.join(d, "probe")],
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return r.returncode == 0


def _flags() -> tuple[list[str], list[str]]:
    # -fno-math-errno: sqrt/exp need not set errno (we never read it), so loops vectorize;
    # unlike -ffast-math it changes no result.
    compile_args = [
        "-O3",
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-fno-strict-aliasing",
        "-fno-math-errno",
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


ffibuilder = FFI()
ffibuilder.cdef(_cdef_text())
_compile, _link = _flags()
ffibuilder.set_source(
    "tinygrad_mnist._kernels",
    '#include "kernels.h"\n',
    sources=[_rel(p) for p in sorted(glob(os.path.join(CSRC, "**", "*.c"), recursive=True))],
    include_dirs=[_rel(CSRC)],
    extra_compile_args=_compile,
    extra_link_args=_link,
)

if __name__ == "__main__":
    # Development build: writes tinygrad_mnist/_kernels*.so into the source tree.
    ffibuilder.compile(tmpdir=ROOT, verbose=True)
