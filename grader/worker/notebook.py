"""Notebook submissions, on the worker's (untrusted) side.

Two ways to get the namespace the probes run against:

* definitions only (fast): the imports, functions, classes and literal constants of every
  code cell, executed in the worker's own process, cell by cell (a failing cell is
  recorded and the next one still runs); training loops and data loading are skipped.
* full run: the whole notebook executed by nbclient in a real Jupyter kernel (a child of
  the worker, inside the same sandbox), with a time budget per cell; failing cells are
  recorded and execution goes on. The probes then run *in the kernel*, against the
  notebook's own namespace: a last cell starts `grader.worker.runner.serve_in_kernel`, which
  writes its frames to the worker's result pipe (reopened through /proc).

Either way, a name's cell is known (the report says where `fcc` came from), and an
exception is located as "notebook.ipynb cell 5, line 3".
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.sandbox.wire import WorkerRequest

__all__ = ["CellRecord", "defined_names", "definitions_only", "full_run", "read_notebook"]

_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
MAX_RECORDS = 1000  # cell records sent to the grader (a notebook of 100,000 cells sends these)


@dataclass(frozen=True, slots=True)
class CellRecord:
    """How one code cell went: 'ok', 'error' (with the exception) or 'timeout'."""

    cell: int  # 1-based, counting every cell of the notebook (markdown too)
    status: str
    error: str = ""
    seconds: float = 0.0


def read_notebook(path: Path) -> Any:
    """The notebook as nbformat v4 (v3 is upgraded); raises ValueError with what is wrong."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    except Exception as exc:  # nbformat raises a zoo of types for junk
        raise ValueError(
            f"{path.name} is not a readable notebook ({type(exc).__name__}: {str(exc)[:200]}); re-save it from Jupyter"
        ) from None
    return notebook


def code_cells(notebook: Any) -> list[tuple[int, str]]:
    return [
        (i + 1, str(c.get("source", "")))
        for i, c in enumerate(notebook.get("cells", []))
        if c.get("cell_type") == "code"
    ]


def python_only(source: str) -> str:
    # IPython magics and shell escapes are not Python; blanking them keeps line numbers.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def _is_constant(node: ast.AST) -> bool:
    """`N_CLASSES = 10`, `SIZES = (784, 400)`, `relu = lambda x: ...`: literals and
    lambdas only, never calls or loads."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    if isinstance(node.value, ast.Lambda):
        return True
    try:
        ast.literal_eval(node.value)
    except ValueError:
        return False
    return True


def defined_names(notebook: Any) -> dict[str, int]:
    """Which cell (1-based) last defines each top-level name, read statically."""
    where: dict[str, int] = {}
    for cell, source in code_cells(notebook):
        try:
            tree = ast.parse(python_only(source))
        except SyntaxError:
            continue
        for node in tree.body:
            for name in _names_bound(node):
                where[name] = cell
    return where


def _names_bound(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return [t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)]


def cell_filename(work: Path, notebook: str, cell: int) -> str:
    """The code filename a cell is compiled under; `grader.worker.runner.StudentCode.label` turns it back into a label."""
    return f"{work}/{notebook}#cell{cell}"


def definitions_only(path: Path, work: Path) -> tuple[dict[str, Any], list[CellRecord]]:
    """Execute only what defines things, cell by cell, in this process.

    A `.py` (a notebook exported with `jupyter nbconvert --to script`) is one cell: its
    magics (`get_ipython()` calls) and top-level training code are skipped alike.
    """
    script = path.suffix == ".py"
    cells = [(1, path.read_text(encoding="utf-8", errors="replace"))] if script else code_cells(read_notebook(path))

    def filename(cell: int) -> str:
        # a script's lines are labelled by its own path, a notebook's by cell
        return str(path) if script else cell_filename(work, path.name, cell)

    namespace: dict[str, Any] = {"__name__": "__main__"}
    records = []
    for cell, source in cells:
        started = time.perf_counter()
        try:
            tree = ast.parse(python_only(source), filename=filename(cell))
            kept = [node for node in tree.body if isinstance(node, _KEPT) or _is_constant(node)]
            if not kept:
                records.append(CellRecord(cell, "skipped"))
                continue
            tree.body = kept
            exec(compile(tree, filename(cell), "exec"), namespace)
        except Exception as exc:  # the student's cell failed: record it and go on, as Jupyter would
            records.append(
                CellRecord(cell, "error", f"{type(exc).__name__}: {exc}"[:300], time.perf_counter() - started)
            )
            continue
        records.append(CellRecord(cell, "ok", "", time.perf_counter() - started))
    return namespace, records


def full_run(path: Path, work: Path, request: WorkerRequest) -> str | None:
    """Execute the notebook in a kernel, then hand the kernel the probes.

    Returns when the kernel has served every check (or died while serving them: the
    grader sees which check was running); the kernel writes those frames itself.
    Returns a sentence when the notebook could not even be run to its end.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    notebook = read_notebook(path)
    client = NotebookClient(
        notebook,
        timeout=int(request.cell_timeout),
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        resources={"metadata": {"path": str(work)}},
    )
    records: list[CellRecord] = []
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            started = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                # "nb.ipynb cell N": the trusted side words it as Jupyter shows the cell
                return f"the kernel died while running {path.name} cell {index + 1} (os._exit, a crash, or the memory limit)"
            except CellExecutionError as exc:  # raised only for timeouts with allow_errors
                records.append(
                    CellRecord(index + 1, "timeout", str(exc).splitlines()[0][:300], time.perf_counter() - started)
                )
                continue
            records.append(_record(index + 1, cell, time.perf_counter() - started, client.timeout))
        counts = {
            int(c.execution_count): i + 1
            for i, c in enumerate(notebook.cells)
            if c.cell_type == "code" and c.get("execution_count")
        }
        kernel_request = {
            "request": request.to_json(),
            "cells": [asdict(r) for r in records[:MAX_RECORDS]],
            "counts": counts,
            "notebook": path.name,
            "mode": "notebook (full run)",
        }
        # One file per job, beside the work copy (the sandbox's private /tmp, or the job's own
        # folder under the fallback): concurrent workers never share it, and it goes with the job.
        handle, handoff = tempfile.mkstemp(prefix="grader-kernel-request-", suffix=".json", dir=work.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(kernel_request, stream)
        serve = nbformat.v4.new_code_cell(
            f"from grader.worker.runner import serve_in_kernel\nserve_in_kernel({handoff!r}, {os.getpid()})"
        )  # type: ignore[no-untyped-call]
        notebook.cells.append(serve)
        try:
            client.timeout = None  # the grader times each check from here
            client.execute_cell(serve, len(notebook.cells) - 1)
        except DeadKernelError:
            pass
        finally:
            Path(handoff).unlink(missing_ok=True)
    return None


def _record(cell: int, executed: Any, seconds: float, timeout: float | None) -> CellRecord:
    for output in executed.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        # nbclient interrupts a cell at its timeout: the kernel reports a KeyboardInterrupt
        if output.get("ename") == "KeyboardInterrupt" and timeout and seconds >= timeout * 0.9:
            return CellRecord(cell, "timeout", f"stopped after {timeout:g} s (the time limit per cell)", seconds)
        return CellRecord(cell, "error", f"{output.get('ename')}: {output.get('evalue')}"[:300], seconds)
    return CellRecord(cell, "ok", "", seconds)
