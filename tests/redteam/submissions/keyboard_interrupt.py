"""`predict` raises KeyboardInterrupt, as if someone pressed Ctrl-C."""

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        raise KeyboardInterrupt
