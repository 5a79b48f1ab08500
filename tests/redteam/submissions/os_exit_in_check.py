"""`os._exit(0)` inside `predict`: the worker dies in the middle of a check."""

import os

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        os._exit(0)
