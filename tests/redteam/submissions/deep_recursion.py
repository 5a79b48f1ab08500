"""`predict` recurses 10,000 levels deep."""

import working_net


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        depth(10_000)
        return super().predict(X)
