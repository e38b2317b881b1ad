"""Only what setuptools cannot declare in pyproject.toml: the cffi-built C kernels.

The C kernels are optional. When they cannot be built (no C compiler, a compiler that fails,
an unsupported platform), the install still succeeds: it prints why, records the reason in
tinygrad_mnist/_kernels_not_built.txt, and the package runs on its NumPy backend, whose
import-time warning repeats the reason and how to get the kernels.
"""

from __future__ import annotations

import os
import sys
import traceback

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

REASON_FILE = "_kernels_not_built.txt"  # read by tinygrad_mnist/backends/__init__.py
HOW_TO_FIX = (
    "install a C compiler (gcc or clang; on macOS `xcode-select --install`, on Windows the "
    "Build Tools for Visual Studio) and reinstall with `pip install --force-reinstall "
    "--no-cache-dir .`"
)


class OptionalBuildExt(build_ext):
    """build_ext that turns a failed C build into a message instead of a failed install."""

    failed = False

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # the compiler may be missing before any extension starts
            self._record_failure(e)
        if not self.failed:
            self._record_success()

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
            return
        except Exception as e:
            if "-fopenmp" not in ext.extra_compile_args:
                self._record_failure(e)
                return
        # The OpenMP probe passed, yet the build with -fopenmp failed (the probe's compiler
        # may not be the one setuptools uses): OpenMP is optional, so try once without it.
        print(
            "tinygrad_mnist: the C build with OpenMP failed; building without it", file=sys.stderr
        )
        ext.extra_compile_args = [a for a in ext.extra_compile_args if a != "-fopenmp"]
        ext.extra_link_args = [a for a in ext.extra_link_args if a != "-fopenmp"]
        try:
            super().build_extension(ext)
        except Exception as e:
            self._record_failure(e)

    def _reason_path(self) -> str:
        root = "" if self.inplace else self.build_lib
        return os.path.join(root, "tinygrad_mnist", REASON_FILE)

    def _describe(self, error: BaseException) -> str:
        """One short phrase: which compiler failed, or what else went wrong."""
        compiler = getattr(getattr(self, "compiler", None), "compiler_so", None)
        if type(error).__name__ in ("CompileError", "LinkError", "DistutilsExecError") and compiler:
            return f"the C compiler `{compiler[0]}` failed: {type(error).__name__}"
        detail = " ".join(str(error).split())
        return f"{type(error).__name__}: {detail[:300]}" if detail else type(error).__name__

    def _record_failure(self, error: BaseException) -> None:
        self.failed = True
        reason = f"the C kernels were not built at install time ({self._describe(error)})"
        bar = "=" * 78
        print(
            f"\n{bar}\ntinygrad_mnist: {reason}.\nThe package is installed and runs on its NumPy "
            f"backend. To get the C kernels, {HOW_TO_FIX}.\n{bar}\n",
            file=sys.stderr,
        )
        if os.environ.get("TINYGRAD_BUILD_DEBUG"):
            traceback.print_exc()
        path = self._reason_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{reason}. To get them, {HOW_TO_FIX}.\n")

    def _record_success(self) -> None:
        try:
            os.remove(self._reason_path())
        except FileNotFoundError:
            pass


setup(
    cffi_modules=["tinygrad_mnist/backends/build_kernels.py:ffibuilder"],
    cmdclass={"build_ext": OptionalBuildExt},
)
