"""SANDBOX.md trap 7: bytecode planted beside a source must not run in place of it."""

from __future__ import annotations

import importlib.util
import py_compile
import shutil
from pathlib import Path

from conftest import REFERENCE

from grader.course.batch import GradeOptions, grade

CHEAT = "import numpy as np\nclass TwoLayerNet:\n    def __init__(self, *a, **k):\n        self.params = {}\n    def loss(self, X, y=None, reg=0.0):\n        return np.full((X.shape[0], 3), 7.0)\n"


def test_planted_pyc_files_never_replace_the_visible_source(tmp_path: Path) -> None:
    student = tmp_path / "batch" / "mallory"
    student.mkdir(parents=True)
    shutil.copyfile(REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py", student / "neural_net.py")
    cheat = tmp_path / "cheat" / "neural_net.py"
    cheat.parent.mkdir()
    cheat.write_text(CHEAT)
    # an unchecked-hash .pyc is used whatever the source says, and a bare .pyc imports alone
    cached = student / "__pycache__" / Path(importlib.util.cache_from_source(str(student / "neural_net.py"))).name
    cached.parent.mkdir()
    py_compile.compile(str(cheat), cfile=str(cached), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    py_compile.compile(str(cheat), cfile=str(student / "neural_net.pyc"))
    (result,) = grade(
        tmp_path / "batch",
        "two_layer_net",
        GradeOptions(output=tmp_path / "out", seed=2, reports=False, reference_root=REFERENCE),
    )
    assert result.files == ("neural_net.py",)
    assert any("not read" in note and "neural_net.pyc" in note for note in result.notes)
    assert result.score == 20, [c.message for c in result.checks if not c.passed]
