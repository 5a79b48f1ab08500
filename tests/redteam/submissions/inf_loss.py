"""The loss overflows to +inf whenever labels are given (toy_loss and gradients)."""

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = super().loss(X, y, reg)
        if y is None:
            return result
        _, grads = result
        return float("inf"), grads
