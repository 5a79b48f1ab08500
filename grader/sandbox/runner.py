"""Start a worker for one submission, isolated, and collect what it sends back.

Two backends (bubblewrap, or resource limits only: see `grader.sandbox.isolation`) behind one
function, `run_worker`. Both add, when root can create them, per-worker cgroups
(`cgroups.py`), and both kill every process of the worker at the end. The result pipe and the output pipe are read with a selector
loop and deadlines: nothing here blocks on a pipe a student's daemon could hold open.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Literal

from grader.errors import SandboxError
from grader.sandbox.cgroups import Cgroup
from grader.sandbox.isolation import (
    Isolation,
    request_paths,
    self_limits,
    worker_command,
)
from grader.sandbox.layout import JobLayout
from grader.sandbox.limits import Limits, MiB
from grader.sandbox.wire import Frame, FrameReader, Invalid, ProtocolError, WorkerRequest
from grader.text import valid_strings, valid_text

__all__ = ["EndReason", "WorkerOutcome", "run_worker"]

EndReason = Literal["done", "exited", "timeout", "protocol", "cpu", "memory", "signal"]


@dataclass(slots=True)
class WorkerOutcome:
    """What one worker process did: the frames it sent and how it ended."""

    frames: list[Frame] = field(default_factory=list)
    end: EndReason = "done"
    detail: str = ""
    # the check that was running when the worker ended (None: loading, or between checks)
    running: str | None = None
    output: str = ""


# -- running ---------------------------------------------------------------------------

# `read` takes stdin one byte at a time up to the newline, leaving the request to the worker.
_LAUNCHER = 'read -r go && exec "$@"'


def run_worker(
    layout: JobLayout,
    request: WorkerRequest,
    isolation: Isolation,
    limits: Limits,
    check_timeout: Callable[[str], float],
    deadline: float,
) -> WorkerOutcome:
    """Run one worker over `request` and return what it sent and how it ended.

    `check_timeout(name)` gives each check's wall-clock budget from its `start` frame;
    loading gets `limits.load_timeout`; nothing runs past `deadline` (time.monotonic()).
    The worker and every process it started are dead when this returns.
    """
    argv, env = worker_command(layout, limits, isolation)
    # The worker must be in its cgroups before it can fork: bwrap forks the sandboxed
    # process as soon as it starts, and a child forked before `cgroup.add` escapes the pids
    # and memory limits (and `kill_all`). So a tiny shell waits for a go line on stdin,
    # written once the cgroups hold its pid, then execs the real command (same pid).
    program, argv = argv[0], ["/bin/sh", "-c", _LAUNCHER, "grader-launcher", *argv]
    result_read, result_write = os.pipe()
    request = replace(
        request, paths=request_paths(layout, isolation), limits=self_limits(limits), result_fd=result_write
    )
    cgroup = Cgroup.create(limits) if isolation.cgroups else None
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(result_write,),
            start_new_session=True,
            env=env or None,
            cwd=str(layout.root),
        )
    except OSError as exc:
        os.close(result_read)
        os.close(result_write)
        if cgroup:
            cgroup.remove()
        raise SandboxError(f"cannot start the worker ({program}): {exc}") from exc
    os.close(result_write)
    outcome = WorkerOutcome()
    try:
        if cgroup:
            cgroup.add(proc.pid)  # before the go line: nothing has forked yet
        assert proc.stdin is not None and proc.stdout is not None
        with suppress(BrokenPipeError):
            proc.stdin.write(b"\n" + json.dumps(request.to_json()).encode())
            proc.stdin.close()
        names = [c.name for c in request.checks]
        _collect(proc, result_read, outcome, limits, check_timeout, deadline, names)
    finally:
        # Whatever happened above (even a fault of ours), nothing of this worker survives:
        # its processes, its pipe and its cgroups.
        try:
            _kill(proc, cgroup)
            os.close(result_read)
            _classify_exit(proc.returncode, outcome, cgroup)
        finally:
            if cgroup:
                cgroup.remove()
    return outcome


def _collect(
    proc: subprocess.Popen[bytes],
    result_fd: int,
    outcome: WorkerOutcome,
    limits: Limits,
    check_timeout: Callable[[str], float],
    deadline: float,
    names: list[str],
) -> None:
    assert proc.stdout is not None
    order = _FrameOrder(names)
    reader = FrameReader(max_frame_bytes=limits.results_mb * MiB, max_total_bytes=limits.results_mb * MiB)
    output = _HeadTail(limits.output_kb * 1024)
    selector = selectors.DefaultSelector()
    selector.register(result_fd, selectors.EVENT_READ, "results")
    selector.register(proc.stdout.fileno(), selectors.EVENT_READ, "output")
    stage_deadline = time.monotonic() + limits.load_timeout
    exited_at: float | None = None
    try:
        while selector.get_map():
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            # A daemon that inherited our pipes must not keep us waiting after the worker died.
            if exited_at is not None and now - exited_at > 0.5:
                break
            limit = min(stage_deadline, deadline)
            if now >= limit:
                outcome.end = "timeout"
                return
            for key, _ in selector.select(timeout=min(limit - now, 0.25)):
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fd)
                    continue
                if key.data == "output":
                    output.write(data)
                    continue
                error: ProtocolError | None = None
                try:
                    frames = [_valid_frame(f) for f in reader.feed(data)]
                except ProtocolError as exc:
                    # the frames before the violation are recorded, so it is charged to the right check
                    frames, error = [_valid_frame(f) for f in exc.frames], exc
                except Exception as exc:  # noqa: BLE001 - any decode failure is the worker's, never the batch's
                    outcome.end, outcome.detail = "protocol", f"undecodable result ({type(exc).__name__})"
                    return
                for frame in frames:
                    problem = order.check(frame, outcome.running)
                    if problem:
                        outcome.end, outcome.detail = "protocol", problem
                        return
                    outcome.frames.append(frame)
                    if frame.type == "start":
                        outcome.running = str(frame.header.get("check"))
                        stage_deadline = time.monotonic() + check_timeout(outcome.running)
                    elif frame.type == "result":
                        outcome.running = None
                    elif frame.type == "done":
                        outcome.end = "done"
                        return
                    elif frame.type == "loaded":
                        stage_deadline = deadline
                if error is not None:
                    outcome.end, outcome.detail = "protocol", str(error)
                    return
        outcome.end = "exited"
        if reader.pending:
            outcome.detail = "the worker stopped in the middle of sending a result"
    finally:
        selector.close()
        outcome.output = output.text()


def _valid_frame(frame: Frame) -> Frame:
    """The frame with every string of its header (messages, locations, output, cell
    records) and of its non-numeric descriptors made valid text: the one place where the
    worker's text enters the trusted side."""
    arrays = {
        valid_text(name): Invalid(valid_text(value.type_name), valid_text(value.note))
        if isinstance(value, Invalid)
        else value
        for name, value in frame.arrays.items()
    }
    return Frame(header=valid_strings(frame.header), arrays=arrays)


