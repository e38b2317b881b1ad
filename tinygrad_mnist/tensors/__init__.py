"""The Tensor tier's array type, in parts: tensor.py (the class), inplace.py (in-place methods
and the version rule), indexing.py, joining.py (cat, stack). Import Tensor from the package
root: `from tinygrad_mnist import Tensor`."""
