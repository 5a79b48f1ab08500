"""Shipped beside every red-team fixture: how an attack finds the worker's result pipe."""

import os
import stat


def result_pipes():  # type: ignore[no-untyped-def]  # shipped beside student code: Python 3 of any version
    """Every pipe this process holds beyond stdin/stdout/stderr (the result pipe among them)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                yield fd
        except OSError:
            pass
