"""Discover submissions in a file, a folder or a zip (unpacked by `grader.intake.archives`).

`discover(path, entry, workspace)` returns one `Submission` per student. A submission
that cannot be graded (a zip bomb, no `neural_net.py`, a symlink pointing out) is still
returned, with `error` saying why and what to do: it becomes a gradebook row, and it
never stops the batch.

Layouts understood: one `neural_net.py` or notebook; a folder that is itself one
submission; a folder or zip of per-student folders, files or zips (Moodle's
`Name_123_assignsubmission_file_/`, Gradescope's `submission_123/`, Canvas's flat
`name_123_456_neural_net.py`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from grader.intake.archives import ArchiveError, ArchiveLimits, safe_extract
from grader.intake.entry import choose_entry
from grader.intake.names import student_id

__all__ = ["ArchiveLimits", "Submission", "discover"]

SOURCE_SUFFIXES = frozenset({".py", ".ipynb"})
MAX_SOURCE_BYTES = {".py": 1 << 20, ".ipynb": 32 << 20}
# grader_selfcheck/ is the template's own checking material, not the student's work
IGNORED_NAMES = frozenset({"__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git", "grader_selfcheck"})


@dataclass(frozen=True, slots=True)
class Submission:
    """One student's submission: where its files are, and which file is graded."""

    id: str
    root: Path | None
    files: tuple[str, ...] = ()
    entry: str | None = None
    error: str | None = None
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. which file was graded when none had the expected name

    @property
    def kind(self) -> str:
        return "notebook" if self.entry and self.entry.endswith(".ipynb") else "module"

    @classmethod
    def broken(cls, id: str, error: str) -> Submission:
        return cls(id=id, root=None, error=error)


def discover(path: Path, entry: str, workspace: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[Submission]:
    """Every submission under `path`; archives are unpacked into `workspace`."""
    if path.is_file() and path.suffix in SOURCE_SUFFIXES:
        return [_single(path.parent, student_id(path.parent.name or path.stem), only=path, entry=entry)]
    if path.is_file() and zipfile.is_zipfile(path):
        return _from_zip(path, entry, workspace / _safe_name(path.stem), limits, depth=1)
    if path.is_dir():
        if _is_one_submission(path, entry):
            return [_single(path, student_id(path.name), entry=entry)]
        return _from_batch_folder(path, entry, workspace, limits, depth=0)
    return [Submission.broken(student_id(path.name), f"{path.name}: not a .py file, notebook, folder or zip archive")]


def _from_zip(archive: Path, entry: str, target: Path, limits: ArchiveLimits, depth: int) -> list[Submission]:
    try:
        problems = safe_extract(archive, target, limits)
    except ArchiveError as exc:
        return [Submission.broken(student_id(archive.stem), f"{archive.name}: {exc}")]
    root = _unwrap(target)
    if _is_one_submission(root, entry):
        # one student's archive: every refused member is that student's problem
        every = [problem for found_in in problems.values() for problem in found_in]
        return [
            _single(
                root,
                student_id(archive.stem),
                entry=entry,
                problems=[f"{archive.name}: " + "; ".join(every)] if every else [],
            )
        ]
    found = _from_batch_folder(root, entry, target.parent / f"{target.name}-nested", limits, depth)
    with_problems = []
    for sub in found:
        extra = problems.get(sub.id, [])
        if extra:
            sub = Submission.broken(sub.id, f"{archive.name}: " + "; ".join(extra))
        with_problems.append(sub)
    return with_problems


def _one_student(archive: Path, found: list[Submission]) -> Submission:
    """A zip found inside a batch is one student's: one row, named after the zip (nested
    zips or stray folders inside it must not turn into rows of their own)."""
    student = student_id(archive.stem)
    usable = [s for s in found if s.error is None]
    # folders without the graded file (notes/, data/) do not compete with the one that has it
    stray = [s for s in found if s.root is not None and s.entry is None]
    if len(found) == 1 or (len(usable) == 1 and len(usable) + len(stray) == len(found)):
        return replace(usable[0] if usable else found[0], id=student)
    if not found:
        return Submission.broken(student, f"{archive.name}: holds no submission")
    reasons = "; ".join(f"{s.id}: {s.error}" if s.error else f"{s.id}: gradable" for s in found[:4])
    return Submission.broken(
        student, f"{archive.name} is not one submission ({reasons}); resubmit a zip of your own files"
    )


_OTHER_ARCHIVES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".gz", ".bz2", ".xz", ".7z", ".rar")


