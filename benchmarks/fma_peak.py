"""The float32 FMA peak of one core, measured now, and a training step's fraction of it.

fma_peak.c (beside this file) runs independent FMA chains with the instruction set our GEMM
uses and returns the best of blocks of >= 0.5 ms. It is not part of the package: the first
call here compiles it with cffi into a temporary folder (about a second), with the C compiler
setuptools would use ($CC, else the one Python was built with). Without a compiler, the peak
is None and `why_no_peak()` says why in one line.

fraction of peak = training FLOPs / (median step time x peak x threads)
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
from typing import Any

from tinygrad_mnist import backends

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "fma_peak.c")
# The codes of tg_get_isa() (csrc/kernels.h), as the names fma_peak.c takes.
ISA_NAMES = {0: "generic", 1: "avx2", 2: "avx512", 3: "neon"}
_failure: list[str] = []  # why the probe could not be built, once it has been tried


@functools.lru_cache(maxsize=1)
def _probe() -> Any:
    """The compiled fma_peak.c (its cffi `lib`), or None when it cannot be built here."""
    try:
        from cffi import FFI
    except ImportError:
        _failure.append("cffi is not installed")
        return None
    builder = FFI()
    builder.cdef("double fma_peak_gflops_f32(const char *isa, double seconds);")
    with open(SOURCE, encoding="utf-8") as f:
        code = f.read()
    flags = [] if os.name == "nt" else ["-O2", "-std=c11"]  # never -ffast-math: see the .c
    builder.set_source("_fma_peak_probe", code, extra_compile_args=flags)
    tmp = tempfile.mkdtemp(prefix="fma_peak_")  # the loaded .so must outlive this call
    try:
        built = builder.compile(tmpdir=tmp, verbose=False)
    except Exception as e:  # cffi's VerificationError, a missing compiler (OSError), ...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        _failure.append(f"benchmarks/fma_peak.c could not be compiled (no C compiler?): {first}")
        return None
    spec = importlib.util.spec_from_file_location("_fma_peak_probe", built)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shutil.rmtree(tmp, ignore_errors=True)  # a loaded library stays mapped (POSIX)
    return module.lib


def why_no_peak() -> str | None:
    """One line saying why fma_peak() returned None, or None if it did not."""
    if "c" not in backends.available():
        return "no FMA peak: the C backend is not built (the peak is measured with its ISA)"
    return _failure[0] if _failure else None


def gemm_isa() -> str | None:
    """The instruction set our C GEMM runs with ("avx2", ...), None without the C backend."""
    if "c" not in backends.available():
        return None
    return ISA_NAMES.get(backends.load("c").lib.tg_get_isa(), "generic")


def fma_peak(seconds: float = 0.25) -> dict[str, Any] | None:
    """The float32 FMA peak of one core, measured now: {"gflops", "isa", "seconds"}.

    With the instruction set the C GEMM uses; None without the C backend or a C compiler.
    """
    isa = gemm_isa()
    if isa is None:
        return None
    lib = _probe()
    if lib is None:
        return None
    gflops = float(lib.fma_peak_gflops_f32(isa.encode(), seconds))
    if gflops < 0:  # the GEMM's ISA is one this build of the probe cannot run: the plain loop
        isa = "generic"
        gflops = float(lib.fma_peak_gflops_f32(b"generic", seconds))
    return {"gflops": gflops, "isa": isa, "seconds": seconds}


def fraction_of_peak(flops: float, step_ms: float, peak_gflops: float, threads: int = 1) -> float:
    """FLOPs / (step time x peak x threads): how much of the machine a step uses."""
    return flops / (step_ms * 1e-3 * peak_gflops * 1e9 * max(1, threads))