class _FrameOrder:
    """The order an honest worker sends frames in: `loaded`, then `start`/`result` for
    each requested check, one at a time, then `done`. Student code can write to the result
    pipe too, so anything else (an unknown or repeated check, a `done` before every
    result) is a protocol error, charged to the check that was running."""

    def __init__(self, names: list[str]) -> None:
        self.names = set(names)
        self.loaded = False
        self.started: set[str] = set()
        self.finished: set[str] = set()

    def check(self, frame: Frame, running: str | None) -> str | None:
        kind, name = frame.type, frame.header.get("check")
        if kind == "loaded":
            if self.loaded:
                return "a second 'loaded' frame"
            self.loaded = True
            return None
        if not self.loaded:
            return f"a {kind!r} frame before the submission was loaded"
        if kind == "start":
            if running is not None:
                return f"a check started while {running!r} was running"
            if not isinstance(name, str) or name not in self.names or name in self.started:
                return "a check was started that was not asked for"
            self.started.add(name)
            return None
        if kind == "result":
            if not isinstance(name, str) or name != running:
                return "a result for a check that was not running"
            self.finished.add(name)
            return None
        if kind == "done":
            if running is not None or self.finished != self.names:
                return "'done' before every check had its result"
            return None
        return f"an unknown frame type {kind[:40]!r}"


class _HeadTail:
    """Keeps the first and last halves of a byte stream up to a total size."""

    def __init__(self, limit: int) -> None:
        self.limit, self.head, self.tail, self.dropped = limit, bytearray(), bytearray(), 0

    def write(self, data: bytes) -> None:
        room = self.limit // 2 - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        if len(self.tail) > self.limit // 2:
            cut = len(self.tail) - self.limit // 2
            self.dropped += cut
            del self.tail[:cut]

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes of output dropped ...]\n".encode() if self.dropped else b""
        return bytes(self.head + middle + self.tail).decode("utf-8", errors="replace")


def _kill(proc: subprocess.Popen[bytes], cgroup: Cgroup | None) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if cgroup:
        cgroup.kill_all()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process stuck in the kernel
        proc.kill()
    if proc.stdout:
        proc.stdout.close()


def _classify_exit(returncode: int | None, outcome: WorkerOutcome, cgroup: Cgroup | None) -> None:
    """Normalise exit statuses (bwrap reports 128+N, Popen -N) into one reason."""
    if outcome.end != "exited" or returncode is None:
        return
    signum = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if cgroup is not None and cgroup.oom_killed():
        outcome.end, outcome.detail = "memory", "killed for using more memory than the sandbox allows"
    elif signum == signal.SIGXCPU:
        outcome.end, outcome.detail = "cpu", "killed at the CPU time limit"
    elif signum:
        outcome.end, outcome.detail = "signal", f"the worker was killed by {_signal_name(signum)}"
    else:
        outcome.detail = f"the worker exited (status {returncode}) before finishing"


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
