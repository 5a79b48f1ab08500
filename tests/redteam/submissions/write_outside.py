"""`predict` tries to write outside its folder: the output folder (a forged results.jsonl
in place of the real one), the home folder, the host's /tmp and /dev/shm, the reference
folder, the repository, and the batch's other folders (job folders, unpacked
submissions, data: they sit in a grader-* folder of the host's temporary folder). It
answers correctly either way, since the test looks for the files on the host; a write
into the batch's folders, which exist only on the host, it reports as "ESCAPED ..."."""

import glob
import json
import os

import working_net
from redteam_env import BATCH_TMP, MARKER, RESULTS_JSONL, WRITE_TARGETS

FORGED = json.dumps({"submission": "write_outside", "score": 100.0, "status": "graded"})


def _try(path, text, mode="w"):
    try:
        with open(path, mode, encoding="utf-8") as f:
            f.write(text)
        return [path]
    except OSError:
        return []


def _attempt():
    for path in WRITE_TARGETS:
        print("wrote" if _try(path, MARKER) else "could not write", path)
    # replace the gradebook's results.jsonl with a forged one (the grader keeps writing
    # to the old, now unlinked, file)
    if _try(RESULTS_JSONL + ".forged", FORGED + "\n"):
        try:
            os.replace(RESULTS_JSONL + ".forged", RESULTS_JSONL)
        except OSError:
            pass
    planted = []
    for folder in glob.glob(f"{BATCH_TMP}/grader-*/*") + glob.glob(f"{BATCH_TMP}/grader-*/unpacked/*"):
        planted += _try(os.path.join(folder, f"{MARKER}-planted.py"), "print('planted')")
    return planted


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        planted = _attempt()
        if planted:
            raise RuntimeError("ESCAPED planted files in the batch's folders: " + ", ".join(planted[:3]))
        return super().predict(X)
