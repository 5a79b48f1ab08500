"""A busy loop in `predict` that ignores every signal it is allowed to ignore."""

import signal

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU, signal.SIGALRM):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            pass
