"""Shared fixtures: the repository's paths and one graded example batch per session."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import os
import shutil
import site
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement

from grader.results import SubmissionResult

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
BATCH_SEED = 20261124

# Tests never write into the user's home or cache: the grader's expected-value cache
# (XDG_CACHE_HOME), matplotlib's and Jupyter's/IPython's files go to a folder of this run,
# for this process and every subprocess it starts.
_SCRATCH_HOME = Path(tempfile.mkdtemp(prefix="grader-tests-home-"))
atexit.register(shutil.rmtree, _SCRATCH_HOME, True)
for _variable, _folder in {
    "XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config", "XDG_DATA_HOME": "data",
    "MPLCONFIGDIR": "matplotlib", "IPYTHONDIR": "ipython", "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "JUPYTER_DATA_DIR": "jupyter-data", "JUPYTER_CONFIG_DIR": "jupyter-config",
}.items():  # fmt: skip
    os.environ[_variable] = str(_SCRATCH_HOME / _folder)


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


# What runs inside the sandbox: the worker (numpy), what the handouts' student code imports
# (README: matplotlib, future) and the Jupyter kernel that runs a notebook in full.
SANDBOX_IMPORTS = ("numpy", "matplotlib", "future", "nbclient", "ipykernel")


def _closure(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """These distributions of the running environment and everything they require."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement this environment does not have
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # instant on the same filesystem
    except OSError:
        shutil.copy2(source, target)  # /tmp on its own filesystem (tmpfs)


def make_venv_from_running_environment(env_dir: Path, *, editable: bool = True, wheels: tuple[Path, ...] = ()) -> Path:
    """A new virtual environment under `env_dir` with the packages of the one running the tests.

    `system_site_packages` would expose only the base interpreter's packages, while the
    grader usually lives in a virtual environment (the README makes one). The trusted side
    sees the running environment's site-packages through a .pth file; what runs inside the
    sandbox (which binds only the new environment's prefix and the base interpreter) is
    linked or copied into the new environment itself. `editable=False` leaves out the
    running environment's editable installs (the grader under test), so that a wheel
    installed into the new environment is the grader it runs. `wheels` are installed (without
    dependencies, by the running environment's pip) before the running environment becomes
    visible, so that pip sees none of its distributions. Returns the new environment's python.
    """
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    query = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(
        subprocess.run([str(python), "-c", query], capture_output=True, text=True, check=True).stdout.strip()
    )
    for dist in _closure(SANDBOX_IMPORTS):
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file))).resolve()
            if source.is_file() and ".." not in file.parts:
                _link_or_copy(source, purelib / file)
    if wheels:
        install = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-cache-dir",
            "--no-deps",
            "--no-index",
            *map(str, wheels),
        ]
        subprocess.run(install, capture_output=True, text=True, check=True, timeout=300)
    ours = sorted(p for p in {*site.getsitepackages(), site.getusersitepackages()} if Path(p).is_dir())
    # `import` lines of a .pth run at start-up: addsitedir also runs the .pth files found
    # there (an editable install's finder); a plain path line does not
    lines = [f"import site; site.addsitedir({p!r})" if editable else p for p in ours]
    (purelib / "running_environment.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return python


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
def graded_example(
    tmp_path_factory: pytest.TempPathFactory, example_batch: ModuleType
) -> tuple[Path, dict[str, SubmissionResult]]:
    """The example zip graded once (fixed seed), with reports: (output folder, results by student)."""
    from grader.course.batch import GradeOptions, grade

    work = tmp_path_factory.mktemp("example")
    archive = example_batch.write_zip(work / "submissions.zip")
    out = work / "reports"
    options = GradeOptions(output=out, seed=BATCH_SEED, jobs=2, reference_root=REFERENCE, cache_dir=work / "cache")
    results = grade(archive, "two_layer_net", options)
    return out, {r.display_name: r for r in results}


# -- the grader's expected-value cache and its MAC key (issue 11, class 7) -------------------
# Set when conftest is imported, before any test module: `grade()`'s default options read
# the cache folder at import time. Every test (and every subprocess it starts) caches into
# a folder of this run, never the user's ~/.cache/grader or ~/.config/grader/cache.key.
def _private_grader_cache() -> Path:
    import atexit
    import os
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="grader-tests-cache-"))
    atexit.register(shutil.rmtree, scratch, True)
    os.environ["GRADER_CACHE"] = str(scratch / "cache")
    os.environ["GRADER_CACHE_KEY"] = str(scratch / "config" / "cache.key")
    return scratch


PRIVATE_CACHE = _private_grader_cache()
