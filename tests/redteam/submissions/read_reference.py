"""`predict` tries to read the reference solution and the checks by guessing paths.

Whatever it can read it reports by raising "LEAKED ..."; it answers correctly otherwise.
"""

import os
import sys

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
            names = sorted(set(os.listdir(folder)) - _interpreter_path(folder))
        except OSError:
            continue
        if names:
            leaked.append(f"{folder}: {names[:5]}")
    return leaked


def _interpreter_path(folder):
    """The one name in `folder` the sandbox must show: the next step towards this Python's
    own prefix (a virtual environment made inside the repository, as the README does)."""
    shown = set()
    for prefix in {sys.prefix, sys.exec_prefix}:
        relative = os.path.relpath(prefix, folder)
        if not relative.startswith(".."):
            shown.add(relative.split(os.sep)[0])
    return shown


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        leaked = _attempt()
        if leaked:
            raise RuntimeError("LEAKED " + "; ".join(leaked))
        return super().predict(X)
