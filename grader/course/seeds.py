"""The course seed: hidden checks draw the same cases in every batch, regrade and late batch.

It is created once per assignment and kept with the instructor's course files; only hashes
of it (`derive_seed`) leave the trusted side, so the seed itself never enters a sandbox or
a report.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from grader.assignment import COURSE_SEED_FILE, Assignment
from grader.errors import AssignmentError

__all__ = ["course_seed", "derive_seed"]


def derive_seed(course: int, purpose: str) -> int:
    """A seed for one purpose, hashed from the course seed on the trusted side: the worker
    gets `derive_seed(course, "probes")`, never the course seed itself."""
    digest = hashlib.sha256(f"{course}|{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def course_seed(assignment: Assignment, cache_dir: Path | None) -> int:
    """The assignment's course seed: read from reference/<name>/.course_seed, created there
    on first use. Where the course folder is read-only (an installed package), it is kept
    in the cache folder instead. Raises `AssignmentError` for a damaged seed file."""
    places = [assignment.folder / COURSE_SEED_FILE]
    if cache_dir is not None:
        places.append(
            cache_dir
            / f"course-seed-{assignment.name}-{hashlib.sha256(str(assignment.folder).encode()).hexdigest()[:12]}"
        )
    for path in places:
        if path.is_file():
            return _read_seed(path)
    for path in places:
        try:
            return _create_seed(path, assignment.name)
        except FileExistsError:  # another run created it first: use theirs
            return _read_seed(path)
        except OSError:
            continue
    raise AssignmentError.in_file(
        places[0], "cannot be created (read-only course folder and no cache folder): pass --seed"
    )


_SEED_NOTE = (
    "# The course seed of {name}: the hidden checks draw their inputs from it, so every batch,\n"
    "# regrade and late batch grades the same cases. Keep it with the course files (commit it in a\n"
    "# private course repository); never publish it. Changing it changes every hidden case.\n"
)


def _create_seed(path: Path, name: str) -> int:
    seed = secrets.randbits(63)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as f:
        f.write(_SEED_NOTE.format(name=name) + f"{seed}\n")
    return seed


def _read_seed(path: Path) -> int:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    values = [line for line in lines if line and not line.startswith("#")]
    if len(values) != 1 or not values[0].isdigit():
        raise AssignmentError.in_file(path, "should hold one whole number (the course seed) besides # comments")
    return int(values[0])
