"""Scores come back transposed: (C, N) instead of (N, C)."""

import numpy as np
import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = super().loss(X, y, reg)
        return result.T if y is None else result

    def predict(self, X):
        return np.argmax(super().loss(X), axis=1)
