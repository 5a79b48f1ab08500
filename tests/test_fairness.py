"""Tolerances that correct code always meets and known bugs never do, on 1,000 seeds.

The probes and expectations of reference/two_layer_net run in-process here (this tests
the checks, not the isolation): each variant in tests/fairness/ is probed as a module,
its results cross the same wire encoding a worker uses, and the checks' expectations
judge them against the reference's observations of the same seed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from conftest import REFERENCE, import_file, reference_package

from grader.assignment import Assignment, Check
from grader.course.assignments import load_assignment
from grader.sandbox.wire import FrameReader, encode_frame
from grader.worker.runner import ProbeContext

FAIR = Path(__file__).resolve().parent / "fairness"
SEEDS = range(1000)
SEEDED = ("hidden_scores", "hidden_loss", "hidden_gradients")  # the checks whose inputs follow the seed
DIGITS_SEEDS = (1, 2)  # training on the digits costs ~1 s a run: a few seeds only


class Probing:
    """The assignment's probes and expectations, run in this process."""

    def __init__(self, reference: Any, data_dir: Path) -> None:
        self.assignment: Assignment = load_assignment("two_layer_net", REFERENCE)
        folder = self.assignment.folder
        self.probes = {
            "probes.py": import_file(folder / "probes.py", "_fair_probes"),
            "hidden_probes.py": import_file(folder / "hidden_probes.py", "_fair_hidden_probes"),
        }
        self.reference = reference
        self.data_dir = data_dir
        self.checks = {c.name: c for c in self.assignment.checks}

    def observe(self, nn: Any, check: Check, seed: int) -> dict[str, Any]:
        probe: Callable[[Any, Any], Any] = getattr(self.probes[check.probe_file], check.probe_name)
        returned = probe(nn, ProbeContext(seed=seed, data_dir=self.data_dir))
        values = {str(k): v for k, v in returned.items()} if type(returned) is dict else {"value": returned}
        (frame,) = FrameReader(1 << 26, 1 << 28).feed(encode_frame({"type": "result"}, values))
        return frame.arrays

    def passes(self, nn: Any, name: str, seed: int, secrets: dict[str, np.ndarray]) -> bool:
        check = self.checks[name]
        expected = self.observe(self.reference, check, seed) if check.expect.needs_reference else None
        try:
            observed = self.observe(nn, check, seed)
        except Exception:  # noqa: BLE001  # the probe raised: the check is an error, not a pass
            return False
        verdict = check.expect.judge(observed, expected, secrets, check.public)
        return verdict.passed


@pytest.fixture(scope="module")
def probing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probing]:
    sys.path.insert(0, str(FAIR))
    try:
        with reference_package("neural_net") as modules:
            yield Probing(
                SimpleNamespace(TwoLayerNet=modules["neural_net"].TwoLayerNet), tmp_path_factory.mktemp("fair-data")
            )
    finally:
        sys.path.remove(str(FAIR))


@pytest.fixture(scope="module")
def variants(probing: Probing) -> ModuleType:
    return import_file(FAIR / "variants.py", "_fair_variants")


def _namespace(cls: type) -> SimpleNamespace:
    return SimpleNamespace(TwoLayerNet=cls)


def _correct(variants: ModuleType) -> dict[str, SimpleNamespace]:
    loops = import_file(FAIR / "loops.py", "_fair_loops")
    return {
        "vectorised": _namespace(variants.Vectorised),
        "per-example loops": _namespace(loops.TwoLayerNet),
        "minibatches without replacement": _namespace(variants.WithoutReplacement),
        "float32 training": _namespace(variants.Float32Training),
    }


# bug -> the checks it must fail; it must pass every other graded check
BUGS: dict[str, tuple[str, ...]] = {
    "NoReluMask": ("gradients", "hidden_gradients"),
    "NoRegularisation": ("toy_loss", "gradients", "hidden_loss", "hidden_gradients"),
    "RegularisedBiases": ("hidden_loss", "hidden_gradients"),  # the toy model's biases start at 0
    "SoftmaxWrongAxis": ("toy_data_loss", "toy_loss", "gradients", "stable_loss", "hidden_loss", "hidden_gradients"),
    "FullRegConvention": ("toy_loss", "gradients", "hidden_loss", "hidden_gradients"),
    "NoUpdate": ("toy_training",),
    "UnstableSoftmax": ("stable_loss",),  # advice only: it loses no point
}
# Training with a wrong gradient may or may not reach the thresholds: not asserted either way.
TRAINING = ("toy_training", "digits_accuracy")


