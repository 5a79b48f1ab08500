"""`predict` writes 32 MB files everywhere it might be allowed to (the sandbox's root,
the home folder, a hidden data folder, its own folder, /tmp, /dev/shm) until each place
refuses, at most 256 MB per place. More than 400 MB in all means it found storage outside
the sized /tmp and /dev/shm: it says so by raising "ESCAPED ..."; else it answers."""

import importlib.util
import os

import working_net
from redteam_env import MARKER

CHUNK = b"\1" * (32 << 20)


def _places():
    places = ["/", os.path.expanduser("~"), "/root", "/run", "/var/tmp", os.getcwd(), "/tmp", "/dev/shm"]
    spec = importlib.util.find_spec("sklearn")
    if spec and spec.origin:
        places.append(os.path.join(os.path.dirname(spec.origin), "datasets", "data"))
    return places


def _fill(folder):
    written = 0
    for i in range(8):
        try:
            with open(os.path.join(folder, f"{MARKER}-bomb-{i}"), "wb") as f:
                f.write(CHUNK)
            written += len(CHUNK)
        except OSError:
            break
    return written


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        total = 0
        for place in _places():
            written = _fill(place)
            print(place, written >> 20, "MB")
            total += written
        if total > 400 << 20:
            raise RuntimeError(f"ESCAPED wrote {total >> 20} MB")
        return super().predict(X)
