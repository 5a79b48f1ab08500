"""`predict` forges the worker's final "done" frame on the result pipe, then hangs:
the grader must not take the forged frame for the end of the work."""

import os
import stat
import time

import working_net
from grader.wire import encode_frame


def _pipes():
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                yield fd
        except OSError:
            pass


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        for fd in list(_pipes()):
            try:
                os.write(fd, encode_frame({"type": "done"}))
            except OSError:
                pass
        time.sleep(3600)
