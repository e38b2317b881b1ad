"""The array primitives every backend implements, with their shapes.

This is the contract between autograd (tensor.py, ops/) and the backends. NumPy's version,
numpy_backend.py, is the reference; c_backend.py calls the kernels of csrc/ and must agree
with it. All arrays are float32 or float64 (one dtype per call); labels are integers.

  matmul(a, b, trans_a, trans_b)          op(a) (M,K) @ op(b) (K,N) -> (M,N)
  linear(x, w, b, activation, slope)      act(x @ w.T + b): x (B,in) w (out,in) b (out,)|None
  linear_backward(x, w, y, dy, activation, slope, need_dx) -> (dx|None, dw, db)
  add, sub, mul, div(a, b)                NumPy broadcasting
  neg(a), pow(a, p), exp(a), log(a)       p a Python number
  sigmoid, tanh, relu, leaky_relu(a[, slope])
  sigmoid_backward(y, dy), tanh_backward(y, dy)        from the output y
  relu_backward(x, dy), leaky_relu_backward(x, dy, slope)
  sum(a, axis, keepdims)                  axis an int, a tuple or None (all)
  softmax(a), log_softmax(a)              over the last axis, max-shifted
  softmax_backward(y, dy), log_softmax_backward(y, dy)
  cross_entropy(logits (B,C), labels (B,)) -> (mean loss 0-d, dlogits (B,C))
  sgd_step(p, g, buf, lr, momentum, weight_decay, nesterov)              in place
  adam_step(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step)       in place
"""

PRIMITIVES = (
    "matmul",
    "linear",
    "linear_backward",
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "exp",
    "log",
    "sigmoid",
    "sigmoid_backward",
    "tanh",
    "tanh_backward",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "sum",
    "softmax",
    "softmax_backward",
    "log_softmax",
    "log_softmax_backward",
    "cross_entropy",
    "sgd_step",
    "adam_step",
)
