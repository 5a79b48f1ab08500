"""`predict` leaves a daemon behind (double fork + setsid + exec), then answers correctly.

The daemon carries the run's marker on its command line (the test looks for it in
/proc) and keeps trying to write a file into the host's /tmp.
"""

import os
import sys
import time

import working_net
from redteam_env import DAEMON_TARGET, MARKER

STARTED = os.path.abspath("daemon-started")
DAEMON = """
import sys, time
open(sys.argv[3], "w").close()  # tell the worker it is running
while True:
    try:
        with open(sys.argv[2], "a") as f:
            f.write("the daemon is alive\\n")
    except OSError:
        pass
    time.sleep(0.5)
"""


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        child = os.fork()
        if child == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", DAEMON, MARKER, DAEMON_TARGET, STARTED])
            os._exit(0)
        os.waitpid(child, 0)
        for _ in range(100):  # until the daemon runs (at most 5 s)
            if os.path.exists(STARTED):
                break
            time.sleep(0.05)
        return super().predict(X)
