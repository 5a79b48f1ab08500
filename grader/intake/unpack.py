"""Copy one student's hand-in into their own folder, unpacking archives under one budget.

Everything a student handed in (files, folders, and .zip/.tar/.tar.gz/.tgz archives nested
up to `StudentBudget.max_nesting` deep) is written into a folder that belongs to that student
alone. Every byte, file and folder written counts against the same `StudentBudget`, whatever
level it came from, so a small archive of archives cannot grow past the budget.
"""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO

# the member checks discovery already trusts for zips: traversal, links, special files, bombs
from grader.intake.archives import ArchiveLimits, _bomb, _member_problem
from grader.intake.discovery import IGNORED_NAMES

__all__ = ["ARCHIVE_SUFFIXES", "BudgetExceeded", "StudentBudget", "Unpacker", "archive_stem", "is_archive"]

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
_CHUNK = 1 << 16
MAX_NOTES = 50


@dataclass(frozen=True, slots=True)
class StudentBudget:
    """What one student's hand-in may occupy once unpacked, summed over every nesting level."""

    max_bytes: int = 512 << 20
    """Bytes written for the student in total: files copied plus every archive member inflated."""
    max_files: int = 20_000
    """Files written for the student in total, archives' members included."""
    max_folders: int = 2_000
    """Folders created for the student in total, archives' folders included."""
    max_nesting: int = 3
    """Archives inside archives: the student's own zip is level 1, a zip inside it level 2."""
    max_path_depth: int = 32
    """Path components below the student's folder; deeper members are skipped with a note."""
    max_py_bytes: int = 1 << 20
    """Largest `.py` file that is graded (a larger one is refused with its size named)."""
    max_notebook_bytes: int = 32 << 20
    """Largest `.ipynb` notebook that is graded."""

    def source_limit(self, name: str) -> int | None:
        """The size limit for a graded file called `name`, or None when it is not source."""
        suffix = PurePosixPath(name).suffix.lower()
        return {".py": self.max_py_bytes, ".ipynb": self.max_notebook_bytes}.get(suffix)


class BudgetExceeded(Exception):
    """The student's budget is spent; the message says which limit and its value."""


