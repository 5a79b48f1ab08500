"""The hostile and unusual submissions of issue 11, built as real files for one batch.

Each `Student` is a folder of the batch zip (the zip itself is written by `write_batch`).
What a student hands in attacks the trusted side around the sandbox: text that cannot be
encoded, what the grader must read or show (files, notebook cells), forged frames, the
hidden checks' wording, the gradebook, a planted checks.py. Honest students stand
between them and must keep full marks.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from redteam import support

SMUGGLE = "SMUGGLED-HIDDEN"


@dataclass(frozen=True)
class Student:
    """One folder of the batch: its files, and whether it must keep full marks."""

    folder: str
    files: dict[str, bytes] = field(default_factory=dict)
    honest: bool = False  # answers correctly: full marks, whatever else it does
    # checks whose (status, words in the message) are stated; others pass in full when honest
    expect: dict[str, tuple[str, str]] = field(default_factory=dict)
    # handed in as a zip of its own (its name is `folder`) inside the batch zip
    archive: bool = False


def _net(body: str) -> bytes:
    """neural_net.py: the reference as `working_net`, subclassed by `body`."""
    return ("import working_net\n\n\nclass TwoLayerNet(working_net.TwoLayerNet):\n" + body).encode("utf-8")


def _with_helper(run: support.Run, files: dict[str, bytes]) -> dict[str, bytes]:
    return {
        "working_net.py": support.working_source().encode("utf-8"),
        "pipe_tools.py": (support.HERE / "pipe_tools.py").read_bytes(),
        **files,
    }


def _notebook(cells: list[str]) -> bytes:
    """A notebook (nbformat 4) of code cells, written compactly; json escapes a lone
    surrogate as `\\ud800`, as Jupyter would."""
    body = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i:x}", "metadata": {}, "outputs": [], "source": c}
            for i, c in enumerate(cells)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def _forged_predict(header: str) -> bytes:
    """predict() writes one forged frame for `predict` to the result pipe, then answers."""
    return _net(
        "    def predict(self, X):\n"
        "        import os, struct\n"
        "        from pipe_tools import result_pipes\n"
        f"        body = {header}.encode('ascii')\n"
        "        for fd in list(result_pipes()):\n"
        "            try:\n"
        "                os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "            except OSError:\n"
        "                pass\n"
        "        return super().predict(X)\n"
    )


def students(run: support.Run) -> list[Student]:
    """Every student of the integrity batch, honest ones included."""
    source = support.working_source()
    net_cell = source  # the reference solution as one notebook cell (definitions only)
    huge = "x" * (20 << 20)
    many_files = {f"pkg/m{i:03d}.py": (f"# file {i}\n" + "VALUE = 1  # padding\n" * 4000).encode() for i in range(400)}
    return [
        Student("aa_honest", {"neural_net.py": source.encode()}, honest=True),
        # -- 1. text that cannot be encoded ------------------------------------------------
        Student(
            "surrogate_exception",
            _with_helper(
                run,
                {
                    "neural_net.py": _net(
                        "    def predict(self, X):\n        raise ValueError('bad \\udc80 text \\ud800')\n"
                    )
                },
            ),
            expect={"predict": ("error", "ValueError")},
        ),
        Student(
            "surrogate_print",
            _with_helper(
                run,
                {
                    "neural_net.py": _net(
                        "    def predict(self, X):\n        print('out \\ud800 put')\n        return super().predict(X)\n"
                    )
                },
            ),
            honest=True,
        ),
        Student(
            "surrogate_notebook",
            {"neural_net.ipynb": _notebook([net_cell, "s = '\ud800 lone'\nprint(s)"])},
            honest=True,
        ),
        Student(
            "latin1_XXXX_name", {"neural_net.py": source.encode()}, honest=True
        ),  # renamed to latin-1 bytes in the zip
        # -- 2. the grader's own memory and disk -------------------------------------------
        Student("many_files", {"neural_net.py": source.encode(), **many_files}, honest=True),
        Student("huge_cell", {"neural_net.ipynb": _notebook([net_cell, f"# {huge}\nX = 1"])}),
        Student("many_cells", {"neural_net.ipynb": _notebook([net_cell] + ["1"] * 100_000)}),
        Student(
            "forged_huge_error",
            _with_helper(
                run,
                {
                    "neural_net.py": _forged_predict(
                        "json.dumps({'type': 'result', 'check': 'predict', 'status': 'error', 'seconds': 0.0,"
                        " 'stdout': 'S' * 60000 + '\\ud800', 'error': {'type': 'E' * 5000, 'message': 'M' * 60000,"
                        " 'location': 'L' * 60000, 'code': 'C' * 5000, 'trace': ['T' * 5000] * 8}})"
                    ).replace(b"import os, struct", b"import os, struct, json")
                },
            ),
            expect={"predict": ("error", "")},
        ),
        # -- 6. frames ----------------------------------------------------------------------
        Student(
            "zero_dim_frame",
            _with_helper(
                run,
                {
                    "neural_net.py": _forged_predict(
                        '\'{"type": "result", "check": "predict", "status": "ok", "seconds": 0.0,'
                        ' "arrays": [{"name": "value", "dtype": "float64", "shape": [0, 1000000000000], "nbytes": 0}]}\''
                    )
                },
            ),
            expect={"predict": ("error", "malformed result")},
        ),
        Student("mm_honest", {"neural_net.py": source.encode()}, honest=True),
        # -- 5. a planted checks.py is never imported by the grader ------------------------
        Student(
            "planted_checks",
            {
                "neural_net.py": source.encode(),
                "checks.py": f"open({str(run.tmp / 'planted-checks-ran')!r}, 'w').write('ran')\n".encode(),
            },
            honest=True,
        ),
        # -- 8. hidden checks leak nothing the submission chose ---------------------------
        Student(
            "smuggle_hidden",
            _with_helper(
                run,
                {
                    "neural_net.py": _net(
                        "    def loss(self, X, y=None, reg=0.0):\n"
                        "        if X.shape not in ((5, 4), (40, 20), (6, 4)):\n"
                        f"            print('{SMUGGLE}', X.tolist())\n"
                        f"            raise ValueError('{SMUGGLE} ' + str(X.tolist()))\n"
                        "        return super().loss(X, y, reg)\n"
                    )
                },
            ),
            expect={"hidden_scores": ("error", "raised an exception")},
        ),
        Student(
            "smuggle_type_name",
            _with_helper(
                run,
                {
                    "neural_net.py": _net(
                        "    def loss(self, X, y=None, reg=0.0):\n"
                        "        if X.shape not in ((5, 4), (40, 20), (6, 4)):\n"
                        f"            return type('{SMUGGLE}_' + str(int(abs(X).sum() * 1000)), (), {{}})()\n"
                        "        return super().loss(X, y, reg)\n"
                    )
                },
            ),
            expect={"hidden_scores": ("failed", "wrong value")},
        ),
        # -- 9. gradebook names --------------------------------------------------------------
        Student('\ufeff=HYPERLINK("x")', {"neural_net.py": source.encode()}, honest=True),
        Student("\u200b+cmd|calc", {"neural_net.py": source.encode()}, honest=True),
        Student("\uff1dSUM(A1)", {"neural_net.py": source.encode()}, honest=True),
        Student("line\u2028break\u2029para", {"neural_net.py": source.encode()}, honest=True),
        Student("zz_honest", {"neural_net.py": source.encode()}, honest=True),
    ]


STUB = "class TwoLayerNet:\n    def __init__(self, *args, **kwargs):\n        raise NotImplementedError('stub')\n"


def intake_students() -> list[Student]:
    """Classes 3 and 4 (intake): names that clean up to the same folder, and a zip of a
    dozen empty files 900 folders deep. They join the batch once the batch reads exports
    through `grader.intake.lms` (per-student fresh folders, batch-wide keys, one archive
    budget per student)."""
    source = support.working_source().encode()
    deep = "/".join(["d"] * 900)
    return [
        Student("alice+smith.zip", {"neural_net.py": STUB.encode()}, archive=True),  # a stub: 0 points
        Student("alice_smith.zip", {"neural_net.py": source}, archive=True),  # honest: 13 points
        Student("\u0418\u0432\u0430\u043d.zip", {"neural_net.py": STUB.encode()}, archive=True),  # Cyrillic
        Student("\u5f20\u4f1f.zip", {"neural_net.py": source}, archive=True),  # Chinese
        Student(
            "deep_folders.zip",
            {"neural_net.py": source, **{f"{deep}/empty{i}.txt": b"" for i in range(12)}},
            archive=True,
        ),
    ]


def _inner_zip(student: Student) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as inner:
        for name, data in student.files.items():
            inner.writestr(name, data)
    return buffer.getvalue()


LATIN1_PLACEHOLDER = b"latin1_XXXX_name"
LATIN1_BYTES = b"latin1_caf\xe9_name"  # same length: the zip is patched in place


def write_batch(archive: Path, batch: list[Student]) -> None:
    """The batch zip; the latin-1 student's folder name is rewritten to latin-1 bytes
    without the UTF-8 flag, as an old export tool wrote them."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for student in batch:
            if student.archive:
                zf.writestr(student.folder, _inner_zip(student))
                continue
            for name, data in student.files.items():
                # large members stored: what is tested is the notebook, not the zip-bomb guard
                kind = zipfile.ZIP_STORED if len(data) > 1 << 20 else zipfile.ZIP_DEFLATED
                zf.writestr(f"{student.folder}/{name}", data, compress_type=kind)
    raw = archive.read_bytes()
    assert raw.count(LATIN1_PLACEHOLDER) >= 2
    archive.write_bytes(raw.replace(LATIN1_PLACEHOLDER, LATIN1_BYTES))
