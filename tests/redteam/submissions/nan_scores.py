"""One NaN in the toy model's scores (the handout's 5x4 toy data only)."""

import numpy as np
import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = super().loss(X, y, reg)
        if y is None and X.shape == (5, 4):
            result = result.copy()
            result[2, 1] = np.nan
        return result
