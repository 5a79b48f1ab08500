"""`predict` looks for the grading process in /proc (its parent, or any pytest): its
command line and its memory, where the expected values live. (The sandbox's own pid 1, bwrap, is skipped:
its command line names the job's host folders, which hold nothing secret.)"""

import os

import working_net


def _peek():
    leaked = []
    me = os.getpid()
    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        if not cmdline.startswith("bwrap"):
            leaked.append(f"parent {parent}: {cmdline[:60]}")
            with open(f"/proc/{parent}/mem", "rb"):
                leaked.append(f"parent {parent}: memory opened")
    except OSError:
        pass
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("bwrap"):
            continue
        if "pytest" in cmdline or "grader grade" in cmdline or "grader.course.batch" in cmdline:
            leaked.append(f"pid {entry}: {cmdline[:60]}")
            try:
                with open(f"/proc/{entry}/mem", "rb") as f:
                    leaked.append(f"pid {entry}: memory opened")
            except OSError:
                pass
    return leaked


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        leaked = _peek()
        if leaked:
            raise RuntimeError("LEAKED " + "; ".join(leaked))
        return super().predict(X)
