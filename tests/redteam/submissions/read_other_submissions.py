"""`predict` hunts for another student's submission (it knows a phrase in it).

It walks up from its own folder (where the job folders of a batch usually sit) and
through the usual temporary folders, reading every small .py file it finds.
"""

import glob
import os

import working_net
from redteam_env import BATCH_TMP, VICTIM_SECRET

SKIP = {".git", ".library", "node_modules", "proc", "sys", "dev", "usr", "lib"}


def _hunt(budget=20_000):
    here = os.getcwd()
    roots = [
        os.path.dirname(here),
        os.path.dirname(os.path.dirname(here)),
        os.path.dirname(os.path.dirname(os.path.dirname(here))),
    ]
    roots += sorted(glob.glob(f"{BATCH_TMP}/grader-*") + glob.glob("/tmp/grader-*"))
    roots += ["/tmp", "/var/tmp", "/work", "/root", "/home"]
    for root in roots:
        for folder, dirs, files in os.walk(root, onerror=lambda e: None):
            dirs[:] = [d for d in dirs if d not in SKIP]
            for name in files:
                budget -= 1
                if budget < 0:
                    return None
                path = os.path.join(folder, name)
                if not name.endswith(".py") or path.startswith(here):
                    continue
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        if VICTIM_SECRET in f.read(1 << 20):
                            return path
                except OSError:
                    pass
    return None


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        found = _hunt()
        if found:
            raise RuntimeError(f"LEAKED another student's submission: {found}")
        return super().predict(X)
