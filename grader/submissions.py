"""Discover submissions in a file, a folder or a zip, and unpack archives safely.

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

import contextlib
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

__all__ = ["ArchiveLimits", "Submission", "discover", "safe_extract"]

SOURCE_SUFFIXES = frozenset({".py", ".ipynb"})
MAX_SOURCE_BYTES = {".py": 1 << 20, ".ipynb": 32 << 20}
# grader_selfcheck/ is the template's own checking material, not the student's work
IGNORED_NAMES = frozenset({"__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git", "grader_selfcheck"})
# Canvas: <name>_<user id>_<submission id>_<original name>, optionally "late_" first
_CANVAS = re.compile(r"^(?:late_)?(?P<student>[^_]+(?:_[A-Za-z]+)*?_\d+)_\d+_(?P<file>.+)$")


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """What an archive may hold before it is refused (zip bombs, deep nesting)."""

    max_total_bytes: int = 512 << 20
    max_member_bytes: int = 64 << 20
    max_ratio: float = 200.0
    max_members: int = 20_000
    max_depth: int = 3


@dataclass(frozen=True, slots=True)
class Submission:
    """One student's submission: where its files are, and which file is graded."""

    id: str
    root: Path | None
    files: tuple[str, ...] = ()
    entry: str | None = None
    error: str | None = None
    ignored: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "notebook" if self.entry and self.entry.endswith(".ipynb") else "module"

    @classmethod
    def broken(cls, id: str, error: str) -> Submission:
        return cls(id=id, root=None, error=error)


class ArchiveError(ValueError):
    """An archive refused as a whole (not a zip, a bomb, too deep)."""


def discover(path: Path, entry: str, workspace: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[Submission]:
    """Every submission under `path`; archives are unpacked into `workspace`."""
    if path.is_file() and path.suffix in SOURCE_SUFFIXES:
        return [_single(path.parent, _student_id(path.parent.name or path.stem), only=path, entry=entry)]
    if path.is_file() and zipfile.is_zipfile(path):
        return _from_zip(path, entry, workspace / _safe_name(path.stem), limits, depth=1)
    if path.is_dir():
        if _is_one_submission(path, entry):
            return [_single(path, _student_id(path.name), entry=entry)]
        return _from_batch_folder(path, entry, workspace, limits, depth=0)
    return [Submission.broken(_student_id(path.name), f"{path.name}: not a .py file, notebook, folder or zip archive")]


def _from_zip(archive: Path, entry: str, target: Path, limits: ArchiveLimits, depth: int) -> list[Submission]:
    try:
        problems = safe_extract(archive, target, limits)
    except ArchiveError as exc:
        return [Submission.broken(_student_id(archive.stem), f"{archive.name}: {exc}")]
    root = _unwrap(target)
    if _is_one_submission(root, entry):
        # one student's archive: every refused member is that student's problem
        every = [problem for found_in in problems.values() for problem in found_in]
        return [_single(root, _student_id(archive.stem), entry=entry, problems=[f"{archive.name}: " + "; ".join(every)] if every else [])]
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
    student = _student_id(archive.stem)
    usable = [s for s in found if s.error is None]
    # folders without the graded file (notes/, data/) do not compete with the one that has it
    stray = [s for s in found if s.root is not None and s.entry is None]
    if len(found) == 1 or (len(usable) == 1 and len(usable) + len(stray) == len(found)):
        return replace(usable[0] if usable else found[0], id=student)
    if not found:
        return Submission.broken(student, f"{archive.name}: holds no submission")
    reasons = "; ".join(f"{s.id}: {s.error}" if s.error else f"{s.id}: gradable" for s in found[:4])
    return Submission.broken(student, f"{archive.name} is not one submission ({reasons}); resubmit a zip of your own files")


_OTHER_ARCHIVES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".gz", ".bz2", ".xz", ".7z", ".rar")


