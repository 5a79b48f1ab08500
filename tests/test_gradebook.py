"""gradebook.csv and Gradescope's results.json: what a spreadsheet or Gradescope reads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grader.outputs.gradebook import (
    FIXED_COLUMNS,
    write_gradebook,
    write_gradescope_json,
)
from grader.results import CheckResult, CheckStatus, SubmissionResult


def graded(name: str, points: tuple[float, float, float], hidden_status: CheckStatus = "passed") -> SubmissionResult:
    checks = (
        CheckResult("forward_scores", points[0], 4, "passed" if points[0] == 4 else "failed", "sum |diff| ok"),
        CheckResult("gradients", points[1], 4, "passed" if points[1] == 4 else "error", "NameError at neural_net.py:21: name 'dscores' is not defined", details=("line: grads['W2'] = hidden.T.dot(dscores)",), location="neural_net.py:21"),
        CheckResult("digits_accuracy", points[2], 4, hidden_status, "validation accuracy 0.52 should be at least 0.9", public=False, details=("secret rows 3, 7",), location="neural_net.py:30"),
    )
    return SubmissionResult(name, "two_layer_net", sum(points), 12, "graded", checks, seconds=2.6)


def broken(name: str) -> SubmissionResult:
    return SubmissionResult(name, "two_layer_net", 0, 12, "error", error="not a valid zip archive; re-create it and resubmit")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_one_row_per_submission_with_the_same_values(tmp_path: Path) -> None:
    results = [graded("alice", (4, 4, 4)), graded("bob", (4, 0, 1.5), "failed"), broken("carol")]
    rows = read_rows(write_gradebook(results, tmp_path / "gradebook.csv"))
    assert len(rows) == 3
    assert list(rows[0]) == [*FIXED_COLUMNS, "forward_scores", "gradients", "digits_accuracy"]
    by_name = {r["submission"]: r for r in rows}
    assert float(by_name["alice"]["score"]) == 12 and by_name["alice"]["percent"] == "100"
    assert by_name["bob"]["score"] == "5.5" and by_name["bob"]["percent"] == "45.83"
    assert by_name["bob"]["gradients"] == "0" and by_name["bob"]["digits_accuracy"] == "1.5"
    assert by_name["carol"]["status"] == "error"
    assert by_name["carol"]["error"] == "not a valid zip archive; re-create it and resubmit"
    # a submission that never ran a check has empty cells, not zeros
    assert by_name["carol"]["forward_scores"] == "" and by_name["carol"]["score"] == "0"


def test_check_columns_are_the_union_in_first_seen_order(tmp_path: Path) -> None:
    first = SubmissionResult("a", "x", 1, 2, "graded", (CheckResult("one", 1, 1, "passed", ""),))
    second = SubmissionResult("b", "x", 1, 2, "graded", (CheckResult("two", 0, 1, "failed", ""), CheckResult("one", 1, 1, "passed", "")))
    rows = read_rows(write_gradebook([first, second], tmp_path / "g.csv"))
    assert list(rows[0])[len(FIXED_COLUMNS):] == ["one", "two"]
    assert rows[0]["two"] == "" and rows[1]["two"] == "0"


@pytest.mark.parametrize(
    ("evil", "cell"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "' cmd"),
        ("  =1+1", "'  =1+1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("\x1b[0m=1+1", "'=1+1"),
    ],
)
def test_formula_cells_are_defused(tmp_path: Path, evil: str, cell: str) -> None:
    results = [SubmissionResult(evil, "two_layer_net", 0, 4, "error", error=evil)]
    row = read_rows(write_gradebook(results, tmp_path / "g.csv"))[0]
    assert row["submission"] == cell
    assert row["error"] == cell


def test_ordinary_text_is_not_prefixed(tmp_path: Path) -> None:
    results = [SubmissionResult("mary-jane", "x", 0, 4, "error", error="a - b = c")]
    row = read_rows(write_gradebook(results, tmp_path / "g.csv"))[0]
    assert row["submission"] == "mary-jane" and row["error"] == "a - b = c"


def test_formula_check_names_are_defused_in_the_header(tmp_path: Path) -> None:
    result = SubmissionResult("a", "x", 1, 1, "graded", (CheckResult("=1+1", 1, 1, "passed", ""),))
    rows = read_rows(write_gradebook([result], tmp_path / "g.csv"))
    assert "'=1+1" in rows[0] and rows[0]["'=1+1"] == "1"


def test_numbers_we_write_are_never_prefixed(tmp_path: Path) -> None:
    rows = read_rows(write_gradebook([graded("alice", (4, 4, 4))], tmp_path / "g.csv"))
    for column in ("score", "max_score", "percent", "forward_scores"):
        float(rows[0][column])  # parses as a plain number


def test_quotes_commas_newlines_and_escapes_survive_a_round_trip(tmp_path: Path) -> None:
    name = 'O\'Brien, "Pat"\u202e'
    results = [SubmissionResult(name, "x", 0, 4, "error", error="line one\nline two \x1b[31mred\x1b[0m")]
    row = read_rows(write_gradebook(results, tmp_path / "g.csv"))[0]
    assert row["submission"] == 'O\'Brien, "Pat"'
    assert row["error"] == "line one line two red"


def test_empty_batch_writes_only_the_header(tmp_path: Path) -> None:
    path = write_gradebook([], tmp_path / "out" / "g.csv")
    assert path.read_text(encoding="utf-8").strip() == ",".join(FIXED_COLUMNS)


def test_gradescope_json_shape_and_visibility(tmp_path: Path) -> None:
    data = json.loads(write_gradescope_json(graded("bob", (4, 0, 1.5), "failed"), tmp_path / "results.json").read_text())
    assert data["score"] == 5.5
    assert [t["name"] for t in data["tests"]] == ["forward_scores", "gradients", "digits_accuracy"]
    assert [t["visibility"] for t in data["tests"]] == ["visible", "visible", "after_published"]
    assert all(set(t) >= {"name", "score", "max_score", "output", "visibility"} for t in data["tests"])
    gradients = data["tests"][1]
    assert gradients["score"] == 0 and gradients["max_score"] == 4 and gradients["status"] == "failed"
    assert "dscores" in gradients["output"] and "neural_net.py:21" in gradients["output"]
    hidden = data["tests"][2]
    assert "should be at least 0.9" in hidden["output"]
    assert "secret rows" not in hidden["output"] and "neural_net.py:30" not in hidden["output"]


def test_gradescope_json_for_an_ungradable_submission(tmp_path: Path) -> None:
    data = json.loads(write_gradescope_json(broken("carol"), tmp_path / "results.json").read_text())
    assert data["score"] == 0 and data["tests"] == []
    assert "could not be graded" in data["output"] and "not a valid zip" in data["output"]
