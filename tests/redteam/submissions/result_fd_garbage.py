"""`predict` finds the grader's result pipe (scanning its open fds) and writes garbage."""

import os
import stat

import working_net


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
                os.write(fd, b"\x00\x00\x00\x10{not json at all!}" + b"\xff" * 64)
            except OSError:
                pass
        return super().predict(X)
