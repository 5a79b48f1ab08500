"""An infinite loop inside `loss`, only when labels are given (toy_loss, gradients)."""

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        if y is not None:
            while True:
                pass
        return super().loss(X, y, reg)
