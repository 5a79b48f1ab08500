"""The worker: runs one submission's probes inside the sandbox. Untrusted side.

Started as `python -m grader.worker` by `grader.sandbox.runner`. It reads one JSON request from
stdin, limits itself, loads the submission, runs each requested probe and writes one
frame per event to the result fd (see `grader.sandbox.wire`):

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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from grader.sandbox.wire import WorkerLimits, WorkerRequest, encode_frame

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


class MissingDefinition(AttributeError):
    """A probe asked for a name the submission does not define."""


class SubmissionNamespace(SimpleNamespace):
    """What probes see as `nn`; a missing name says so in the student's terms."""

    def __getattr__(self, name: str) -> Any:
        raise MissingDefinition(f"the submission does not define {name!r}")


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


def _read_request() -> WorkerRequest:
    raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES)
    # Student code must not read our request (or block on a terminal): stdin is empty.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return WorkerRequest.from_json(json.loads(raw))


def _apply_limits(limits: WorkerLimits) -> None:
    table = {
        resource.RLIMIT_AS: limits.address_space,
        resource.RLIMIT_FSIZE: limits.file_size,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_NPROC: limits.processes,
    }
    for which, value in table.items():
        if value:
            resource.setrlimit(which, (value, value))
    if limits.cpu_seconds:
        soft = limits.cpu_seconds
        # The hard limit one second later: a student may ignore SIGXCPU, not SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _prepare_workdir(request: WorkerRequest) -> Path:
    source, work = Path(request.paths.submission_dir), Path(request.paths.work_dir)
    if source != work:
        # The submission is mounted read-only; students' code may write next to itself,
        # so it runs on a private copy in the sized /tmp.
        shutil.copytree(source, work, symlinks=False, dirs_exist_ok=True)
    data = Path(request.paths.data_dir)
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


class StudentCode:
    """Says which code filenames are the student's, and how to name them in messages:
    files under the work folder by their relative path, notebook cells as "nb.ipynb cell 5"."""

    def __init__(self, work: Path, cells: dict[str, str] | None = None) -> None:
        self.work = str(work)
        self.cells = cells or {}

    def label(self, filename: str) -> str | None:
        if filename in self.cells:
            return self.cells[filename]
        if "#cell" in filename and filename.startswith(self.work):
            notebook, cell = os.path.relpath(filename, self.work).rsplit("#cell", 1)
            return f"{notebook} cell {cell}"
        if filename.startswith(self.work + os.sep):
            return os.path.relpath(filename, self.work)
        return None

    def where(self, filename: str, line: int | None) -> str | None:
        label = self.label(filename)
        if label is None:
            return None
        return f"{label}, line {line}" if " cell " in label else f"{label}:{line}"


def describe_exception(exc: BaseException, code: StudentCode) -> dict[str, Any]:
    """Type, message and the student's own file:line (or cell), leaving our frames out."""
    where, line_text = None, ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        here = code.where(frame.f_code.co_filename, line)
        if here:
            where, line_text = here, _source_line(frame.f_code.co_filename, line)
    if isinstance(exc, SyntaxError) and exc.filename and code.label(str(exc.filename)):
        where = code.where(str(exc.filename), exc.lineno)
        line_text = (exc.text or "").strip()
    student_frames = [
        f"{code.where(f.filename, f.lineno)} in {f.name}"
        for f in traceback.extract_tb(exc.__traceback__)
        if code.label(f.filename)
    ]
    return {
        "type": type(exc).__name__,
        "message": _safe_str(exc)[:2000],
        "location": where,
        "code": line_text[:300],
        "trace": student_frames[-8:],
    }


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # a student's exception whose __str__ raises
        return f"<{type(exc).__name__} whose message cannot be shown>"


def _source_line(filename: str, line: int | None) -> str:
    # linecache knows files and, in a kernel, IPython's cells; notebook cells run in the
    # worker are not cached anywhere, so they show no line text.
    import linecache

    return linecache.getline(filename, line or 0).strip()


@contextlib.contextmanager
def _captured() -> Iterator[CappedText]:
    sink = CappedText()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield sink


def _as_values(returned: Any) -> dict[str, Any]:
    if type(returned) is dict:
        return {str(k): v for k, v in returned.items()}
    return {"value": returned}


def run_recorded(action: Callable[[], Any], code: StudentCode) -> tuple[dict[str, Any], Any]:
    """Run `action`, recording status, seconds, output and exception; never raises."""
    numpy_errors = np.geterr()
    start = time.perf_counter()
    record: dict[str, Any] = {"status": "ok"}
    returned: Any = None
    with _captured() as output:
        try:
            returned = action()
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the student raised them
            record = {"status": "error", "error": describe_exception(exc, code)}
    # A submission that sets np.seterr(all="raise") must not break the next probe.
    np.seterr(**numpy_errors)
    record["seconds"] = time.perf_counter() - start
    record["stdout"] = output.getvalue()
    return record, returned