def _public_names(probing: Probing) -> list[str]:
    return [c.name for c in probing.assignment.checks if c.public]


def test_correct_variants_pass_every_public_check(probing: Probing, variants: ModuleType) -> None:
    for label, nn in _correct(variants).items():
        failed = [n for n in _public_names(probing) if not probing.passes(nn, n, 0, {})]
        # the loops variant's softmax is the handout's unshifted one: advice only
        assert failed == (["stable_loss"] if label == "per-example loops" else []), label


def test_correct_variants_pass_the_hidden_checks_on_1000_seeds(probing: Probing, variants: ModuleType) -> None:
    for label, nn in _correct(variants).items():
        failed = [(seed, n) for seed in SEEDS for n in SEEDED if not probing.passes(nn, n, seed, {})]
        assert failed == [], f"{label} fails {len(failed)} seeded checks, first {failed[:3]}"


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_fails_exactly_its_checks(probing: Probing, variants: ModuleType, bug: str) -> None:
    nn = _namespace(getattr(variants, bug))
    must_fail = set(BUGS[bug])
    public = [n for n in _public_names(probing) if n not in TRAINING or n in must_fail]
    public_failed = {n for n in public if not probing.passes(nn, n, 0, {})}
    assert public_failed == must_fail - set(SEEDED) - {"digits_accuracy"}
    for seed in range(0, 1000, 1 if bug != "UnstableSoftmax" else 10):
        seeded_failed = {n for n in SEEDED if not probing.passes(nn, n, seed, {})}
        assert seeded_failed == must_fail & set(SEEDED), f"{bug}, seed {seed}"


def test_the_grader_computes_training_results_from_the_trained_weights(probing: Probing, variants: ModuleType) -> None:
    prepare = probing.assignment.prepare_data
    assert prepare is not None
    for seed in DIGITS_SEEDS:
        secrets = dict(prepare(probing.data_dir, seed))
        assert probing.passes(_namespace(variants.Vectorised), "digits_accuracy", seed, secrets)
        if seed == DIGITS_SEEDS[0]:  # per-example loops train slowly: one seed
            assert probing.passes(import_file(FAIR / "loops.py", "_fair_loops"), "digits_accuracy", seed, secrets)
        # A train that changes nothing earns nothing, whatever its predict or history say.
        assert not probing.passes(_namespace(variants.NoUpdate), "digits_accuracy", seed, secrets)


def test_reference_guard_refuses_an_assignment_whose_reference_misses(tmp_path: Path) -> None:
    """A tolerance set too tight stops `grade` and `template` with the check's name."""
    import shutil

    from grader.course.batch import GradeOptions, grade
    from grader.course.template import write_template
    from grader.errors import AssignmentError

    root = tmp_path / "reference"
    shutil.copytree(
        REFERENCE / "two_layer_net",
        root / "two_layer_net",
        ignore=shutil.ignore_patterns("__pycache__", ".course_seed"),
    )
    checks = root / "two_layer_net" / "checks.py"
    checks.write_text(
        checks.read_text().replace(
            'at_most(0.02, what="final training loss")', 'at_most(1e-9, what="final training loss")'
        )
    )
    (tmp_path / "batch").mkdir()
    shutil.copyfile(FAIR / "variant_base.py", tmp_path / "batch" / "neural_net.py")
    options = GradeOptions(
        output=tmp_path / "out", seed=4, reports=False, reference_root=root, cache_dir=tmp_path / "cache"
    )
    with pytest.raises(AssignmentError, match="toy_training"):
        grade(tmp_path / "batch", "two_layer_net", options)
    with pytest.raises(AssignmentError, match="does not earn full marks"):
        write_template("two_layer_net", tmp_path / "template", root)


