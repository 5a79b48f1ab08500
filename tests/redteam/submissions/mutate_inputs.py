"""`loss` answers correctly, then overwrites the inputs it was given (X and y) in place."""

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = super().loss(X, y, reg)
        X[...] = 0.0
        if y is not None:
            y[...] = 0
        return result