def is_archive(name: str) -> bool:
    """True for the archive kinds that are unpacked (.zip, .tar, .tar.gz, .tgz)."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(name: str) -> str:
    """`alice.tar.gz` -> `alice`; a name that is not an archive is returned unchanged."""
    lower = name.lower()
    return next((name[: -len(s)] for s in ARCHIVE_SUFFIXES if lower.endswith(s)), name)


def mib(size: int) -> str:
    """A size as people read it: `1.3 MiB`, `700 KiB`."""
    return f"{size / (1 << 20):.1f} MiB" if size >= 1 << 20 else f"{max(1, size >> 10)} KiB"


@dataclass(slots=True)
class Unpacker:
    """Writes one student's files into `root`, charging `budget`; problems go to `notes`.

    `times` records each written file's time as the archive entry stated it (zip and tar
    entries carry one), used only when the export gives no better submission time.
    `unpack_nested=False` leaves archives found inside as files (a batch zip's student zips).
    `refused` pairs each archive member that was not written with where it would have gone,
    so a batch-level refusal can be told to the student it belongs to.
    """

    root: Path
    budget: StudentBudget
    notes: list[str] = field(default_factory=list)
    notes_dropped: int = 0
    times: dict[Path, datetime] = field(default_factory=dict)
    unpack_nested: bool = True
    refused: list[tuple[Path, str]] = field(default_factory=list)
    bytes_used: int = 0
    files_used: int = 0
    folders_used: int = 0

    def add(self, source: Path, name: str | None = None) -> None:
        """Copy a file or folder (or unpack an archive) from the batch into the student's folder."""
        self._add(source, self.root, name or source.name, level=0)

    def _add(self, source: Path, parent: Path, name: str, level: int) -> None:
        if source.is_symlink():
            self._note(f"{self._rel(parent / name)}: a symbolic link (not followed)")
        elif source.is_dir():
            folder = self._folder(parent / name)
            if folder is not None:
                for child in sorted(source.iterdir()):
                    if child.name not in IGNORED_NAMES and not child.name.startswith("."):
                        self._add(child, folder, child.name, level)
        elif source.is_file() and is_archive(name):
            self._unpack(source, parent, name, level + 1)
        elif source.is_file():
            with source.open("rb") as stream:
                self._write(stream, parent / name, _mtime(source))

    # -- budget -------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name

    def _note(self, message: str) -> None:
        """Record a problem; past `MAX_NOTES` only count them (the report's size stays bounded)."""
        if len(self.notes) < MAX_NOTES:
            self.notes.append(message)
        else:
            self.notes_dropped += 1

    def all_notes(self) -> list[str]:
        """The notes, with how many more were not kept."""
        more = [f"... and {self.notes_dropped} more problem(s) of the same kinds"] if self.notes_dropped else []
        return self.notes + more

    def _folder(self, path: Path) -> Path | None:
        """Create a folder and its missing parents, each charged to the budget; None when it
        is too deep to read."""
        depth = len(path.relative_to(self.root).parts)
        if depth > self.budget.max_path_depth:
            self._note(
                f"{self._rel(path)[:120]}...: folders nested more than {self.budget.max_path_depth} deep (skipped)"
            )
            return None
        missing = [p for p in [path, *path.parents][:depth] if not p.is_dir()]
        for folder in reversed(missing):
            self.folders_used += 1
            if self.folders_used > self.budget.max_folders:
                raise BudgetExceeded(f"more than {self.budget.max_folders} folders")
            try:
                folder.mkdir()
            except OSError as exc:  # a name too long, a file already where the folder goes
                self._note(f"{self._rel(folder)[:200]}: cannot be created ({exc.strerror or type(exc).__name__})")
                return None
        return path

    def _write(self, stream: IO[bytes], destination: Path, when: datetime | None) -> None:
        """Stream one file in, counting the bytes really written (headers can lie)."""
        if self._folder(destination.parent) is None:
            return
        if destination.exists():
            self._note(f"{self._rel(destination)}: handed in twice (only the first was kept)")
            return
        self.files_used += 1
        if self.files_used > self.budget.max_files:
            raise BudgetExceeded(f"more than {self.budget.max_files} files")
        try:
            self._copy(stream, destination)
        except _UNREADABLE as exc:
            # one member that cannot be read or written costs that member, not the student
            destination.unlink(missing_ok=True)
            message = f"{self._rel(destination)[:200]}: cannot be unpacked ({_reason(exc)})"
            self._note(message)
            self.refused.append((destination, message))  # a student whose only file it was keeps a row saying why
            return
        if when is not None:
            # keep the entry's time on disk too, so a copy made from here still carries it
            os.utime(destination, (when.timestamp(), when.timestamp()))
            self.times[destination] = when

    def _copy(self, stream: IO[bytes], destination: Path) -> None:
        with destination.open("wb") as sink:
            while chunk := stream.read(_CHUNK):
                self.bytes_used += len(chunk)
                if self.bytes_used > self.budget.max_bytes:
                    raise BudgetExceeded(f"more than {mib(self.budget.max_bytes)} unpacked")
                sink.write(chunk)

    # -- archives -------------------------------------------------------------------

    def _unpack(self, archive: Path, parent: Path, name: str, level: int) -> None:
        shown = self._rel(parent / name)
        if level > self.budget.max_nesting:
            self._note(f"{shown}: archives nested more than {self.budget.max_nesting} deep (not unpacked)")
            return
        target = self._fresh(parent, archive_stem(name))
        try:
            if name.lower().endswith(".zip"):
                self._unzip(archive, target, shown, level)
            else:
                self._untar(archive, target, shown, level)
        except _UNREADABLE as exc:
            self._note(f"{shown}: not a readable archive ({_reason(exc)}); resubmit it as a .zip")

    def _fresh(self, parent: Path, stem: str) -> Path:
        """A folder for an archive's contents that no other file of the student uses."""
        stem = stem.strip(". ") or "archive"
        candidate, n = parent / stem, 1
        while candidate.exists():
            n += 1
            candidate = parent / f"{stem} ({n})"
        return candidate

    def _unzip(self, archive: Path, target: Path, shown: str, level: int) -> None:
        limits = ArchiveLimits(max_member_bytes=self.budget.max_bytes)
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > self.budget.max_files - self.files_used + self.budget.max_folders:
                raise BudgetExceeded(f"{shown} holds {len(members)} entries (more than {self.budget.max_files} files)")
            seen: set[str] = set()
            for info in members:
                try:
                    self._zip_member(zf, info, target, shown, level, seen, limits)
                except _UNREADABLE as exc:
                    # one member that cannot be read or written costs that member only
                    self._note(f"{shown}: {info.filename[:200]!r}: cannot be unpacked ({_reason(exc)})")

    def _zip_member(
        self,
        zf: zipfile.ZipFile,
        info: zipfile.ZipInfo,
        target: Path,
        shown: str,
        level: int,
        seen: set[str],
        limits: ArchiveLimits,
    ) -> None:
        problem, parts = _member_problem(info, seen)
        problem = problem or _bomb(info, limits)
        if problem:
            self._refuse(target, parts, f"{shown}: {info.filename[:200]!r}: {problem}")
        elif info.is_dir():
            self._folder(target.joinpath(*parts))
        else:
            try:
                with zf.open(info) as stream:
                    when = datetime(*info.date_time, tzinfo=timezone.utc)
                    self._write_member(stream, target.joinpath(*parts), when, level)
            except _UNREADABLE as exc:
                # refused, not only noted: a student whose every file is unreadable keeps a row
                self._refuse(target, parts, f"{shown}: {info.filename[:200]!r}: cannot be unpacked ({_reason(exc)})")

    def _untar(self, archive: Path, target: Path, shown: str, level: int) -> None:
        with tarfile.open(archive, mode="r:*") as tf:
            for info in tf:
                try:
                    self._tar_member(tf, info, target, shown, level)
                except _UNREADABLE as exc:
                    self._note(f"{shown}: {info.name[:200]!r}: cannot be unpacked ({_reason(exc)})")

    def _tar_member(self, tf: tarfile.TarFile, info: tarfile.TarInfo, target: Path, shown: str, level: int) -> None:
        problem, parts = _tar_problem(info)
        if problem:
            self._refuse(target, parts, f"{shown}: {info.name[:200]!r}: {problem}")
        elif info.isdir():
            self._folder(target.joinpath(*parts))
        else:
            stream = tf.extractfile(info)
            if stream is not None:
                with stream:
                    when = datetime.fromtimestamp(info.mtime, tz=timezone.utc)
                    self._write_member(stream, target.joinpath(*parts), when, level)

    def _refuse(self, target: Path, parts: tuple[str, ...], message: str) -> None:
        self._note(message)
        safe = tuple(p for p in parts if p not in ("..", "/")) if parts else ()
        if safe and len(safe) <= self.budget.max_path_depth:
            self.refused.append((target.joinpath(*safe), message))
            if len(safe) > 1:
                # the owner's folder exists even when all they sent was refused: they get a row
                self._folder(target.joinpath(*safe[:-1]))

    def _write_member(self, stream: IO[bytes], destination: Path, when: datetime | None, level: int) -> None:
        """Write one archive member; a member that is itself an archive is unpacked one level down."""
        if len(destination.relative_to(self.root).parts) > self.budget.max_path_depth:
            self._note(
                f"{self._rel(destination)[:120]}...: more than {self.budget.max_path_depth} folders deep (skipped)"
            )
            return
        self._write(stream, destination, when)
        if self.unpack_nested and is_archive(destination.name) and destination.is_file():
            nested = destination.with_name(destination.name + ".unpacking")
            os.replace(destination, nested)
            self.times.pop(destination, None)
            self._unpack(nested, destination.parent, destination.name, level + 1)
            nested.unlink()


# What reading one archive or member can raise: damaged data, encryption, unknown compression.
_UNREADABLE = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"[:200]


def _tar_problem(info: tarfile.TarInfo) -> tuple[str | None, tuple[str, ...]]:
    name = info.name.replace("\\", "/")
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if name.startswith("/"):
        return "absolute path", parts
    if ".." in parts:
        return "path leaves the archive ('..')", parts
    if info.issym() or info.islnk():
        return "link (not extracted)", parts
    if not (info.isfile() or info.isdir()):
        return "special file (not extracted)", parts
    if "\x00" in name or not parts:
        return "invalid name", parts
    return None, parts


def _mtime(path: Path) -> datetime | None:
    try:
        mode = path.stat()
    except OSError:
        return None
    return datetime.fromtimestamp(mode.st_mtime, tz=timezone.utc) if stat.S_ISREG(mode.st_mode) else None
