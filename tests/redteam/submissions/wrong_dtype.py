"""Scores come back as complex numbers, predictions as strings."""

import numpy as np
import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = super().loss(X, y, reg)
        return result.astype(np.complex128) if y is None else result

    def predict(self, X):
        return np.argmax(working_net.TwoLayerNet.loss(self, X), axis=1).astype(str)
