"""`predict` forges well-formed but hostile frames: a "start" for a check that does not
exist, a result whose check name is a list, and an array header claiming 80 GB."""

import os

import working_net
from pipe_tools import result_pipes

from grader.sandbox.wire import encode_frame

FORGERIES = [
    encode_frame({"type": "start", "check": "no_such_check"}),
    encode_frame({"type": "result", "check": ["predict"], "status": "ok"}),
    encode_frame({"type": "result", "check": "hidden_scores", "status": "ok", "seconds": 0.0}),
]


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        for fd in list(result_pipes()):
            for frame in FORGERIES:
                try:
                    os.write(fd, frame)
                except OSError:
                    pass
        return super().predict(X)
