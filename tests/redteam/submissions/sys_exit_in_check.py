"""`sys.exit(0)` inside `predict`."""

import sys

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        sys.exit(0)
