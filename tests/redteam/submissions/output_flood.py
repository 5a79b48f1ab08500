"""`predict` writes 100 MB of output (print, sys.stderr and the raw fd 1), then answers."""

import os
import sys

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        line = "spam " * 200_000  # 1 MB
        for _ in range(30):
            print(line)
            print(line, file=sys.stderr)
        raw = line.encode()
        for _ in range(40):
            os.write(1, raw)
        return super().predict(X)
