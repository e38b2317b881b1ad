"""Only what setuptools cannot declare in pyproject.toml: the cffi-built C kernels."""

from setuptools import setup

setup(cffi_modules=["tinygrad_mnist/backends/build_kernels.py:ffibuilder"])
