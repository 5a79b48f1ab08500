"""The boundary parser treats every byte from the worker as hostile (SANDBOX.md §3)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from grader.sandbox.wire import FrameReader, Invalid, ProtocolError, encode_frame

MiB = 1 << 20


def _reader() -> FrameReader:
    return FrameReader(max_frame_bytes=4 * MiB, max_total_bytes=8 * MiB)


def _raw(header: dict[str, object] | str, payload: bytes = b"") -> bytes:
    body = header if isinstance(header, str) else json.dumps(header)
    return struct.pack(">I", len(body.encode())) + body.encode() + payload


def test_arrays_and_scalars_round_trip_exactly() -> None:
    values = {
        "scores": np.arange(15.0).reshape(5, 3) / 7,
        "loss": np.float64(1.30378789133),
        "labels": np.array([0, 2, 1]),
    }
    (frame,) = _reader().feed(encode_frame({"type": "result", "check": "c"}, values))
    assert isinstance(frame.arrays["loss"], np.ndarray) and frame.arrays["loss"].shape == ()
    for name, value in values.items():
        got = frame.arrays[name]
        assert (
            isinstance(got, np.ndarray)
            and np.array_equal(got, np.asarray(value))
            and got.dtype == np.asarray(value).dtype
        )


def test_non_arrays_arrive_as_descriptions_not_objects() -> None:
    (frame,) = _reader().feed(
        encode_frame({"type": "result"}, {"a": [1, 2], "b": None, "c": np.array(["x"]), "d": np.array([object()])})
    )
    assert frame.arrays["a"] == Invalid("list of 2 items")
    assert frame.arrays["b"] == Invalid("NoneType")
    assert isinstance(frame.arrays["c"], Invalid) and isinstance(frame.arrays["d"], Invalid)


def test_frames_split_across_reads_are_reassembled() -> None:
    data = encode_frame({"type": "result"}, {"x": np.ones((100, 100))})
    reader = _reader()
    frames = [f for i in range(0, len(data), 777) for f in reader.feed(data[i : i + 777])]
    x = frames[0].arrays["x"]
    assert len(frames) == 1 and isinstance(x, np.ndarray) and x.sum() == 10_000


@pytest.mark.parametrize(
    ("frame", "complaint"),
    [
        (_raw('{"type": "result", "type": "done"}'), "repeats a key"),
        (_raw("{not json"), "not valid JSON"),
        (_raw("[1, 2]"), "not an object"),
        (_raw({"type": "r", "arrays": [{"name": "x", "dtype": "object", "shape": [1], "nbytes": 8}]}), "allowlist"),
        (_raw({"type": "r", "arrays": [{"name": "x", "dtype": ">f8", "shape": [1], "nbytes": 8}]}), "allowlist"),
        (
            _raw({"type": "r", "arrays": [{"name": "x", "dtype": "float64", "shape": [2, 2], "nbytes": 8}]}),
            "does not match",
        ),
        (
            _raw({"type": "r", "arrays": [{"name": "x", "dtype": "float64", "shape": [-1], "nbytes": 8}]}),
            "invalid shape",
        ),
        (
            _raw({"type": "r", "arrays": [{"name": "x", "dtype": "float64", "shape": [1, 1, 1, 1, 1], "nbytes": 8}]}),
            "invalid shape",
        ),
        (
            _raw(
                {"type": "r", "arrays": [{"name": "x", "dtype": "float64", "shape": [2**30, 2**10], "nbytes": 2**43}]}
            ),
            "larger than",
        ),
        (
            _raw({"type": "r", "arrays": [{"name": "x", "dtype": "bool", "shape": [1], "nbytes": 1}] * 2}, b"\x01\x01"),
            "sent twice",
        ),
        (struct.pack(">I", 2**31) + b"{}", "exceeds"),
    ],
)
def test_malformed_frames_are_refused(frame: bytes, complaint: str) -> None:
    with pytest.raises(ProtocolError, match=complaint):
        _reader().feed(frame)


def test_total_result_size_is_capped() -> None:
    reader = FrameReader(max_frame_bytes=MiB, max_total_bytes=2 * MiB)
    chunk = encode_frame({"type": "result"}, {"x": np.zeros(MiB // 8 - 100)})
    reader.feed(chunk)
    reader.feed(chunk)
    with pytest.raises(ProtocolError, match="more than 2 MiB"):
        reader.feed(chunk)


def test_a_valid_frame_before_a_malformed_one_in_the_same_read_is_still_delivered() -> None:
    # The worker's `start` and student code's garbage can arrive in one read: the start must
    # count, or the violation is charged to the check before it.
    start = encode_frame({"type": "start", "check": "predict"})
    with pytest.raises(ProtocolError, match="not valid JSON") as raised:
        _reader().feed(start + _raw("{not json") + b"\xff" * 64)
    assert [frame.header for frame in raised.value.frames] == [{"type": "start", "check": "predict", "arrays": []}]


def test_frames_within_the_total_cap_are_delivered_before_the_cap_is_refused() -> None:
    reader = FrameReader(max_frame_bytes=MiB, max_total_bytes=MiB)
    start = encode_frame({"type": "start", "check": "predict"})
    with pytest.raises(ProtocolError, match="more than 1 MiB") as raised:
        reader.feed(start + encode_frame({"type": "result", "check": "predict"}, {"x": np.zeros(MiB // 8)}))
    assert [frame.type for frame in raised.value.frames] == ["start"]