def _from_batch_folder(folder: Path, entry: str, workspace: Path, limits: ArchiveLimits, depth: int) -> list[Submission]:
    found: list[Submission] = []
    for child in sorted(folder.iterdir()):
        if child.name in IGNORED_NAMES or child.name.startswith(".") or child.is_symlink():
            continue
        if child.is_dir():
            found.append(_single(child, _student_id(child.name), entry=entry))
        elif child.suffix in SOURCE_SUFFIXES:
            found.append(_single(folder, _student_id(child.name), only=child, entry=entry))
        elif child.suffix == ".zip":
            if depth + 1 > limits.max_depth:
                found.append(Submission.broken(_student_id(child.stem), f"{child.name}: archives nested more than {limits.max_depth} deep"))
            else:
                found.append(_one_student(child, _from_zip(child, entry, workspace / _safe_name(child.stem), limits, depth + 1)))
        elif child.name.lower().endswith(_OTHER_ARCHIVES):
            stem = next(child.name[: -len(s)] for s in _OTHER_ARCHIVES if child.name.lower().endswith(s))
            found.append(Submission.broken(_student_id(stem), f"{child.name}: only .zip archives are unpacked; resubmit as a .zip"))
    return _unique_ids(found)


def _single(root: Path, student: str, entry: str, only: Path | None = None, problems: list[str] | None = None) -> Submission:
    if problems:
        return Submission.broken(student, "; ".join(problems))
    files, ignored = _source_files(root, only)
    chosen = _choose_entry(files, entry)
    if chosen is None:
        wanted = f"a file named {entry}"
        seen = ", ".join(files[:6]) or "no .py or .ipynb files"
        return Submission(student, root, tuple(files), None, f"no {entry} found (looked for {wanted}; found {seen}): resubmit with {entry}", tuple(ignored))
    return Submission(student, root, tuple(files), chosen, None, tuple(ignored))


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


def _choose_entry(files: list[str], entry: str) -> str | None:
    exact = sorted((f for f in files if PurePosixPath(f).name == entry), key=lambda f: (f.count("/"), f))
    if exact:
        return exact[0]
    # LMS exports rename files: "smith_123_456_neural_net.py", "neural_net-1.py"
    stem, suffix = entry.rsplit(".", 1)
    renamed = [f for f in files if f.endswith("." + suffix) and stem in PurePosixPath(f).name]
    if len(renamed) == 1:
        return renamed[0]
    # A notebook alone may hold what a .py assignment grades (its classes defined in cells),
    # and a .py alone what a notebook assignment grades (a notebook exported as a script).
    for other in (".ipynb", ".py"):
        alone = [f for f in files if f.endswith(other)]
        if len(alone) == 1 and other != "." + suffix:
            return alone[0]
    return None


def _is_one_submission(folder: Path, entry: str) -> bool:
    if (folder / entry).is_file():
        return True
    # the handout's package layout: <folder>/cs231nHD/neural_net.py beside the notebook
    return any((child / entry).is_file() and (child / "__init__.py").is_file() for child in folder.iterdir() if child.is_dir())


def _unwrap(root: Path) -> Path:
    """Descend through a single wrapping folder ("submissions/") that holds everything."""
    while True:
        children = [c for c in root.iterdir() if c.name not in IGNORED_NAMES and not c.name.startswith(".")]
        if len(children) == 1 and children[0].is_dir():
            root = children[0]
        else:
            return root


def _student_id(name: str) -> str:
    match = _CANVAS.match(name)
    if match:
        name = match.group("student")
    for suffix in ("_assignsubmission_file_", "_assignsubmission_onlinetext_"):
        name = name.split(suffix)[0]
    for suffix in (".py", ".ipynb", ".zip"):
        name = name.removesuffix(suffix)
    return name.strip() or "unnamed"


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


# -- archives --------------------------------------------------------------------------


