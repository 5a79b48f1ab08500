"""The request the grader sends a worker: one typed schema, the same on both sides."""

from __future__ import annotations

import json

import pytest

from grader.sandbox.wire import ProbeCall, SandboxPaths, WorkerLimits, WorkerRequest


def test_a_request_survives_the_trip_through_json() -> None:
    request = WorkerRequest(
        entry="neural_net.py",
        kind="module",
        names=("TwoLayerNet",),
        seed=7,
        checks=(ProbeCall("forward_scores", "probes.py", "forward_scores"),),
        notebook_mode="full",
        cell_timeout=30.0,
        paths=SandboxPaths("/submission", "/tmp/work", "/data", "/probes"),
        limits=WorkerLimits(address_space=1 << 30, cpu_seconds=10, processes=None),
        result_fd=5,
    )
    assert WorkerRequest.from_json(json.loads(json.dumps(request.to_json()))) == request


def test_a_request_with_an_unknown_field_is_refused() -> None:
    data = WorkerRequest("a.py", "module", (), 0, ()).to_json()
    data["paths"]["home"] = "/root"
    with pytest.raises(TypeError):
        WorkerRequest.from_json(data)
