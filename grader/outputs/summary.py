"""The class summary page, `index.html`: scores, the pass rate of each check, every report.

Reads `SubmissionResult`s only, through the same templates and escaping as report.py.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from grader.outputs.check_figures import class_figures
from grader.outputs.plots import PLOT_CSS
from grader.outputs.report import format_number, report_file_name, template_environment
from grader.outputs.similarity import SimilarPair
from grader.outputs.text import clean_text
from grader.results import CheckResult, SubmissionResult

__all__ = ["write_index"]

_PROBLEM_LIMIT = 160  # characters of the problem column: the report has the rest


def write_index(
    results: Sequence[SubmissionResult], out_dir: Path, assignment: str, similar: Sequence[SimilarPair] = ()
) -> Path:
    """Write the class summary `out_dir/index.html`, linking every submission's report.

    `similar` are pairs of near-identical submissions, listed with their shared code side by
    side for a human to judge. The links assume each report was written by
    `write_submission_report` into the same folder. Raises OSError when `out_dir` cannot be written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    page = _index_page(results, assignment)
    page["similar"] = _similar_views(similar, {r.submission: r.display_name for r in results})
    page["similar_more"] = max(0, len(similar) - _SIMILAR_SHOWN)
    html = template_environment().get_template("index.html.j2").render(page=page)
    path.write_text(html, encoding="utf-8")
    return path


_SIMILAR_SHOWN = 20


@dataclass(frozen=True, slots=True)
class _SimilarView:
    first: str
    second: str
    first_href: str
    second_href: str
    first_share: str
    second_share: str
    first_file: str
    second_file: str
    first_segments: tuple[tuple[str, bool], ...]
    second_segments: tuple[tuple[str, bool], ...]