# -- main ----------------------------------------------------------------------------


def load_submission(request: WorkerRequest, work: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The namespace the probes see (the student's module, or a notebook's definitions)
    and, for a notebook, how each cell went."""
    entry = work / request.entry
    # Imports next to the entry (`import gradient_check`) and from the submission's
    # root (`from cs231nHD import ...`) both resolve, as they do on the student's machine.
    for folder in {str(entry.parent), str(work)}:
        sys.path.insert(0, folder)
    if request.kind in ("notebook", "script"):
        from grader.worker.notebook import MAX_RECORDS, definitions_only

        namespace, records = definitions_only(entry, work)
        return namespace, [asdict(r) for r in records[:MAX_RECORDS]]
    return vars(_import_file(entry, entry.stem)), []


def run_checks(
    namespace: dict[str, Any], request: WorkerRequest, emit: Emitter, code: StudentCode, loaded: dict[str, Any]
) -> None:
    """Send `loaded`, then run every requested probe against `namespace`."""
    probes = {
        name: _import_file(Path(request.paths.probes_dir) / name, f"_grader_probes_{Path(name).stem}")
        for name in {c.file for c in request.checks}
    }
    missing = [n for n in request.names if loaded["status"] == "ok" and n not in namespace]
    emit.send({"type": "loaded", **loaded, "missing": missing})
    if loaded["status"] != "ok" or missing:
        return
    context = ProbeContext(seed=request.seed, data_dir=Path(request.paths.data_dir))
    view = SubmissionNamespace(**{n: v for n, v in list(namespace.items()) if not n.startswith("__")})
    for check in request.checks:
        emit.send({"type": "start", "check": check.name})
        probe = getattr(probes[check.file], check.probe)
        record, returned = run_recorded(lambda: probe(view, context), code)
        _send_result(emit, check.name, record, returned)
    emit.send({"type": "done"})


def _send_result(emit: Emitter, name: str, record: dict[str, Any], returned: Any) -> None:
    header = {"type": "result", "check": name, **record}
    try:
        frame_values = _as_values(returned) if record["status"] == "ok" else None
        emit.send(header, frame_values)
    except Exception as exc:  # a returned object whose conversion itself raised
        error = {
            "type": "UnsendableResult",
            "message": f"the probe's result could not be read as numbers: {type(exc).__name__}",
        }
        emit.send({**header, "status": "error", "error": error})


def serve_in_kernel(request_path: str, worker_pid: int) -> None:
    """Run the probes inside a notebook's kernel (see grader.worker.notebook.full_run)."""
    handoff = json.loads(Path(request_path).read_text())
    request = WorkerRequest.from_json(handoff["request"])
    # The kernel did not inherit the worker's result pipe; the same uid may reopen it.
    fd = os.open(f"/proc/{worker_pid}/fd/{request.result_fd}", os.O_WRONLY)
    shell = sys.modules["IPython"].get_ipython()
    counts = {int(k): v for k, v in handoff["counts"].items()}
    cells = {
        name: f"{handoff['notebook']} cell {counts[n]}"
        for name, n in shell.compile._filename_map.items()
        if n in counts
    }
    code = StudentCode(Path(request.paths.work_dir), cells)
    loaded = {"status": "ok", "seconds": 0.0, "stdout": "", "cells": handoff["cells"], "mode": handoff["mode"]}
    run_checks(shell.user_ns, request, Emitter(fd), code, loaded)


def main() -> None:
    request = _read_request()
    emit = Emitter(request.result_fd)
    _apply_limits(request.limits)
    work = _prepare_workdir(request)
    if request.kind == "notebook" and request.notebook_mode == "full":
        from grader.worker.notebook import full_run

        try:
            problem = full_run(
                work / request.entry, work, replace(request, paths=replace(request.paths, work_dir=str(work)))
            )
        except Exception as exc:  # an unreadable notebook, or a kernel that would not start
            problem = f"the notebook could not be run: {type(exc).__name__}: {exc}"
        if problem:
            emit.send(
                {
                    "type": "loaded",
                    "status": "error",
                    "mode": "notebook (full run)",
                    "error": {"type": "NotebookError", "message": problem},
                }
            )
        os._exit(0)
    code = StudentCode(work)
    record, loaded = run_recorded(lambda: load_submission(request, work), code)
    namespace, cells = loaded if record["status"] == "ok" else ({}, [])
    mode = {"notebook": "notebook (definitions only)", "script": "script (definitions only)"}.get(
        request.kind, "module"
    )
    run_checks(namespace, request, emit, code, {**record, "cells": cells, "mode": mode})
    # Skip the student's atexit handlers and buffered writers: nothing more is ours.
    os._exit(0)


if __name__ == "__main__":
    main()