def safe_extract(archive: Path, target: Path, limits: ArchiveLimits = ArchiveLimits()) -> dict[str, list[str]]:
    """Extract `archive` into `target`, refusing what could escape or explode.

    Raises `ArchiveError` when the archive as a whole is unusable (not a zip, a bomb).
    Returns problems found in single members (traversal, links, duplicates), keyed by
    the student folder they belong to ("" for the archive's top level); those members
    are skipped.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"not a readable zip archive ({exc}); re-export the submissions") from None
    except UnicodeDecodeError:
        # the archive flags its names as UTF-8 and one is not
        raise ArchiveError("its file names are marked as UTF-8 but are not valid UTF-8; re-create the zip") from None
    problems: dict[str, list[str]] = {}
    target.mkdir(parents=True, exist_ok=True)
    with zf:
        members = zf.infolist()
        _check_sizes(members, limits)
        seen: set[str] = set()
        for info in members:
            problem, parts = _member_problem(info, seen)
            problem = problem or _bomb(info, limits)
            owner = parts[0] if len(parts) > 1 else ""
            if problem:
                problems.setdefault(_student_id(owner) if owner else "", []).append(f"{info.filename!r}: {problem}")
                if owner and owner not in ("..", "."):
                    # the student's folder must exist for the student to get a row, even
                    # when every one of their members was refused
                    with contextlib.suppress(OSError, ValueError):
                        (target / owner).mkdir(parents=True, exist_ok=True)
                continue
            try:
                _extract_member(zf, info, target.joinpath(*parts), limits)
            except ArchiveError:
                raise
            except _UNREADABLE as exc:
                # one member that cannot be written here (a name too long, a file where a
                # folder is, a bad CRC, encryption) costs its owner, not the batch
                problems.setdefault(_student_id(owner) if owner else "", []).append(f"{info.filename!r}: cannot be unpacked ({_reason(exc)})")
    return problems


# What a single member can raise while it is inflated and written.
_UNREADABLE = (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"[:200]


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, limits: ArchiveLimits) -> None:
    if info.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        _copy_member(zf, info, destination, limits)
    except BaseException:
        if destination.is_file() and not destination.is_symlink():
            destination.unlink()
        raise


def _check_sizes(members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    if len(members) > limits.max_members:
        raise ArchiveError(f"{len(members)} entries (more than {limits.max_members})")
    # members refused as bombs are never inflated: they do not count
    total = sum(m.file_size for m in members if _bomb(m, limits) is None)
    if total > limits.max_total_bytes:
        raise ArchiveError(f"would unpack to {total >> 20} MiB (limit {limits.max_total_bytes >> 20} MiB): a zip bomb or not submissions")


def _bomb(m: zipfile.ZipInfo, limits: ArchiveLimits) -> str | None:
    """Why one member is not inflated (its size or ratio, from the zip's directory;
    zipfile never inflates a member past the size the directory states)."""
    if m.file_size > limits.max_member_bytes or (m.compress_size and m.file_size / m.compress_size > limits.max_ratio and m.file_size > 1 << 20):
        return f"unpacks to {m.file_size >> 20} MiB from {m.compress_size >> 10} KiB: a zip bomb (not extracted)"
    return None


def _member_problem(info: zipfile.ZipInfo, seen: set[str]) -> tuple[str | None, tuple[str, ...]]:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    parts = tuple(p for p in path.parts if p not in ("", "."))
    mode = info.external_attr >> 16
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path", parts[1:]
    if ".." in parts:
        return "path leaves the archive ('..')", parts
    if stat.S_ISLNK(mode):
        return "symbolic link (not extracted)", parts
    # Many zip writers store permission bits without a file type: only a stated type counts.
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "special file (not extracted)", parts
    if "\x00" in name or not parts:
        return "invalid name", parts
    key = "/".join(parts).casefold()
    if key in seen:
        return "duplicate name (only the first was kept)", parts
    seen.add(key)
    return None, parts


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, limits: ArchiveLimits) -> None:
    # Count what is really inflated: the directory's sizes can lie.
    written = 0
    with zf.open(info) as source, destination.open("wb") as sink:
        while chunk := source.read(1 << 16):
            written += len(chunk)
            if written > limits.max_member_bytes:
                raise ArchiveError(f"{info.filename!r} inflates past {limits.max_member_bytes >> 20} MiB: a zip bomb")
            sink.write(chunk)