def test_same_code_same_score_in_two_batches_from_the_course_seed(tmp_path: Path) -> None:
    """Graded in the sandbox: a Heidelberg-style solution earns 20/20 (the stable softmax is
    advice), in a batch of its own and again beside another student, with the course seed."""
    import shutil

    from grader.course.batch import GradeOptions, grade

    root = tmp_path / "reference"
    shutil.copytree(
        REFERENCE / "two_layer_net",
        root / "two_layer_net",
        ignore=shutil.ignore_patterns("__pycache__", ".course_seed"),
    )
    scores = []
    for n, students in enumerate((["heidelberg"], ["heidelberg", "vectorised"])):
        batch = tmp_path / f"batch{n}"
        for student in students:
            (batch / student).mkdir(parents=True)
            shutil.copyfile(
                FAIR / ("loops.py" if student == "heidelberg" else "variant_base.py"), batch / student / "neural_net.py"
            )
        options = GradeOptions(output=tmp_path / f"out{n}", jobs=2, reference_root=root, cache_dir=tmp_path / "cache")
        results = {r.submission: r for r in grade(batch, "two_layer_net", options)}
        scores.append({k: (r.score, r.max_score) for k, r in results.items()})
        heidelberg = {c.name: c for c in results["heidelberg"].checks}
        assert heidelberg["stable_loss"].status == "failed" and heidelberg["stable_loss"].advice
        report = (tmp_path / f"out{n}" / "heidelberg.html").read_text()
        assert "Advice" in report and "Seed" not in report
    seed_file = root / "two_layer_net" / ".course_seed"
    assert seed_file.is_file()
    assert seed_file.read_text().split()[-1] not in (tmp_path / "out1" / "heidelberg.html").read_text()
    assert scores[0]["heidelberg"] == scores[1]["heidelberg"] == (20.0, 20.0)
    assert scores[1]["vectorised"] == (20.0, 20.0)


@pytest.mark.parametrize("name", sorted(p.parent.name for p in REFERENCE.glob("*/checks.py")))
def test_every_reference_earns_full_marks_on_its_own_checks(name: str, tmp_path: Path) -> None:
    from grader.course.batch import GradeOptions, require_full_marks

    assignment = load_assignment(name, REFERENCE)
    options = GradeOptions(seed=11, reports=False, reference_root=REFERENCE, cache_dir=tmp_path)
    require_full_marks(assignment, options, 11)  # raises AssignmentError naming the check
    assert list(tmp_path.glob(f"full-marks-{name}-*")), "a pass is remembered, so the next run is free"


def test_students_self_check_passes_a_correct_solution_and_shows_advice(tmp_path: Path) -> None:
    """`grader check` in the template folder: the toy training is judged on the student's own
    loss of the trained weights (no reference there); the unstable softmax is advice."""
    import shutil

    from grader.course.selfcheck import check

    folder = tmp_path / "two_layer_net"
    shutil.copytree(REFERENCE.parent / "student_template" / "two_layer_net", folder)
    shutil.copyfile(FAIR / "loops.py", folder / "cs231nHD" / "neural_net.py")
    report = check(path=folder)
    assert report.passed, repr(report)
    lines = {line.split()[1]: line.split()[0] for line in repr(report).splitlines()[1:] if line.startswith("  ")}
    assert lines["stable_loss"] == "ADVICE" and lines["toy_training"] == "PASS"
    shutil.copyfile(FAIR / "variant_base.py", folder / "cs231nHD" / "neural_net.py")
    assert "ADVICE" not in repr(check(path=folder))


def test_course_seed_is_created_once_and_only_a_hash_of_it_reaches_the_sandbox(tmp_path: Path) -> None:
    import shutil
    from dataclasses import replace

    from grader.course.seeds import course_seed, derive_seed
    from grader.errors import AssignmentError

    folder = tmp_path / "two_layer_net"
    shutil.copytree(REFERENCE / "two_layer_net", folder, ignore=shutil.ignore_patterns("__pycache__", ".course_seed"))
    assignment = replace(load_assignment("two_layer_net", REFERENCE), folder=folder)
    first = course_seed(assignment, None)
    assert course_seed(assignment, None) == first  # read back, never drawn again
    assert str(first) in (folder / ".course_seed").read_text()
    probes_seed = derive_seed(first, "probes")
    assert probes_seed not in (first, derive_seed(first, "data")) and probes_seed == derive_seed(first, "probes")
    (folder / ".course_seed").write_text("# damaged\nnot a number\n")
    with pytest.raises(AssignmentError, match="one whole number"):
        course_seed(assignment, None)
