"""The worker: runs one submission's probes inside the sandbox. Untrusted side.

Started as `python -m grader.worker` by `sandbox.py`. It reads one JSON request from
stdin, limits itself, loads the submission, runs each requested probe and writes one
frame per event to the result fd (see `wire.py`):

    loaded  the submission imported (or why not), which graded names are missing
    start   a check's probe is about to run (the grader times it from here)
    result  what the probe returned (arrays), or the exception it raised
    done    every requested check ran

It records, never judges: no expected value, threshold or label is ever sent here, and
anything it sends is validated by the grader. It imports as little as it can because
start-up is paid per submission.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import resource
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from grader.wire import encode_frame

MAX_REQUEST_BYTES = 1 << 20
OUTPUT_EXCERPT = 4000


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What a probe gets beside the submission: the batch seed and the data folder."""

    seed: int
    data_dir: Path

    def rng(self, salt: int = 0) -> np.random.Generator:
        """A generator for hidden inputs, drawn from the batch seed."""
        return np.random.default_rng([self.seed, salt])


class CappedText(io.TextIOBase):
    """A text sink that keeps the head and the tail of what is written (the middle is
    dropped), so 100 MB of prints cost a few KB."""

    def __init__(self, limit: int = OUTPUT_EXCERPT) -> None:
        self._limit = limit
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self._dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self._limit // 2 - self._head_len
        if room > 0:
            self._head.append(text[:room])
            self._head_len += len(text[:room])
            text = text[room:]
        if text:
            joined = self._tail + text
            self._dropped += max(0, len(joined) - self._limit // 2)
            self._tail = joined[-(self._limit // 2) :]
        return len(text)

    def getvalue(self) -> str:
        middle = f"\n[... {self._dropped} characters of output dropped ...]\n" if self._dropped else ""
        return "".join(self._head) + middle + self._tail


class Emitter:
    """Writes frames to the result fd."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, header: dict[str, Any], values: dict[str, Any] | None = None) -> None:
        data = memoryview(encode_frame(header, values))
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


# -- set-up --------------------------------------------------------------------------


def _read_request() -> dict[str, Any]:
    raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES)
    # Student code must not read our request (or block on a terminal): stdin is empty.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    request: dict[str, Any] = json.loads(raw)
    return request


def _apply_limits(limits: dict[str, int | None]) -> None:
    table = {
        "address_space": resource.RLIMIT_AS,
        "file_size": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
        "processes": resource.RLIMIT_NPROC,
    }
    for key, which in table.items():
        value = limits.get(key)
        if value:
            resource.setrlimit(which, (value, value))
    if limits.get("cpu_seconds"):
        soft = int(limits["cpu_seconds"] or 0)
        # The hard limit one second later: a student may ignore SIGXCPU, not SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _prepare_workdir(request: dict[str, Any]) -> Path:
    source, work = Path(request["submission_dir"]), Path(request["work_dir"])
    if source != work:
        # The submission is mounted read-only; students' code may write next to itself,
        # so it runs on a private copy in the sized /tmp.
        shutil.copytree(source, work, symlinks=False, dirs_exist_ok=True)
    data = Path(request["data_dir"])
    if data.is_dir():
        for item in data.iterdir():
            target = work / item.name
            if not target.exists():
                target.symlink_to(item)
    os.chdir(work)
    return work


def _import_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# -- recording what happened ---------------------------------------------------------


def describe_exception(exc: BaseException, work: Path) -> dict[str, Any]:
    """Type, message and the student's own file:line, leaving our frames out."""
    where, code = None, ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith(str(work)):
            where = f"{os.path.relpath(filename, work)}:{line}"
            code = _source_line(Path(filename), line)
    if isinstance(exc, SyntaxError) and exc.filename and str(exc.filename).startswith(str(work)):
        where = f"{os.path.relpath(exc.filename, work)}:{exc.lineno}"
        code = (exc.text or "").strip()
    student_frames = [
        f"{os.path.relpath(f.filename, work)}:{f.lineno} in {f.name}"
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith(str(work))
    ]
    return {
        "type": type(exc).__name__,
        "message": _safe_str(exc)[:2000],
        "location": where,
        "code": code[:300],
        "trace": student_frames[-8:],
    }


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # a student's exception whose __str__ raises
        return f"<{type(exc).__name__} whose message cannot be shown>"


def _source_line(path: Path, line: int) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""


@contextlib.contextmanager
def _captured() -> Iterator[CappedText]:
    sink = CappedText()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield sink


def _as_values(returned: Any) -> dict[str, Any]:
    if type(returned) is dict:
        return {str(k): v for k, v in returned.items()}
    return {"value": returned}


def run_recorded(action: Callable[[], Any], work: Path) -> tuple[dict[str, Any], Any]:
    """Run `action`, recording status, seconds, output and exception; never raises."""
    numpy_errors = np.geterr()
    start = time.perf_counter()
    record: dict[str, Any] = {"status": "ok"}
    returned: Any = None
    with _captured() as output:
        try:
            returned = action()
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the student raised them
            record = {"status": "error", "error": describe_exception(exc, work)}
    # A submission that sets np.seterr(all="raise") must not break the next probe.
    np.seterr(**numpy_errors)
    record["seconds"] = time.perf_counter() - start
    record["stdout"] = output.getvalue()
    return record, returned


# -- main ----------------------------------------------------------------------------


def load_submission(request: dict[str, Any], work: Path) -> Any:
    """The namespace the probes see: the student's module."""
    entry = work / request["entry"]
    # Imports next to the entry (`import gradient_check`) and from the submission's
    # root (`from cs231nHD import ...`) both resolve, as they do on the student's machine.
    for folder in {str(entry.parent), str(work)}:
        sys.path.insert(0, folder)
    return _import_file(entry, entry.stem)


def main() -> None:
    request = _read_request()
    emit = Emitter(int(request["result_fd"]))
    _apply_limits(request.get("limits", {}))
    work = _prepare_workdir(request)
    probes = {
        name: _import_file(Path(request["probes_dir"]) / name, f"_grader_probes_{Path(name).stem}")
        for name in {c["file"] for c in request["checks"]}
    }
    numpy_errors = np.geterr()
    record, namespace = run_recorded(lambda: load_submission(request, work), work)
    missing = [n for n in request["names"] if record["status"] == "ok" and not hasattr(namespace, n)]
    emit.send({"type": "loaded", **record, "missing": missing})
    if record["status"] != "ok" or missing:
        os._exit(0)
    np.seterr(**numpy_errors)
    context = ProbeContext(seed=int(request["seed"]), data_dir=Path(request["data_dir"]))
    view = SimpleNamespace(**{n: getattr(namespace, n) for n in dir(namespace) if not n.startswith("__")})
    for check in request["checks"]:
        emit.send({"type": "start", "check": check["name"]})
        probe = getattr(probes[check["file"]], check["probe"])
        record, returned = run_recorded(lambda: probe(view, context), work)
        emit.send({"type": "result", "check": check["name"], **record}, _as_values(returned) if record["status"] == "ok" else None)
    emit.send({"type": "done"})
    # Skip the student's atexit handlers and buffered writers: nothing more is ours.
    os._exit(0)


if __name__ == "__main__":
    main()
