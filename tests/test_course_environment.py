"""Real course code runs as it does on the students' machines (headless, Python 3)."""

from __future__ import annotations

from pathlib import Path

from conftest import REFERENCE

from grader.course.batch import GradeOptions, grade

HEIDELBERG_PREAMBLE = """\
import numpy as np
import matplotlib.pyplot as plt
from past.builtins import xrange
from builtins import range
np.seterr(all='raise')  # the original starter does this (the next test pins its effect)
plt.plot([0, 1], [1, 0])
plt.show()  # headless: must be harmless
"""


def test_starter_preamble_does_not_break_the_harness(tmp_path: Path) -> None:
    source = (REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text()
    student = tmp_path / "batch" / "erin"
    student.mkdir(parents=True)
    future = "from __future__ import annotations\n"
    assert future in source, "the reference changed: place the preamble after its first imports"
    (student / "neural_net.py").write_text(source.replace(future, future + HEIDELBERG_PREAMBLE, 1))
    (result,) = grade(
        tmp_path / "batch",
        "two_layer_net",
        GradeOptions(output=tmp_path / "out", seed=8, reports=False, reference_root=REFERENCE),
    )
    assert result.score == 20, [c.message for c in result.checks if not c.passed]


def test_numpy_error_state_set_at_import_does_not_reach_the_probes(tmp_path: Path) -> None:
    # a tiny assignment whose probe underflows: under a leaked seterr(all='raise') it would
    # raise FloatingPointError in the harness's own code and cost the student the check
    reference = tmp_path / "reference" / "underflow"
    reference.mkdir(parents=True)
    (reference / "checks.py").write_text(
        "from grader import Assignment, Check, matches_reference\n"
        "assignment = Assignment(name='underflow', title='t', entry='neural_net.py', names=('f',),\n"
        "    checks=(Check('tiny', 1, matches_reference(max_abs=0.0)),))\n"
    )
    (reference / "probes.py").write_text(
        "import numpy as np\n\ndef tiny(nn, ctx):\n    return np.exp(np.array([-1000.0])) * nn.f()\n"
    )
    (reference / "neural_net.py").write_text("def f():\n    return 1.0\n")
    student = tmp_path / "batch" / "erin"
    student.mkdir(parents=True)
    (student / "neural_net.py").write_text("import numpy as np\nnp.seterr(all='raise')\n\ndef f():\n    return 1.0\n")
    (result,) = grade(
        tmp_path / "batch",
        "underflow",
        GradeOptions(
            output=tmp_path / "out", seed=1, reports=False, reference_root=tmp_path / "reference", cache_dir=None
        ),
    )
    assert result.checks[0].status == "passed", result.checks[0].message
