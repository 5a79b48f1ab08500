"""`predict` returns a 104 MB array."""

import numpy as np
import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        return np.zeros(13_000_000, dtype=np.int64)
