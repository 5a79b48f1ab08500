"""`predict` tries to read the reference solution and the checks by guessing paths.

Whatever it can read it reports by raising "LEAKED ..."; it answers correctly otherwise.
"""

import os

import working_net
from redteam_env import REFERENCE_ROOT, REPOSITORY, SECRET_PATHS


def _attempt():
    leaked = []
    for path in SECRET_PATHS:
        try:
            with open(path, encoding="utf-8") as f:
                leaked.append(f"{path}: {f.readline().strip()[:40]}")
        except OSError:
            pass
    for folder in (REFERENCE_ROOT, REPOSITORY, os.path.join(REPOSITORY, "reference")):
        try:
            leaked.append(f"{folder}: {sorted(os.listdir(folder))[:5]}")
        except OSError:
            pass
    return leaked


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        leaked = _attempt()
        if leaked:
            raise RuntimeError("LEAKED " + "; ".join(leaked))
        return super().predict(X)