def _from_batch_folder(
    folder: Path, entry: str, workspace: Path, limits: ArchiveLimits, depth: int
) -> list[Submission]:
    found: list[Submission] = []
    for child in sorted(folder.iterdir()):
        if child.name in IGNORED_NAMES or child.name.startswith(".") or child.is_symlink():
            continue
        if child.is_dir():
            found.append(_single(child, student_id(child.name), entry=entry))
        elif child.suffix in SOURCE_SUFFIXES:
            found.append(_single(folder, student_id(child.name), only=child, entry=entry))
        elif child.suffix == ".zip":
            if depth + 1 > limits.max_depth:
                found.append(
                    Submission.broken(
                        student_id(child.stem), f"{child.name}: archives nested more than {limits.max_depth} deep"
                    )
                )
            else:
                found.append(
                    _one_student(child, _from_zip(child, entry, workspace / _safe_name(child.stem), limits, depth + 1))
                )
        elif child.name.lower().endswith(_OTHER_ARCHIVES):
            stem = next(child.name[: -len(s)] for s in _OTHER_ARCHIVES if child.name.lower().endswith(s))
            found.append(
                Submission.broken(
                    student_id(stem), f"{child.name}: only .zip archives are unpacked; resubmit as a .zip"
                )
            )
    return _unique_ids(found)


def _single(
    root: Path, student: str, entry: str, only: Path | None = None, problems: list[str] | None = None
) -> Submission:
    if problems:
        return Submission.broken(student, "; ".join(problems))
    files, ignored = _source_files(root, only)
    choice = choose_entry(files, entry)
    if choice.path is None:
        return Submission(student, root, tuple(files), None, choice.error, tuple(ignored))
    notes = (choice.note,) if choice.note else ()
    return Submission(student, root, tuple(files), choice.path, None, tuple(ignored), notes)


def _source_files(root: Path, only: Path | None) -> tuple[list[str], list[str]]:
    """Allowlisted source files, relative to root. Compiled files, symlinks and oversized
    files are never copied to the worker (a planted .pyc runs code not in the source)."""
    candidates = [only] if only is not None else sorted(p for p in root.rglob("*") if not _in_ignored(p, root))
    files, ignored = [], []
    for path in candidates:
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            ignored.append(f"{rel} (symbolic link)")
        elif not path.is_file():
            continue
        elif path.suffix not in SOURCE_SUFFIXES:
            ignored.append(rel)
        elif path.stat().st_size > MAX_SOURCE_BYTES[path.suffix]:
            ignored.append(f"{rel} (larger than {MAX_SOURCE_BYTES[path.suffix] >> 20} MiB)")
        else:
            files.append(rel)
    return files, ignored


def _in_ignored(path: Path, root: Path) -> bool:
    return any(part in IGNORED_NAMES or part.startswith(".") for part in path.relative_to(root).parts)


def _is_one_submission(folder: Path, entry: str) -> bool:
    if (folder / entry).is_file():
        return True
    # the handout's package layout: <folder>/cs231nHD/neural_net.py beside the notebook
    return any(
        (child / entry).is_file() and (child / "__init__.py").is_file() for child in folder.iterdir() if child.is_dir()
    )


def _unwrap(root: Path) -> Path:
    """Descend through a single wrapping folder ("submissions/") that holds everything."""
    while True:
        children = [c for c in root.iterdir() if c.name not in IGNORED_NAMES and not c.name.startswith(".")]
        if len(children) == 1 and children[0].is_dir():
            root = children[0]
        else:
            return root


def _unique_ids(found: list[Submission]) -> list[Submission]:
    seen: dict[str, int] = {}
    unique = []
    for sub in found:
        count = seen.get(sub.id, 0)
        seen[sub.id] = count + 1
        if count:
            sub = replace(sub, id=f"{sub.id} ({count + 1})")
        unique.append(sub)
    return unique


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "archive"
