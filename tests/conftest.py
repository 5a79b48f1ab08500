"""Shared fixtures: the repository's paths and one graded example batch per session."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
BATCH_SEED = 20261124


def load_example_batch() -> ModuleType:
    """examples/two_layer_net/make_batch.py: the reference, the template and the mutants."""
    path = ROOT / "examples" / "two_layer_net" / "make_batch.py"
    spec = importlib.util.spec_from_file_location("make_batch", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_batch"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def example_batch() -> ModuleType:
    return load_example_batch()


@pytest.fixture(scope="session")
def graded_example(tmp_path_factory: pytest.TempPathFactory, example_batch: ModuleType) -> tuple[Path, dict[str, object]]:
    """The example zip graded once (fixed seed), with reports: (output folder, results by student)."""
    from grader.batch import GradeOptions, grade

    work = tmp_path_factory.mktemp("example")
    archive = example_batch.write_zip(work / "submissions.zip")
    out = work / "reports"
    options = GradeOptions(output=out, seed=BATCH_SEED, jobs=2, reference_root=REFERENCE, cache_dir=work / "cache")
    results = grade(archive, "two_layer_net", options)
    return out, {r.submission.split("_")[0]: r for r in results}
