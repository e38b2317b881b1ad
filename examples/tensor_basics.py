"""The course's tensor tour: shapes, reshaping, joining, reducing, and two activations.

Run: python examples/tensor_basics.py
"""

import numpy as np

from tinygrad_mnist import Tensor, cat

np.set_printoptions(precision=3, suppress=True)


def show(title: str, t: Tensor) -> None:
    print(f"{title:<28} shape {str(t.shape):<10} {t.data.astype(float).round(3).tolist()}")


# Tensors of rank 0 to 3
show("scalar", Tensor(3.0))
show("vector", Tensor([1.0, 2.0, 3.0]))
m = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
show("matrix", m)
cube = Tensor(np.arange(12.0).reshape(2, 2, 3))
show("3-D tensor", cube)

# Changing the shape: the same 9 numbers, laid out differently
show("m.flatten()", m.flatten())
show("m.reshape(1, 9)", m.reshape(1, 9))
show("m.transpose(0, 1)", m.transpose(0, 1))
show("cube.flatten(start_dim=1)", cube.flatten(start_dim=1))

# Joining: cat along columns needs the same number of rows
col = Tensor([[10.0], [20.0], [30.0]])
show("cat([m, col], dim=1)", cat([m, col], dim=1))
show("cat([m, m], dim=0)", cat([m, m], dim=0))

# Reducing: dim=0 sums down the columns, dim=1 across each row
show("m.sum()", m.sum())
show("m.sum(dim=0)", m.sum(dim=0))
show("m.sum(dim=1)", m.sum(dim=1))
show("m.mean()", m.mean())
show("m.mean(dim=1)", m.mean(dim=1))

# Activations
z = Tensor([[-2.0, 0.0, 2.0], [1.0, 2.0, 3.0]])
show("z.sigmoid()", z.sigmoid())
# softmax(dim=0): each column sums to 1; softmax(dim=1): each row sums to 1
show("z.softmax(dim=0)", z.softmax(dim=0))
show("z.softmax(dim=0).sum(dim=0)", z.softmax(dim=0).sum(dim=0))
show("z.softmax(dim=1)", z.softmax(dim=1))
show("z.softmax(dim=1).sum(dim=1)", z.softmax(dim=1).sum(dim=1))
