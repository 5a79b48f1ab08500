"""`predict` allocates 128 MiB arrays until something stops it."""

import numpy as np
import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        hog = []
        while True:
            hog.append(np.ones(1 << 24))  # touched, so really resident
