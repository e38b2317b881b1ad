"""Scalar autograd: one `Value` per number, compatible with micrograd's `Value`.

Every op computes its output and, right beside it, the *local* derivative of the output
with respect to each input (d out / d input). `backward()` then applies the chain rule in
one tight loop:  child.grad += local * node.grad.  Storing numbers instead of a closure
per node keeps each op readable and is faster than micrograd (benchmarks/bench_scalar.py).
"""

from __future__ import annotations

import math

Number = int | float


class Value:
    """A scalar, its gradient, and how it was computed (for backward and drawing)."""

    # __slots__: no per-node __dict__, so nodes are smaller and attribute access is faster.
    __slots__ = ("data", "grad", "_prev", "_op", "_local_grads", "label")

    def __init__(
        self,
        data: Number,
        _children: tuple[Value, ...] = (),
        _op: str = "",
        _local_grads: tuple[Number, ...] = (),
        label: str = "",
    ) -> None:
        self.data = data
        self.grad = 0
        self._prev = _children  # inputs of the op that made this node (empty for leaves)
        self._op = _op  # that op's name, for drawing and debugging: '+', '*', 'ReLU', ...
        self._local_grads = _local_grads  # d(self)/d(child), one per child in _prev
        self.label = label

    # --- binary ops: Python numbers on either side are wrapped as constant leaves --------

    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "+", (1, 1))

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __sub__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), "-", (1, -1))

    def __truediv__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = self.data / other.data
        # d(a/b)/da = 1/b ;  d(a/b)/db = -a/b^2 = -out/b
        return Value(out, (self, other), "/", (1 / other.data, -out / other.data))

    def __pow__(self, n: Number) -> Value:
        if not isinstance(n, (int, float)):
            raise TypeError(f"Value ** exponent needs an int or float exponent, got {type(n)}")
        out = self.data**n
        if isinstance(out, complex):  # e.g. (-8) ** (1/3): Python answers with a complex
            raise ValueError(f"{self.data} ** {n} is not a real number")
        local = n * self.data ** (n - 1) if n != 0 else 0  # x**0 is constant: slope 0
        return Value(out, (self,), f"**{n}", (local,))

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), "neg", (-1,))

    # number OP value: + and * commute; - and / need the operands in the original order.
    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return Value(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return Value(other) / self

    # --- unary functions ------------------------------------------------------------------

    def relu(self) -> Value:
        x = self.data
        return Value(x if x > 0 else 0, (self,), "ReLU", (1 if x > 0 else 0,))

    def leaky_relu(self, slope: float = 0.1) -> Value:
        # The course's LeakyReLU is max(slope*x, x): x for x > 0, slope*x otherwise.
        x = self.data
        return Value(x if x > 0 else slope * x, (self,), "LeakyReLU", (1 if x > 0 else slope,))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), "tanh", (1 - t * t,))

    def sigmoid(self) -> Value:
        x = self.data
        # Two algebraically equal forms, so exp never overflows for large |x|.
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
        return Value(s, (self,), "sigmoid", (s * (1 - s),))

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), "exp", (e,))

    def log(self) -> Value:
        x = self.data
        if x <= 0:
            raise ValueError(f"log is only defined for positive numbers, got {x}")
        return Value(math.log(x), (self,), "log", (1 / x,))

    # --- backward ---------------------------------------------------------------------------

    def _topological_order(self) -> list[Value]:
        """The non-leaf nodes reachable from self, each after all of its inputs.

        Depth-first search with an explicit stack instead of recursion, so a chain of
        100,000 nodes does not hit Python's recursion limit. When we expand a node we push
        it back with a None marker on top, then its children: by the time the marker is
        popped, all of those children have been emitted, so the node can follow them.
        Leaves are left out: they have no inputs to pass a gradient on to.
        """
        order: list[Value] = []
        visited: set[Value] = set()
        stack: list[Value | None] = [self]
        while stack:
            node = stack.pop()
            if node is None:  # marker: the node below it has all its inputs emitted
                order.append(stack.pop())
            elif node not in visited:
                visited.add(node)
                if node._prev:
                    stack.append(node)
                    stack.append(None)
                    stack.extend(node._prev)  # visited children are skipped when popped
        return order

    def backward(self) -> None:
        """Fill `.grad` of every node in the graph with d(self)/d(node).

        Leaf gradients accumulate across calls (like micrograd and PyTorch): call
        zero_grad() on your parameters between steps. Inner nodes are reset first, so a
        second backward() does not count their old gradient twice.
        """
        order = self._topological_order()
        for node in order:
            node.grad = 0
        self.grad = 1
        # Outputs first, so each node has its full gradient before passing it on.
        for node in reversed(order):
            node._backward()

    def _backward(self) -> None:
        """One step of the chain rule: pass this node's gradient on to its inputs.

        += (not =) because an input used twice receives a contribution from each use.
        (micrograd keeps a closure here; calling it by hand, node by node, works the same.)
        """
        for child, local in zip(self._prev, self._local_grads):
            child.grad += local * self.grad

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"
