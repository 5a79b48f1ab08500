"""Unpack a zip safely: no traversal, no links, no bombs, no duplicate names.

A member that cannot be unpacked costs its owner (the student folder it belongs to),
never the batch; an archive unusable as a whole raises `ArchiveError`.
"""

from __future__ import annotations

import contextlib
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.intake.names import student_id

__all__ = ["ArchiveError", "ArchiveLimits", "safe_extract"]


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """What an archive may hold before it is refused (zip bombs, deep nesting)."""

    max_total_bytes: int = 512 << 20
    max_member_bytes: int = 64 << 20
    max_ratio: float = 200.0
    max_members: int = 20_000
    max_depth: int = 3


class ArchiveError(ValueError):
    """An archive refused as a whole (not a zip, a bomb, too deep)."""


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
                problems.setdefault(student_id(owner) if owner else "", []).append(f"{info.filename!r}: {problem}")
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
                problems.setdefault(student_id(owner) if owner else "", []).append(
                    f"{info.filename!r}: cannot be unpacked ({_reason(exc)})"
                )
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
        raise ArchiveError(
            f"would unpack to {total >> 20} MiB (limit {limits.max_total_bytes >> 20} MiB): a zip bomb or not submissions"
        )


def _bomb(m: zipfile.ZipInfo, limits: ArchiveLimits) -> str | None:
    """Why one member is not inflated (its size or ratio, from the zip's directory;
    zipfile never inflates a member past the size the directory states)."""
    if m.file_size > limits.max_member_bytes or (
        m.compress_size and m.file_size / m.compress_size > limits.max_ratio and m.file_size > 1 << 20
    ):
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
