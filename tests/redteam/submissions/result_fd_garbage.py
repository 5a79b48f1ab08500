"""`predict` finds the grader's result pipe (scanning its open fds) and writes garbage."""

import os

import working_net
from pipe_tools import result_pipes


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        for fd in list(result_pipes()):
            try:
                os.write(fd, b"\x00\x00\x00\x10{not json at all!}" + b"\xff" * 64)
            except OSError:
                pass
        return super().predict(X)
