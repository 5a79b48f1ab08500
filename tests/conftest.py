"""Shared fixtures: the repository's paths and one graded example batch per session."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
BATCH_SEED = 20261124


def import_file(path: Path, name: str) -> ModuleType:
    """Import one file as module `name` (registered, so its dataclasses resolve)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_example_batch() -> ModuleType:
    """examples/two_layer_net/make_batch.py: the reference, the template and the mutants."""
    return import_file(ROOT / "examples" / "two_layer_net" / "make_batch.py", "make_batch")


@contextlib.contextmanager
def reference_package(*names: str) -> Iterator[dict[str, ModuleType]]:
    """Modules of reference/two_layer_net/cs231nHD, imported fresh.

    Other tests may import a different `cs231nHD` (a template, a submission), so the
    package is imported anew here and sys.modules/sys.path are restored afterwards.
    """
    folder = REFERENCE / "two_layer_net"

    def ours(key: str) -> bool:
        return key == "cs231nHD" or key.startswith("cs231nHD.")

    saved = {k: v for k, v in sys.modules.items() if ours(k)}
    for key in saved:
        del sys.modules[key]
    sys.path.insert(0, str(folder))
    try:
        importlib.invalidate_caches()
        modules = {name: importlib.import_module(f"cs231nHD.{name}") for name in names}
        for name, module in modules.items():
            assert Path(str(module.__file__)).resolve() == (folder / "cs231nHD" / f"{name}.py").resolve()
        yield modules
    finally:
        sys.path.remove(str(folder))
        for key in [k for k in sys.modules if ours(k)]:
            del sys.modules[key]
        sys.modules.update(saved)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Expected values and the full-marks guard cache into a temporary folder, never ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_CACHE", str(tmp_path_factory.mktemp("grader-cache")))
        yield


@pytest.fixture(scope="session")
def example_batch() -> ModuleType:
    return load_example_batch()


@pytest.fixture(scope="session")
def graded_example(tmp_path_factory: pytest.TempPathFactory, example_batch: ModuleType) -> tuple[Path, dict[str, object]]:
    """The example zip graded once (fixed seed), with reports: (output folder, results by student)."""
    from grader.course.batch import GradeOptions, grade

    work = tmp_path_factory.mktemp("example")
    archive = example_batch.write_zip(work / "submissions.zip")
    out = work / "reports"
    options = GradeOptions(output=out, seed=BATCH_SEED, jobs=2, reference_root=REFERENCE, cache_dir=work / "cache")
    results = grade(archive, "two_layer_net", options)
    return out, {r.submission.split("_")[0]: r for r in results}
