"""The worker starts wherever a user's Python lives."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import venv
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from conftest import REFERENCE, ROOT

# What student code of the handouts imports inside the sandbox (README: "what the course's
# student code imports"); the worker itself needs numpy only.
SANDBOX_IMPORTS = ("numpy", "matplotlib", "future")


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


def make_venv_from_running_environment(env_dir: Path) -> Path:
    """A new virtual environment under `env_dir` with the packages of the one running the tests.

    `system_site_packages` would expose only the base interpreter's packages, while the
    grader usually lives in a virtual environment (the README makes one). The trusted side
    sees the running environment's site-packages through a .pth file; what runs inside the
    sandbox (which binds only the new environment's prefix and the base interpreter) is
    linked or copied into the new environment itself. Returns the new environment's python.
    """
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    query = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(subprocess.run([str(python), "-c", query], capture_output=True, text=True, check=True).stdout.strip())
    for dist in _closure(SANDBOX_IMPORTS):
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file))).resolve()
            if source.is_file() and ".." not in file.parts:
                _link_or_copy(source, purelib / file)
    ours = [p for p in {*site.getsitepackages(), site.getusersitepackages()} if Path(p).is_dir()]
    # `import` lines of a .pth run at start-up: addsitedir also runs the .pth files found
    # there (an editable install's finder), which a plain path line would not
    lines = [f"import site; site.addsitedir({p!r})" for p in sorted(ours)]
    (purelib / "running_environment.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return python


def test_grading_from_a_virtualenv_under_tmp(tmp_path: Path) -> None:
    # pytest's tmp_path is under /tmp, which the sandbox replaces with its own tmpfs:
    # the venv's prefix must still be visible inside
    env_dir = tmp_path / "venv"
    python = make_venv_from_running_environment(env_dir)
    folder = shutil.copytree(ROOT / "student_template" / "two_layer_net", tmp_path / "two_layer_net")
    shutil.copyfile(REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py", folder / "cs231nHD" / "neural_net.py")
    done = subprocess.run([str(python), "-m", "grader", "check"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "13 / 13 points" in done.stdout
    # the grader ran in the new environment, with its own numpy (the one the sandbox can see)
    where = "import sys, numpy; print(sys.prefix); print(numpy.__file__)"
    prefix, numpy_file = subprocess.run([str(python), "-c", where], capture_output=True, text=True, check=True).stdout.split()
    assert Path(prefix) == env_dir and Path(numpy_file).is_relative_to(env_dir)
