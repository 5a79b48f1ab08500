"""Expected values: the reference seen as a submission, its observations checked, and their cache.

The reference is observed by the same path as students (`grader.course.reference`
runs it); what it returns is what students are compared against. Results are cached on
disk, keyed by a hash of every file of the reference folder, the grader's own code, the
Python, numpy and platform versions and the batch seed, so a second batch with the same
seed does not rerun the reference.

A cache entry carries a keyed MAC (HMAC-SHA256) over its name and contents. The key is a
random file created on first use, mode 0600, in the user's config folder (never mounted
into a sandbox, and never in the cache folder): an entry a worker or anyone else rewrote
does not verify, and the reference is observed again, as if there were no cache.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import platform
import secrets
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from grader.assignment import HARNESS_FILES, Assignment, Check
from grader.errors import AssignmentError
from grader.intake.discovery import Submission, discover
from grader.judge.diagnosis import MISTAKES_DIR
from grader.judge.expectations import Observed
from grader.results import CheckResult
from grader.sandbox.wire import Frame, Invalid

__all__ = [
    "cache_file",
    "default_cache_dir",
    "default_key_file",
    "load_cached",
    "reference_submission",
    "save_cached",
    "validated",
    "values_key",
]

_MAGIC = b"grader-expected-values-v2\n"
_MAC_BYTES = 32
_KEY_BYTES = 32
MAX_CACHE_BYTES = 1 << 30  # an entry larger than this is not read (recomputed instead)


def default_cache_dir() -> Path:
    """$GRADER_CACHE, else $XDG_CACHE_HOME/grader (~/.cache/grader)."""
    if os.environ.get("GRADER_CACHE"):
        return Path(os.environ["GRADER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader"


def default_key_file() -> Path:
    """$GRADER_CACHE_KEY, else $XDG_CONFIG_HOME/grader/cache.key (~/.config/grader/cache.key)."""
    if os.environ.get("GRADER_CACHE_KEY"):
        return Path(os.environ["GRADER_CACHE_KEY"])
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "grader" / "cache.key"


def _cache_key_secret(path: Path) -> bytes:
    """The MAC key in `path`, created (0600, in a 0700 folder) on first use."""
    try:
        key = path.read_bytes()
        if len(key) == _KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(_KEY_BYTES))
    try:
        os.link(fresh, path)  # the first writer wins; a concurrent batch reads its key
    except FileExistsError:
        pass
    finally:
        fresh.unlink()
    key = path.read_bytes()
    if len(key) != _KEY_BYTES:
        path.unlink(missing_ok=True)  # damaged: the next batch makes a new key (old entries then fail)
        raise OSError(f"{path}: the cache key is damaged")
    return key


def _mac(key: bytes, path: Path, payload: bytes) -> bytes:
    return hmac.new(key, path.name.encode() + b"\0" + payload, hashlib.sha256).digest()


def reference_submission(assignment: Assignment) -> Submission:
    """The reference folder seen as a submission (without the harness's own files)."""
    found = discover(assignment.folder, assignment.entry, assignment.folder)
    submission = found[0]
    if len(found) != 1 or submission.error is not None:
        raise AssignmentError.in_file(
            assignment.folder, f"the reference holds no gradable {assignment.entry}: {submission.error}"
        )
    # the known mistakes (mistakes/*.py) are the grader's, not part of the reference's code
    files = tuple(f for f in submission.files if f not in HARNESS_FILES and not f.startswith(f"{MISTAKES_DIR}/"))
    return replace(submission, id="reference", files=files)


def validated(
    check: Check, frames: Mapping[str, Frame], failures: Mapping[str, CheckResult], assignment: Assignment
) -> dict[str, np.ndarray]:
    """The reference's arrays for `check`; raises `AssignmentError` when the reference failed it."""
    if check.name in failures:
        raise AssignmentError.in_file(
            assignment.folder, f"the reference fails check {check.name!r}: {failures[check.name].message}"
        )
    frame = frames[check.name]
    if frame.header.get("status") != "ok":
        error = frame.header.get("error") or {}
        raise AssignmentError.in_file(assignment.folder, f"the reference raised in check {check.name!r}: {error}")
    arrays = {}
    for key, value in frame.arrays.items():
        if isinstance(value, Invalid):
            raise AssignmentError.in_file(
                assignment.folder,
                f"probe {check.probe_name!r} returned {value.describe()} for {key!r} on the reference: probes must return numbers or arrays",
            )
        arrays[key] = value
    return arrays


def cache_file(cache_dir: Path, assignment: Assignment, checks: tuple[Check, ...], seed: int, kind: str = "") -> Path:
    """Where these checks' expected values for this seed are cached (`kind` "mistakes":
    the known mistakes' observations; the key covers mistakes/ with the whole folder)."""
    return cache_dir / f"{assignment.name}-{kind + '-' if kind else ''}{values_key(assignment, checks, seed)}.expected"


def values_key(assignment: Assignment, checks: tuple[Check, ...], seed: int) -> str:
    """A hash of what the expected values depend on (the cache's key; resumed batches compare
    it too): every file of the reference folder (data and helpers too), the grader's code,
    the Python, numpy and platform versions, the checks and the seed."""
    versions = f"{sys.version}|{np.__version__}|{platform.platform()}|{platform.machine()}"
    digest = hashlib.sha256(f"{seed}|{sorted(c.name for c in checks)}|{versions}".encode())
    # the whole grader package (this file is in grader/judge/): any code change refreshes the cache
    roots = [(assignment.folder, None), (Path(__file__).parents[1], ".py")]
    for root, suffix in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and (suffix is None or path.suffix == suffix):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def save_cached(path: Path, expected: dict[str, Observed], key_file: Path | None = None) -> None:
    """Write `expected` with its MAC, atomically (a concurrent batch never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {f"{check}::{key}": value for check, arrays in expected.items() for key, value in arrays.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **flat)  # type: ignore[arg-type]
    payload = buffer.getvalue()
    mac = _mac(_cache_key_secret(key_file or default_key_file()), path, payload)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(_MAGIC + mac + payload)
    os.replace(temporary, path)


def load_cached(path: Path, key_file: Path | None = None) -> dict[str, Observed] | None:
    """The expected values `save_cached` wrote; None when the entry is missing, damaged,
    too large or its MAC does not verify (then the reference is observed again)."""
    try:
        if path.stat().st_size > MAX_CACHE_BYTES:
            return None
        data = path.read_bytes()
        head, mac, payload = (
            data[: len(_MAGIC)],
            data[len(_MAGIC) : len(_MAGIC) + _MAC_BYTES],
            data[len(_MAGIC) + _MAC_BYTES :],
        )
        if head != _MAGIC or not hmac.compare_digest(
            mac, _mac(_cache_key_secret(key_file or default_key_file()), path, payload)
        ):
            return None
        expected: dict[str, dict[str, np.ndarray]] = {}
        with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
            for name in arrays.files:
                check, key = name.split("::", 1)
                expected.setdefault(check, {})[key] = arrays[name]
    except (OSError, ValueError, KeyError, EOFError):
        return None
    return dict(expected)
