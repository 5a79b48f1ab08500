"""`predict` forges a result frame whose array header claims 100000 x 100000 float64
(80 GB) and sends only a few bytes of it."""

import json
import os
import struct
import time

import working_net
from pipe_tools import result_pipes

HEADER = json.dumps(
    {
        "type": "result",
        "check": "predict",
        "status": "ok",
        "seconds": 0.0,
        "arrays": [{"name": "value", "dtype": "float64", "shape": [100000, 100000], "nbytes": 80_000_000_000}],
    }
).encode()


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        for fd in list(result_pipes()):
            try:
                os.write(fd, struct.pack(">I", len(HEADER)) + HEADER + b"\0" * 64)
            except OSError:
                pass
        time.sleep(3600)
