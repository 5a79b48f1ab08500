"""The gradients dict has no entry for b1."""

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = super().loss(X, y, reg)
        if y is None:
            return result
        loss, grads = result
        del grads["b1"]
        return loss, grads
