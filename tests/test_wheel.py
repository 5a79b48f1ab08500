"""The package works from its wheel, outside the repository, and finds course folders.

The wheel is built from a copy of the repository's packaged files (so the build writes
nothing into the repository), without network or build isolation, and installed with
`--no-deps` into a fresh virtual environment that borrows the running environment's
dependencies (conftest.make_venv_from_running_environment). Every command then runs from
folders that are not the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import BATCH_SEED, ROOT, make_venv_from_running_environment

from grader.course import locate

# What a wheel is built from: the files the sdist carries (MANIFEST.in, pyproject.toml).
_SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "grader", "reference")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in _SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=_IGNORE)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = source / "dist"
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)]
    done = subprocess.run(build, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = dist.glob("nn_grader-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh environment where grader comes from the wheel only."""
    env_dir = tmp_path_factory.mktemp("wheel-env") / "venv"
    python = make_venv_from_running_environment(env_dir, editable=False, wheels=(wheel,))
    code = "import grader; print(grader.__file__)"
    where = subprocess.run([str(python), "-c", code], cwd=env_dir, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(env_dir), "the grader must come from the wheel"
    return env_dir / "bin"


def _grader(
    bin_dir: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # PATH as a user's activated environment has it; no GRADER_* variable from outside
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    clean["PATH"] = f"{bin_dir}{os.pathsep}{clean.get('PATH', '')}"
    return subprocess.run(
        [str(bin_dir / "grader"), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_wheel_carries_the_handouts_and_py_typed_and_nothing_stray(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "grader/py.typed" in names
    for handout in ("two_layer_net", "fcc_sigmoid"):
        for part in ("checks.py", "probes.py", "hidden_probes.py"):
            assert f"grader/_handouts/{handout}/{part}" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "reference/", "student_template/"))]


def test_grade_template_and_check_work_from_the_wheel_in_any_folder(
    installed: Path, tmp_path: Path, example_batch: ModuleType
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # a course folder started by `grader init`; its example assignment earns full marks
    done = _grader(installed, "init", "my-course", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    course = tmp_path / "my-course"
    assert (course / "reference" / "two_layer_net" / "checks.py").is_file()

    # grade the example batch from another folder, against the course named by --course
    archive = example_batch.write_zip(elsewhere / "submissions.zip")
    done = _grader(
        installed,
        "grade",
        "submissions.zip",
        "-a",
        "two_layer_net",
        "--course",
        str(course),
        "-o",
        "out",
        "-j",
        "2",
        "--seed",
        str(BATCH_SEED),
        "--json",
        cwd=elsewhere,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["student"]["name"]: row for row in map(json.loads, done.stdout.splitlines())}
    assert rows["Ada Lovelace"]["score"] == rows["Ada Lovelace"]["max_score"] > 0  # the reference
    assert rows["Template Only"]["score"] < rows["Template Only"]["max_score"]
    assert len(rows) == len(example_batch.submissions())
    assert (elsewhere / "out" / "index.html").is_file() and archive.is_file()

    # the course is found by walking up: the template goes into the course folder
    inside = course / "reference"
    done = _grader(installed, "template", "two_layer_net", cwd=inside)
    assert done.returncode == 0, done.stderr
    template = course / "student_template" / "two_layer_net"
    assert (template / "grader_selfcheck" / "checks.json").is_file()

    # a student's check in the template: fails as handed out, full marks once solved
    done = _grader(installed, "check", cwd=template)
    assert done.returncode == 1 and "points" in done.stdout, done.stdout + done.stderr
    solution = course / "reference" / "two_layer_net" / "cs231nHD" / "neural_net.py"
    shutil.copyfile(solution, template / "cs231nHD" / "neural_net.py")
    done = _grader(installed, "check", cwd=template)
    assert done.returncode == 0 and "13 / 13 points" in done.stdout, done.stdout + done.stderr


def test_the_packaged_handouts_need_no_course_folder(installed: Path, tmp_path: Path) -> None:
    done = _grader(installed, "template", "fcc_sigmoid", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "student_template" / "fcc_sigmoid" / "grader_selfcheck" / "checks.json").is_file()
    done = _grader(installed, "template", "no_such_assignment", cwd=tmp_path)
    assert done.returncode == 2 and "fcc_sigmoid, two_layer_net" in done.stderr


# -- finding the course folder (in process) -----------------------------------------------


@pytest.fixture
def no_course_variables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(locate.COURSE_VARIABLE, raising=False)
    monkeypatch.delenv(locate.REFERENCE_VARIABLE, raising=False)
    yield


def _course(root: Path, *assignments: str) -> Path:
    for name in assignments:
        (root / "reference" / name).mkdir(parents=True)
        (root / "reference" / name / "checks.py").write_text("", encoding="utf-8")
    return root


@pytest.mark.usefixtures("no_course_variables")
def test_the_course_is_found_by_walking_up(tmp_path: Path) -> None:
    course = _course(tmp_path / "course", "week1")
    deep = course / "student_template" / "week1" / "sub"
    deep.mkdir(parents=True)
    assert locate.find_course(start=deep) == course.resolve()
    assert locate.find_course(start=tmp_path) is None


@pytest.mark.usefixtures("no_course_variables")
def test_explicit_folder_then_variables_then_walking_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _course(tmp_path / "first", "a"), _course(tmp_path / "second", "b")
    monkeypatch.chdir(first)
    assert locate.find_course() == first.resolve()
    monkeypatch.setenv(locate.COURSE_VARIABLE, str(second))
    assert locate.find_course() == second.resolve()
    assert locate.find_course(first) == first.resolve()
    monkeypatch.delenv(locate.COURSE_VARIABLE)
    monkeypatch.setenv(locate.REFERENCE_VARIABLE, str(second / "reference"))  # the older spelling
    assert set(locate.assignment_folders()) >= {"b", "two_layer_net", "fcc_sigmoid"}
    assert "a" not in locate.assignment_folders()


@pytest.mark.usefixtures("no_course_variables")
def test_a_course_assignment_overrides_a_handout_of_the_same_name(tmp_path: Path) -> None:
    course = _course(tmp_path / "course", "two_layer_net", "extra")
    folders = locate.assignment_folders(course)
    assert folders["two_layer_net"] == course.resolve() / "reference" / "two_layer_net"
    assert folders["extra"].parent == course.resolve() / "reference"
    handouts = locate.handouts_root()
    assert handouts is not None and folders["fcc_sigmoid"] == handouts / "fcc_sigmoid"


def test_init_refuses_an_existing_course(tmp_path: Path) -> None:
    from grader.errors import GraderError

    example = locate.init_course(tmp_path / "course")
    assert (example / "checks.py").is_file() and (tmp_path / "course" / "README.md").is_file()
    assert not list(example.rglob("__pycache__"))
    with pytest.raises(GraderError, match="already exists"):
        locate.init_course(tmp_path / "course")
