"""Read an LMS export (Moodle, Canvas, Gradescope, or a folder per student) into hand-ins.

`read_export(path, workspace)` returns an `Intake`: the layout recognised and one `HandIn`
per student or group, each with its own fresh folder under `workspace`. Everything a student
handed in is one hand-in; nothing a single student sent stops the batch (it becomes that
hand-in's `error`). Only a batch that cannot be read at all raises `BatchError`.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from grader.errors import SubmissionError
from grader.intake.discovery import IGNORED_NAMES, SOURCE_SUFFIXES, Submission
from grader.intake.entry import choose_entry
from grader.intake.identity import Student
from grader.intake.layouts import LAYOUTS, Group, entries, group_by_student, recognise
from grader.intake.unpack import BudgetExceeded, StudentBudget, Unpacker, is_archive, mib

__all__ = [
    "BATCH_BUDGET",
    "DEFAULT_BUDGET",
    "BatchError",
    "HandIn",
    "Intake",
    "as_submission",
    "assign_keys",
    "clean_text",
    "read_export",
]

DEFAULT_BUDGET = StudentBudget()
# The batch archive as a whole (all students together) before each student's own budget applies.
BATCH_BUDGET = StudentBudget(
    max_bytes=8 << 30, max_files=400_000, max_folders=100_000, max_nesting=1, max_path_depth=40
)
_GENERATED = re.compile(r"-[0-9a-f]{8}$")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)
_MAX_KEY_BYTES = 96


class BatchError(SubmissionError):
    """The batch itself cannot be read (not a folder, zip or tar archive)."""


@dataclass(frozen=True, slots=True)
class HandIn:
    """Everything one student (or group) handed in, ready to grade.

    `folder` is the student's own fresh folder (None when nothing was handed in); `files`
    every file in it that may be graded, `entry` the graded one when an entry name was given.
    `time_source` says where `submitted_at` came from: "export" (the LMS's own time),
    "submission-list" (a time list the instructor gave), "late-mark" (Canvas's `_LATE_`, no
    time), "archive-entry (approximate)" (the latest file time the archives or folders carry:
    a student's machine set it), or "" (unknown).
    """

    student: Student
    folder: Path | None
    files: tuple[Path, ...] = ()
    entry: Path | None = None
    submitted_at: datetime | None = None
    time_source: str = ""
    late_mark: bool = False
    notes: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Intake:
    """What `read_export` found: the layout, the hand-ins, and notes about the batch itself."""

    layout: str
    hand_ins: tuple[HandIn, ...]
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line to print before grading: layout and count."""
        broken = sum(h.error is not None for h in self.hand_ins)
        extra = f", {broken} with a problem" if broken else ""
        return f"{self.layout} export: {len(self.hand_ins)} hand-in(s) found{extra}"


def read_export(
    path: Path,
    workspace: Path,
    *,
    layout: str | None = None,
    entry: str | None = None,
    budget: StudentBudget = DEFAULT_BUDGET,
    naive_tz: tzinfo = timezone.utc,
) -> Intake:
    """Every hand-in of the export at `path` (a folder, .zip, .tar, .tar.gz or .tgz).

    `layout` overrides recognition (one of `LAYOUTS`); `entry` is the assignment's graded file
    name (`neural_net.py`), used to choose each hand-in's `entry`; `naive_tz` is the zone of
    times an export writes without one. Student folders are `workspace/intake-*/students/NNNN`,
    numbered, never named after a student.
    """
    if layout is not None and layout not in LAYOUTS:
        raise BatchError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    batch_notes: list[str] = []
    refused: list[tuple[Path, str]] = []
    workspace.mkdir(parents=True, exist_ok=True)
    # a fresh folder per reading: an earlier run's students can never mix with this one's
    run = Path(tempfile.mkdtemp(prefix="intake-", dir=workspace))
    root = _open_batch(path, run / "batch", batch_notes, refused)
    if isinstance(root, Group):
        groups, found = [root], "folders"
    else:
        root = _unwrap(root, entry)
        if entry is not None and _is_one_submission(root, entry):
            one = Group(label=root.name, name=root.name, sources=[(c, c.name) for c in entries(root)], origins=[root])
            groups, found = [one], "folders"
        else:
            found = layout or recognise(root)
            groups = group_by_student(root, found, batch_notes)
    keys = assign_keys([g.label for g in groups])
    students_dir = run / "students"
    hand_ins = tuple(
        _guarded(g, key, students_dir / f"{i:04d}", entry, budget, naive_tz, _refused_for(g, refused))
        for i, (g, key) in enumerate(zip(groups, keys, strict=True))
    )
    return Intake(found, hand_ins, tuple(batch_notes))


def _refused_for(group: Group, refused: list[tuple[Path, str]]) -> dict[str, str]:
    """The batch archive's refused members that belong to this group, by name in its folder."""
    mine = {}
    for destination, message in refused:
        for origin in group.origins:
            if destination.is_relative_to(origin) and destination != origin:
                mine[destination.relative_to(origin).as_posix()] = message
        for source, name in group.sources:
            if destination.is_relative_to(source) and source.is_dir():
                mine[f"{name}/{destination.relative_to(source).as_posix()}"] = message
    return mine


def _open_batch(path: Path, target: Path, batch_notes: list[str], refused: list[tuple[Path, str]]) -> Path | Group:
    if path.is_dir():
        return path
    if path.is_file() and path.suffix in (".py", ".ipynb"):
        return Group(label=path.stem, name=path.stem, sources=[(path, path.name)])
    readable = path.is_file() and (zipfile.is_zipfile(path) or (is_archive(path.name) and _is_tar(path)))
    if not readable:
        what = "no such file or folder" if not path.exists() else "not a folder, .zip, .tar or .tar.gz archive"
        raise BatchError(f"{path}: {what}; give the folder or archive the LMS's 'download all submissions' made")
    unpacker = Unpacker(target, BATCH_BUDGET, unpack_nested=False)
    target.mkdir(parents=True, exist_ok=True)
    try:
        # the batch archive is unpacked whole, its student archives left for each student's budget
        unpacker.add(path, name=path.name if is_archive(path.name) else path.name + ".zip")
    except BudgetExceeded as exc:
        raise BatchError(f"{path}: {exc}: not one assignment's submissions; split the export") from None
    batch_notes.extend(unpacker.all_notes())
    refused.extend(unpacker.refused)
    unpacked = [c for c in target.iterdir()]
    if len(unpacked) != 1 or not unpacked[0].is_dir():
        raise BatchError(f"{path}: not a readable archive; re-download the submissions")
    return unpacked[0]


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _unwrap(root: Path, entry: str | None) -> Path:
    """Descend through single wrapping folders (`assignment_123_export/`) that hold everything."""
    while not (entry and _is_one_submission(root, entry)):
        children = entries(root)
        if len(children) != 1 or not children[0].is_dir() or recognise(root) != "folders":
            return root
        inner = children[0]
        if recognise(inner) == "folders" and not any(c.is_dir() or is_archive(c.name) for c in entries(inner)):
            return root  # one student's folder of loose files, not a wrapper
        root = inner
    return root


def _is_one_submission(folder: Path, entry: str) -> bool:
    """The folder is one student's work (the graded file, or the handout's package beside it)."""
    if (folder / entry).is_file():
        return True
    return any((c / entry).is_file() and (c / "__init__.py").is_file() for c in folder.iterdir() if c.is_dir())


def _guarded(
    group: Group,
    key: str,
    folder: Path,
    entry: str | None,
    budget: StudentBudget,
    naive_tz: tzinfo,
    batch_refused: dict[str, str],
) -> HandIn:
    """One hand-in; whatever goes wrong reading it becomes its error, never the batch's."""
    try:
        return _hand_in(group, key, folder, entry, budget, naive_tz, batch_refused)
    except Exception as exc:  # noqa: BLE001 - the last guard: the batch must go on
        student = Student(
            key, clean_text(group.name), clean_text(group.lms_id), clean_text(group.sid), clean_text(group.email)
        )
        reason = clean_text(f"{type(exc).__name__}: {exc}", 300)
        return HandIn(student, None, error=f"the grader could not read this hand-in ({reason})")


def _hand_in(
    group: Group,
    key: str,
    folder: Path,
    entry: str | None,
    budget: StudentBudget,
    naive_tz: tzinfo,
    batch_refused: dict[str, str],
) -> HandIn:
    student = Student(
        key,
        clean_text(group.name),
        clean_text(group.lms_id),
        clean_text(group.sid),
        clean_text(group.email),
        tuple(clean_text(m) for m in group.members),
    )
    notes, error = [*group.notes, *batch_refused.values()], group.error
    if not group.sources:
        error = error or ("; ".join(batch_refused.values()) if batch_refused else "handed in no files")
        return HandIn(
            student,
            None,
            time_source=group.time_source,
            late_mark=group.late_mark,
            notes=tuple(clean_text(n) for n in notes),
            error=clean_text(error),
        )
    folder.mkdir(parents=True)
    unpacker = Unpacker(folder, budget)
    try:
        for source, name in group.sources:
            unpacker.add(source, name)
    except BudgetExceeded as exc:
        error = f"over the per-student limit: {exc}; resubmit only the files the assignment asks for"
    notes.extend(unpacker.all_notes())
    files, refused = _graded_files(folder, budget)
    notes.extend(refused.values())
    refused.update({name: message for name, message in batch_refused.items() if name not in refused})
    chosen = None
    if entry is not None and error is None:
        choice = choose_entry([f.relative_to(folder).as_posix() for f in files], entry, refused)
        chosen, error = (folder / choice.path if choice.path else None), choice.error
        notes.extend([choice.note] if choice.note else [])
    when, origin = group.submitted_at, group.time_source
    if when is None and not origin and unpacker.times:
        when, origin = max(unpacker.times.values()), "archive-entry (approximate)"
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=naive_tz)
    cleaned = tuple(clean_text(n) for n in notes)
    return HandIn(
        student, folder, tuple(files), chosen, when, origin, group.late_mark, cleaned, error and clean_text(error)
    )


def _graded_files(folder: Path, budget: StudentBudget) -> tuple[list[Path], dict[str, str]]:
    """Regular files in the student's folder; source files over their size limit are refused."""
    files, refused = [], {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or any(p in IGNORED_NAMES or p.startswith(".") for p in rel.parts):
            continue
        limit = budget.source_limit(path.name)
        size = path.stat().st_size
        if limit is not None and size > limit:
            kind = "notebook" if path.suffix.lower() == ".ipynb" else "source file"
            refused[rel.as_posix()] = f"{rel.as_posix()} is {mib(size)}, over the {mib(limit)} limit for a {kind}"
            path.unlink()  # never graded, so never left where a later step could find it
            continue
        files.append(path)
    return files, refused


def clean_text(text: str, limit: int = 2000) -> str:
    """Valid, single-line text from an export's names: undecodable bytes (surrogates from a
    latin-1 file name) become U+FFFD, control characters and line separators a space."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_submission(hand_in: HandIn) -> Submission:
    """Today's `Submission` for a hand-in, so the grading path can take hand-ins unchanged:
    its id is the batch-unique key; other files (data, notes) are listed as ignored."""
    if hand_in.folder is None:
        return Submission.broken(hand_in.student.key, hand_in.error or "handed in no files")
    rel = [f.relative_to(hand_in.folder).as_posix() for f in hand_in.files]
    sources = tuple(r for r in rel if Path(r).suffix in SOURCE_SUFFIXES)
    ignored = tuple(r for r in rel if Path(r).suffix not in SOURCE_SUFFIXES)
    entry = hand_in.entry.relative_to(hand_in.folder).as_posix() if hand_in.entry else None
    return Submission(hand_in.student.key, hand_in.folder, sources, entry, hand_in.error, ignored)


# -- keys -------------------------------------------------------------------------------


def assign_keys(labels: list[str]) -> list[str]:
    """A unique, file-name-safe key per label, assigned for the whole batch at once.

    Unicode letters are kept (Cyrillic and Chinese names stay readable); a key that two
    labels share, or that looks like a generated one (`name-1a2b3c4d`), gets a hash of its
    own label (and position, for identical labels) so it can collide with nothing.
    """
    bases = [_slug(label) for label in labels]
    counts: dict[str, int] = {}
    for base in bases:
        counts[base.casefold()] = counts.get(base.casefold(), 0) + 1
    keys: list[str] = []
    taken: set[str] = set()
    for index, (label, base) in enumerate(zip(labels, bases, strict=True)):
        key = base
        if counts[base.casefold()] > 1 or _GENERATED.search(base) or key.casefold() in taken:
            key = _hashed(base, f"{index}\x00{label}")
        while key.casefold() in taken:  # a hash collision: astronomically rare, still handled
            key = _hashed(base, key)
        taken.add(key.casefold())
        keys.append(key)
    return keys


def _hashed(base: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{base}-{digest}"


def _slug(label: str) -> str:
    text = unicodedata.normalize("NFKC", label)
    # letters, digits and combining marks of any script stay (Devanagari vowel signs are
    # marks); everything else (separators, '+', '/', dots, invisible characters, surrogates)
    # becomes '_'
    text = "".join(ch if ch.isalnum() or ch in "-_" or unicodedata.category(ch) in ("Mn", "Mc") else "_" for ch in text)
    text = re.sub(r"_+", "_", text).strip("_-")
    while len(text.encode("utf-8")) > _MAX_KEY_BYTES:
        text = text[:-1]
    if not text or _WINDOWS_RESERVED.match(text):
        text = f"student_{text}" if text else "student"
    return text
