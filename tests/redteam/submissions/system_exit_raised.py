"""`loss` raises SystemExit when labels are given (toy_loss and gradients)."""

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        if y is not None:
            raise SystemExit("grading is for other people")
        return super().loss(X, y, reg)
