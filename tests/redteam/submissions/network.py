"""`predict` tries to reach the host's 127.0.0.1 listener (and the outside world)."""

import socket

import working_net
from redteam_env import PORT


def _attempt():
    reached = []
    for host in ("127.0.0.1", "localhost"):
        try:
            with socket.create_connection((host, PORT), timeout=1):
                reached.append(f"{host}:{PORT}")
        except OSError:
            pass
    try:
        with socket.create_connection(("1.1.1.1", 53), timeout=1):
            reached.append("1.1.1.1:53")
    except OSError:
        pass
    return reached


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        reached = _attempt()
        if reached:
            raise RuntimeError("ESCAPED connected to " + ", ".join(reached))
        return super().predict(X)
