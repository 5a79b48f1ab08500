"""The one protocol that crosses the sandbox boundary: frames of JSON + raw arrays.

A frame is a 4-byte big-endian header length, a UTF-8 JSON header, then the raw
little-endian bytes of each array the header declares, in order:

    {"type": "result", "check": "forward_scores", "status": "ok", "seconds": 0.01,
     "arrays": [{"name": "value", "dtype": "float64", "shape": [5, 3], "nbytes": 120}]}

The worker (untrusted) encodes with `encode_frame`; the grader (trusted) decodes with
`FrameReader`, which treats every byte as hostile: headers and payloads are capped,
duplicate JSON keys are rejected (`json` would silently keep the last one), dtypes come
from an allowlist, shapes must match the byte length exactly. Nothing is unpickled,
evaluated or imported. See SANDBOX.md §3 for the measurements behind each rule.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ALLOWED_DTYPES",
    "Frame",
    "FrameReader",
    "Invalid",
    "ProbeCall",
    "ProtocolError",
    "SandboxPaths",
    "WorkerLimits",
    "WorkerRequest",
    "encode_frame",
]

# Native little-endian numeric types only: no objects, strings, fields or byte swaps.
ALLOWED_DTYPES = frozenset({"float64", "float32", "int64", "int32", "int16", "int8", "uint8", "bool"})
MAX_HEADER_BYTES = 256 * 1024
MAX_DIMS = 4
_LENGTH = struct.Struct(">I")


class ProtocolError(ValueError):
    """The worker sent bytes that are not a valid frame.

    `frames` holds the valid frames that arrived before the malformed bytes in the same
    read: they were sent (by the worker, or by student code posing as it) before the
    violation and must still be recorded, so the violation is charged to the right check.
    """

    def __init__(self, message: str, frames: list[Frame] | None = None) -> None:
        super().__init__(message)
        self.frames: list[Frame] = frames or []


@dataclass(frozen=True, slots=True)
class Invalid:
    """A value the worker could not send as a numeric array (a list, None, an object...)."""

    type_name: str
    note: str = ""

    def describe(self) -> str:
        return f"{self.type_name}{f' ({self.note})' if self.note else ''}"


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: its validated JSON header and its arrays, already copied."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray | Invalid] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return str(self.header.get("type", ""))


# -- worker side ---------------------------------------------------------------------


def encode_frame(header: dict[str, Any], values: dict[str, Any] | None = None) -> bytes:
    """Encode one frame; each value becomes a raw array or an `Invalid` descriptor.

    Runs in the worker, so nothing here is trusted by the grader: it only has to be
    well-formed for honest workers.
    """
    specs: list[dict[str, Any]] = []
    payload: list[bytes] = []
    for name, value in (values or {}).items():
        array, problem = _as_sendable_array(value)
        if array is None:
            specs.append({"name": name, "invalid": problem})
            continue
        data = array.tobytes(order="C")
        specs.append({"name": name, "dtype": array.dtype.name, "shape": list(array.shape), "nbytes": len(data)})
        payload.append(data)
    body = json.dumps({**header, "arrays": specs}, allow_nan=True).encode()
    return _LENGTH.pack(len(body)) + body + b"".join(payload)


def _as_sendable_array(value: Any) -> tuple[np.ndarray | None, dict[str, str]]:
    # Exact types only: a subclass or an object with __array__ is what the student
    # returned, and the grader should say so rather than have it coerced silently.
    if type(value) in (bool, int, float) or isinstance(value, np.generic):
        try:
            value = np.array(value)
        except (OverflowError, ValueError):
            return None, {"type": type(value).__name__, "note": "not representable as a number"}
    if type(value) is not np.ndarray:
        return None, {"type": _type_description(value)}
    if value.dtype.name not in ALLOWED_DTYPES:
        return None, {"type": "ndarray", "note": f"dtype {value.dtype} is not numeric"}
    if value.ndim > MAX_DIMS:
        return None, {"type": "ndarray", "note": f"{value.ndim} dimensions"}
    # astype, not ascontiguousarray: the latter turns a 0-d scalar into shape (1,)
    return value.astype(value.dtype.newbyteorder("<"), order="C", copy=False), {}


def _type_description(value: Any) -> str:
    name = type(value).__name__
    if isinstance(value, (list, tuple)):
        return f"{name} of {len(value)} items"
    return name


# -- trusted side --------------------------------------------------------------------


class FrameReader:
    """Incremental, capped decoder for the worker's frame stream.

    Feed it bytes as they arrive; `frames()` yields every complete frame. Any violation
    raises `ProtocolError`, after which the stream is not trusted any further.
    """

    def __init__(self, max_frame_bytes: int, max_total_bytes: int) -> None:
        self._buffer = bytearray()
        self._max_frame = max_frame_bytes
        self._max_total = max_total_bytes
        self._total = 0

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes from the stream; return the frames they complete.

        On a violation the `ProtocolError` carries the frames completed before it.
        """
        room = self._max_total - self._total
        self._total += len(data)
        self._buffer += data[: max(room, 0)]
        frames: list[Frame] = []
        try:
            while (frame := self._next_frame()) is not None:
                frames.append(frame)
        except ProtocolError as exc:
            raise ProtocolError(str(exc), frames) from None
        if self._total > self._max_total:
            raise ProtocolError(f"the worker sent more than {self._max_total // 2**20} MiB of results", frames)
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame (non-zero at end of stream means truncation)."""
        return len(self._buffer)

    def _next_frame(self) -> Frame | None:
        if len(self._buffer) < _LENGTH.size:
            return None
        (header_len,) = _LENGTH.unpack_from(self._buffer)
        if header_len > MAX_HEADER_BYTES:
            raise ProtocolError(f"frame header of {header_len} bytes exceeds {MAX_HEADER_BYTES}")
        end_of_header = _LENGTH.size + header_len
        if len(self._buffer) < end_of_header:
            return None
        header = _parse_header(bytes(self._buffer[_LENGTH.size : end_of_header]))
        specs = _array_specs(header, self._max_frame)
        payload_len = sum(spec.nbytes for spec in specs)
        if len(self._buffer) < end_of_header + payload_len:
            return None
        arrays: dict[str, np.ndarray | Invalid] = {}
        offset = end_of_header
        for spec in specs:
            if spec.invalid is not None:
                arrays[spec.name] = spec.invalid
                continue
            raw = bytes(self._buffer[offset : offset + spec.nbytes])
            arrays[spec.name] = np.frombuffer(raw, dtype=np.dtype(spec.dtype).newbyteorder("<")).reshape(spec.shape).copy()
            offset += spec.nbytes
        del self._buffer[:offset]
        return Frame(header=header, arrays=arrays)


@dataclass(frozen=True, slots=True)
class _ArraySpec:
    name: str
    dtype: str = "float64"
    shape: tuple[int, ...] = ()
    nbytes: int = 0
    invalid: Invalid | None = None


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ProtocolError("frame header repeats a key")
    return dict(pairs)


def _parse_constant(name: str) -> float:
    # NaN/Infinity are legal in values the worker reports (seconds), never needed as keys;
    # accept them as floats so a student's NaN in a message does not break the stream.
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def _parse_header(raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates, parse_constant=_parse_constant)
    except ProtocolError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame header is not valid JSON: {type(exc).__name__}") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ProtocolError("frame header is not an object with a 'type'")
    return header


def _array_specs(header: dict[str, Any], max_frame_bytes: int) -> list[_ArraySpec]:
    raw_specs = header.get("arrays", [])
    if not isinstance(raw_specs, list):
        raise ProtocolError("'arrays' is not a list")
    specs: list[_ArraySpec] = []
    seen: set[str] = set()
    total = 0
    for raw in raw_specs:
        spec = _array_spec(raw)
        if spec.name in seen:
            raise ProtocolError(f"array {spec.name!r} sent twice")
        seen.add(spec.name)
        total += spec.nbytes
        if total > max_frame_bytes:
            raise ProtocolError(f"arrays larger than {max_frame_bytes // 2**20} MiB in one result")
        specs.append(spec)
    return specs


def _array_spec(raw: Any) -> _ArraySpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not 0 < len(raw["name"]) <= 64:
        raise ProtocolError("array descriptor without a valid name")
    name = raw["name"]
    if "invalid" in raw:
        info = raw["invalid"] if isinstance(raw["invalid"], dict) else {}
        return _ArraySpec(name, invalid=Invalid(str(info.get("type", "?"))[:80], str(info.get("note", ""))[:200]))
    dtype, shape, nbytes = raw.get("dtype"), raw.get("shape"), raw.get("nbytes")
    if dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array {name!r} has a dtype outside the allowlist")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(type(n) is int and 0 <= n < 2**40 for n in shape)
    ):
        raise ProtocolError(f"array {name!r} has an invalid shape")
    if type(nbytes) is not int or nbytes != math.prod(shape) * np.dtype(dtype).itemsize:
        raise ProtocolError(f"array {name!r}: byte length does not match its shape")
    return _ArraySpec(name, dtype, tuple(shape), nbytes)


# -- the request: the one message the grader sends to a worker (on its stdin) --------


@dataclass(frozen=True, slots=True)
class ProbeCall:
    """One check the worker runs: its name, the probe file and the probe function in it."""

    name: str
    file: str
    probe: str


@dataclass(frozen=True, slots=True)
class SandboxPaths:
    """Folders as the worker sees them (inside bwrap they are fixed mount points)."""

    submission_dir: str = ""
    work_dir: str = ""
    data_dir: str = ""
    probes_dir: str = ""


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """The rlimits the worker sets on itself before loading any student code (None: unset)."""

    address_space: int | None = None
    cpu_seconds: int | None = None
    file_size: int | None = None
    open_files: int | None = None
    processes: int | None = None


@dataclass(frozen=True, slots=True)
class WorkerRequest:
    """Everything a worker is told: what to load, which probes to run, where, and its limits.

    Never holds an expected value, threshold or label: those stay on the trusted side.
    The grader fills it in three steps (staging, the notebook mode, then the runner's
    paths, limits and result fd), each with `dataclasses.replace`.
    """

    entry: str  # the graded file, relative to the work folder
    kind: str  # "module", "notebook" or "script" (an exported notebook: definitions only)
    names: tuple[str, ...]  # what the submission must define
    seed: int
    checks: tuple[ProbeCall, ...]
    notebook_mode: str = "definitions"  # "module", "definitions" or "full" (only "full" starts a kernel)
    cell_timeout: float = 60.0
    paths: SandboxPaths = field(default_factory=SandboxPaths)
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    result_fd: int = -1

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (nested dataclasses as objects, tuples as lists)."""
        return {
            "entry": self.entry,
            "kind": self.kind,
            "names": list(self.names),
            "seed": self.seed,
            "checks": [{"name": c.name, "file": c.file, "probe": c.probe} for c in self.checks],
            "notebook_mode": self.notebook_mode,
            "cell_timeout": self.cell_timeout,
            "paths": {k: getattr(self.paths, k) for k in SandboxPaths.__dataclass_fields__},
            "limits": {k: getattr(self.limits, k) for k in WorkerLimits.__dataclass_fields__},
            "result_fd": self.result_fd,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerRequest:
        """The request `to_json` wrote; a missing or extra key raises (TypeError/KeyError)."""
        return cls(
            entry=str(data["entry"]),
            kind=str(data["kind"]),
            names=tuple(str(n) for n in data["names"]),
            seed=int(data["seed"]),
            checks=tuple(ProbeCall(**c) for c in data["checks"]),
            notebook_mode=str(data["notebook_mode"]),
            cell_timeout=float(data["cell_timeout"]),
            paths=SandboxPaths(**data["paths"]),
            limits=WorkerLimits(**data["limits"]),
            result_fd=int(data["result_fd"]),
        )
