"""`predict` forges the worker's final "done" frame on the result pipe, then hangs:
the grader must not take the forged frame for the end of the work."""

import os
import time

import working_net
from pipe_tools import result_pipes

from grader.sandbox.wire import encode_frame


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        for fd in list(result_pipes()):
            try:
                os.write(fd, encode_frame({"type": "done"}))
            except OSError:
                pass
        time.sleep(3600)