def _similar_views(pairs: Sequence[SimilarPair], names: dict[str, str]) -> list[_SimilarView]:
    return [
        _SimilarView(
            clean_text(names.get(p.first, p.first)), clean_text(names.get(p.second, p.second)),
            report_file_name(p.first), report_file_name(p.second),
            f"{100 * p.first_share:.0f}%", f"{100 * p.second_share:.0f}%",
            clean_text(p.first_file), clean_text(p.second_file),
            tuple((clean_text(s.text), s.shared) for s in p.first_segments),
            tuple((clean_text(s.text), s.shared) for s in p.second_segments),
        )
        for p in pairs[:_SIMILAR_SHOWN]
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class _CheckRate:
    name: str
    max_points: str
    public: bool
    counts: dict[str, int]
    taken: int
    rate: float


@dataclass(frozen=True, slots=True)
class _Row:
    submission: str
    href: str
    score: str
    max_score: str
    percent: float
    status: str
    status_label: str  # "graded", "could not run" (a load failure) or "not graded"
    passed: str
    seconds: str
    problem: str  # why points were lost: the load failure, or the first check that failed
    # the grade after manual marks and late penalty ("" when neither applies)
    grade: str = ""


@dataclass(frozen=True, slots=True)
class _MistakeCount:
    """A known mistake and the students it was diagnosed in: what to explain again."""

    name: str
    title: str
    handout: str
    checks: str
    students: tuple[tuple[str, str], ...]  # (name, report link)


def _mistake_counts(results: Sequence[SubmissionResult]) -> list[_MistakeCount]:
    """Each diagnosed mistake with the students it was found in, the most frequent first."""
    found: dict[str, dict[str, object]] = {}
    for result in results:
        for check in result.checks:
            d = check.diagnosis
            if d is None or not d.mistake:
                continue
            entry = found.setdefault(
                d.mistake,
                {"name": d.name or d.mistake, "title": d.title, "handout": d.handout, "checks": {}, "students": {}},
            )
            entry["checks"][clean_text(check.name)] = None  # type: ignore[index]
            entry["students"][result.submission] = report_file_name(result.submission)  # type: ignore[index]
    counts = [
        _MistakeCount(
            clean_text(str(e["name"])),
            clean_text(str(e["title"])),
            clean_text(str(e["handout"])),
            ", ".join(e["checks"]),  # type: ignore[arg-type]
            tuple(
                (clean_text(name), href)
                for name, href in sorted(e["students"].items(), key=lambda kv: kv[0].casefold())  # type: ignore[attr-defined]
            ),
        )
        for e in found.values()
    ]
    return sorted(counts, key=lambda m: (-len(m.students), m.name))


def _problem(result: SubmissionResult) -> str:
    """What cost this student points, in one line: why nothing ran, or the first failing
    check that is not advice ("" for full marks)."""
    if result.error or result.status == "error":
        return clean_text(result.error or "could not be graded")
    lost = next((c for c in result.checks if not c.passed and not c.advice), None)
    text = f"{clean_text(lost.name)}: {clean_text(lost.message)}" if lost else ""
    return text if len(text) <= _PROBLEM_LIMIT else text[: _PROBLEM_LIMIT - 1].rstrip() + "\u2026"


def _status_label(result: SubmissionResult) -> str:
    if result.status == "error":
        return "not graded"
    return "could not run" if result.error else "graded"


def _check_rates(results: Sequence[SubmissionResult]) -> list[_CheckRate]:
    # Only submissions that ran a check count towards its rate; first-seen order keeps
    # the assignment's own order of checks.
    seen: dict[str, list[CheckResult]] = {}
    for result in results:
        for check in result.checks:
            seen.setdefault(check.name, []).append(check)
    rates = []
    for name, runs in seen.items():
        counts = {s: sum(c.status == s for c in runs) for s in ("passed", "failed", "error", "timeout")}
        rates.append(
            _CheckRate(
                clean_text(name),
                format_number(runs[0].max_points),
                runs[0].public,
                counts,
                len(runs),
                100.0 * counts["passed"] / len(runs),
            )
        )
    return rates


def _index_page(results: Sequence[SubmissionResult], assignment: str) -> dict[str, object]:
    ordered = sorted(results, key=lambda r: r.submission.casefold())
    percents = [r.percent for r in ordered]
    graded = [r.percent for r in ordered if r.status == "graded"]
    maxima = {r.max_score for r in ordered}
    common_max = next(iter(maxima)) if len(maxima) == 1 else None
    rows = [
        _Row(
            submission=clean_text(r.display_name),
            href=report_file_name(r.submission),
            score=format_number(r.score),
            max_score=format_number(r.max_score),
            percent=max(0.0, min(100.0, r.percent)),
            status=r.status,
            status_label=_status_label(r),
            # advice is shown apart in the report and is no part of "checks passed"
            passed=f"{sum(c.passed for c in r.checks if not c.advice)} / {sum(not c.advice for c in r.checks)}"
            if r.checks
            else "\u2013",
            seconds=f"{r.seconds:.1f}",
            problem=_problem(r),
            grade=f"{format_number(r.total)} / {format_number(r.total_max)}"
            if r.manual or (r.late is not None and r.late.points)
            else "",
        )
        for r in ordered
    ]

    def stat(values: Sequence[float], how: str) -> str:
        if not values:
            return "\u2013"
        value = statistics.fmean(values) if how == "mean" else statistics.median(values)
        points = (
            f"{format_number(round(value * common_max / 100, 2))} / {format_number(common_max)} \u00b7 "
            if common_max
            else ""
        )
        return f"{points}{value:.1f}%"

    return {
        "assignment": clean_text(assignment),
        "count": len(ordered),
        "errors": len(ordered) - len(graded),
        "mean": stat(percents, "mean"),
        "median": stat(percents, "median"),
        "graded_mean": stat(graded, "mean"),
        "checks": _check_rates(ordered),
        "rows": rows,
        # issue 13: the class page's figures and the diagnosed mistakes across the class
        "figures": class_figures(ordered),
        "plot_css": Markup(PLOT_CSS),
        "mistakes": _mistake_counts(ordered),
        "grades": any(row.grade for row in rows),
    }
