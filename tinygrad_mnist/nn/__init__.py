"""Neural-network building blocks, PyTorch-style: modules, layers, MLP, functional ops."""

from . import functional, init
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .sequential import MLP, Sequential

__all__ = [
    "MLP",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "MSELoss",
    "NLLLoss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
]
