"""The reports as a real browser shows them: headless Chromium renders, dumps the DOM, screenshots."""

from __future__ import annotations

import base64
import math
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium_page import Chromium, Page
from conftest import BATCH_SEED, REFERENCE, ROOT

from grader.course.batch import GradeOptions, grade
from grader.outputs.report import report_file_name, write_submission_report
from grader.outputs.summary import write_index
from grader.results import CheckResult, NotebookCell, SubmissionResult

CHROMIUM = Path("/usr/bin/chromium")
XSS = '<img src=x onerror="document.body.dataset.pwned=1">'

SOURCE = """\
import numpy as np


def softmax(z):
    z = z + np.max(z, axis=0)
    return np.exp(z) / np.sum(np.exp(z), axis=0)
"""


def sigmoid_plot(width: int = 360, height: int = 200) -> str:
    """A PNG of the sigmoid curve on axes, base64-encoded as Jupyter saves a figure."""
    pixels = [[(255, 255, 255)] * width for _ in range(height)]
    for x in range(width):
        pixels[height - 20][x] = (110, 119, 129)
    for y in range(height):
        pixels[y][width // 2] = (110, 119, 129)
    for x in range(width):
        y = round((height - 30) * (1 - 1 / (1 + math.exp(-(x - width / 2) / 30)))) + 5
        for dy in (-1, 0, 1):
            pixels[y + dy][x] = (31, 119, 180)
    rows = b"".join(b"\x00" + bytes(c for p in row for c in p) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(data).decode()


def notebook_submission() -> SubmissionResult:
    cells = (
        NotebookCell(
            1,
            "markdown",
            "# Tutorial 1: a fully connected layer\n\nImplement `sigmoid` and `fcc` below.\nDo not change the cell that loads the data.\n",
        ),
        NotebookCell(2, "code", "import numpy as np\nimport matplotlib.pyplot as plt\n", status="ok"),
        NotebookCell(3, "code", "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n", status="ok"),
        NotebookCell(
            4,
            "code",
            "x = np.linspace(-6, 6, 200)\nplt.plot(x, sigmoid(x))\n",
            (("text", "[<matplotlib.lines.Line2D at 0x7f3a>]"), ("png", sigmoid_plot())),
            "skipped",
        ),
        NotebookCell(
            5,
            "code",
            "print(weights.shape)\n",
            (("text", f"NameError: name 'weights' is not defined {XSS}"),),
            "error",
            "NameError: name 'weights' is not defined",
        ),
        NotebookCell(6, "markdown", f"## The layer\n\nh = sigmoid(W x + b), one row per sample. {XSS}\n"),
        NotebookCell(
            7,
            "code",
            "def fcc(x, W, b):\n    # x: (n, d), W: (d, k), b: (k,)\n    h = sigmoid(x @ W + b)\n    return h.T\n",
            status="ok",
        ),
    )
    checks = (
        CheckResult("sigmoid", 2, 2, "passed", "max |got - expected| = 0.0e+00, limit 1e-12"),
        CheckResult(
            "fcc_forward",
            0,
            3,
            "failed",
            "fcc_forward 0/3: expected shape (4, 3), got (3, 4)",
            details=("did you return the transpose?",),
            location="fcc_sigmoid.ipynb cell 7, line 4",
        ),
    )
    notes = (
        "graded definitions: fcc (cell 7), sigmoid (cell 3)",
        "cell 5 raised: NameError: name 'weights' is not defined (execution went on)",
    )
    return SubmissionResult(
        "nina",
        "fcc_sigmoid",
        2,
        5,
        "graded",
        checks,
        seconds=1.9,
        files=("fcc_sigmoid.ipynb",),
        graded_as="notebook (definitions only)",
        seed=7,
        isolation="bubblewrap: no network, read-only system, limits",
        notes=notes,
        notebook=cells,
    )


def results() -> list[SubmissionResult]:
    checks = (
        CheckResult("sigmoid", 2, 2, "passed", "max |got - expected| = 0.0e+00, limit 1e-12"),
        CheckResult(
            "softmax_large_logits",
            0,
            3,
            "failed",
            "softmax_large_logits 0/3: got 12 NaN values, first at [0, 0]",
            details=("inputs up to 1e3: subtract the maximum, do not add it",),
            location="fcc.ipynb:5",
            stdout=f"\x1b[33mRuntimeWarning: overflow encountered in exp\x1b[0m {XSS}\n",
        ),
        CheckResult(
            "backprop_hidden",
            1,
            4,
            "failed",
            "dW_i_h1: max relative error 3.2e-04 > 1e-08",
            public=False,
            stdout="SECRET",
        ),
    )
    student = SubmissionResult(
        f"student{XSS}",
        "fcc_sigmoid",
        3,
        9,
        "graded",
        checks,
        seconds=4.2,
        files=("fcc.ipynb",),
        graded_as="notebook (definitions only)",
        seed=7,
        isolation="bubblewrap: no network, read-only system, limits",
        source={"fcc.ipynb": SOURCE},
    )
    broken = SubmissionResult(
        "zed",
        "fcc_sigmoid",
        0,
        9,
        "error",
        error="zed.ipynb: not a notebook (invalid JSON at line 3); export it again from Jupyter",
    )
    full = SubmissionResult(
        "amy",
        "fcc_sigmoid",
        9,
        9,
        "graded",
        tuple(CheckResult(c.name, c.max_points, c.max_points, "passed", "ok", public=c.public) for c in checks),
    )
    return [student, broken, full, notebook_submission()]


def chromium(page: Path, tmp_path: Path, *mode: str, height: int = 1600) -> str:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install chromium` to run the browser tests")
    profile = tmp_path / "profile"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size=1200,{height}",
        *mode,
        page.as_uri(),
    ]
    # A private HOME keeps Chromium's crash and config files out of the real one.
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture()
def pages(tmp_path: Path) -> dict[str, Path]:
    out = tmp_path / "reports"
    found = {r.submission: write_submission_report(r, out) for r in results()}
    found["index"] = write_index(results(), out, "fcc_sigmoid")
    return found


def test_report_renders_score_checks_and_source(pages: dict[str, Path], tmp_path: Path) -> None:
    dom = chromium(pages[f"student{XSS}"], tmp_path, "--dump-dom")
    assert '<span class="got">3</span> <span class="max">/ 9</span>' in dom
    for name in ("sigmoid", "softmax_large_logits", "backprop_hidden"):
        assert name in dom
    assert dom.count('class="badge failed"') >= 2
    assert "got 12 NaN values" in dom and "subtract the maximum" in dom
    assert 'id="L-fcc.ipynb-5" class="hit"' in dom and 'href="#L-fcc.ipynb-5"' in dom
    assert "RuntimeWarning: overflow encountered in exp" in dom and "\x1b" not in dom
    assert "SECRET" not in dom


def test_hostile_markup_stays_text_in_the_browser(pages: dict[str, Path], tmp_path: Path) -> None:
    dom = chromium(pages[f"student{XSS}"], tmp_path, "--dump-dom")
    # The browser parsed the page: had escaping failed there would be an <img> element
    # and, without the page's CSP, a pwned marker on <body>.
    assert "<img" not in dom and "data-pwned" not in dom
    assert "&lt;img src=x onerror=" in dom


def test_index_renders_every_submission_and_check_rate(pages: dict[str, Path], tmp_path: Path) -> None:
    dom = chromium(pages["index"], tmp_path, "--dump-dom")
    assert dom.count('<tr class="submission') == 4
    assert "not a notebook (invalid JSON at line 3)" in dom
    assert dom.count('<tr class="check-rate">') == 4  # sigmoid, softmax_large_logits, backprop_hidden, fcc_forward
    for report in pages.values():
        if report.name != "index.html":
            assert f'href="{report.name}"' in dom


def test_notebook_report_shows_cells_outputs_and_links(pages: dict[str, Path], tmp_path: Path) -> None:
    dom = chromium(pages["nina"], tmp_path, "--dump-dom")
    assert dom.count('<article class="cell') == 7
    assert "graded definitions: fcc (cell 7), sigmoid (cell 3)" in dom
    assert '<a href="#cell-7">fcc_sigmoid.ipynb cell 7, line 4' in dom
    assert 'id="cell-7"' in dom and '<tr id="cell-7-L4" class="hit">' in dom
    assert dom.count("<img") == 1 and 'src="data:image/png;base64,iVBORw0KGgo' in dom
    assert 'class="badge error"' in dom and "name 'weights' is not defined" in dom
    # markdown and outputs stay text: the only element the student's cells produce is the PNG
    assert "data-pwned" not in dom and "&lt;img src=x onerror=" in dom


# The notebook page is shot tall enough to hold its cells and the plot (headless
# screenshots ignore a #fragment, so scrolling to the cells is not an option).
@pytest.mark.parametrize(("which", "height"), [("student", 1600), ("zed", 1600), ("index", 1600), ("nina", 2400)])
def test_screenshots_are_real_pictures(pages: dict[str, Path], tmp_path: Path, which: str, height: int) -> None:
    page = next(p for name, p in pages.items() if name.startswith(which))
    shot = tmp_path / f"{which}.png"
    chromium(page, tmp_path, f"--screenshot={shot}", height=height)
    assert shot.is_file(), "Chromium wrote no screenshot"
    assert png_size(shot) == (1200, height)
    # A blank or error page compresses to a few kilobytes; a laid-out report does not.
    assert shot.stat().st_size > 30_000


# ---------------------------------------------------------------- real reports, looked at
# The example batch and a notebook, graded for real, opened in Chromium over the DevTools
# protocol (tests/chromium_page.py): what is visible, whether every picture loaded and is
# named, whether anything went wrong in the console, whether the page scrolls sideways at
# 1280 px. Screenshots stay in reports/browser/ (git-ignored) for a person to look at.

SHOTS = ROOT / "reports" / "browser"
RED = "rgb(207, 34, 46)"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install chromium` to run the browser tests")
    with Chromium(tmp_path_factory.mktemp("chromium")) as opened:
        yield opened


@pytest.fixture(scope="module")
def graded_notebook(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SubmissionResult]:
    """The handout's printed solution of DL Tutorial 1, graded as a student's notebook."""
    work = tmp_path_factory.mktemp("notebook")
    (work / "batch" / "nora").mkdir(parents=True)
    shutil.copyfile(
        ROOT / "tests" / "fixtures" / "handout_tutorial1.ipynb", work / "batch" / "nora" / "fcc_sigmoid.ipynb"
    )
    options = GradeOptions(
        output=work / "reports", seed=BATCH_SEED, jobs=1, reference_root=REFERENCE, cache_dir=work / "cache"
    )
    (result,) = grade(work / "batch", "fcc_sigmoid", options)
    return work / "reports" / report_file_name(result.submission), result


def look(browser: Chromium, page: Path, name: str) -> Page:
    """Open `page` at 1280 px and assert what any page must be: pictures loaded and named,
    a quiet console, no sideways scrolling, no script."""
    seen = browser.open(page, SHOTS / f"{name}.png")
    assert seen.console == [], seen.console
    assert seen.facts["scrollWidth"] <= seen.facts["innerWidth"] == 1280, f"scrolls sideways: {seen.facts['wide']}"
    assert seen.facts["spills"] == [], "sticks out of the page's column"
    for image in seen.facts["images"]:
        assert image["loaded"] and image["alt"].strip(), image
    for figure in seen.facts["svgs"]:
        assert figure["name"].strip() and figure["width"] > 0, figure
    assert seen.facts["scripts"] == 0 and seen.facts["wrapped"] == 0
    return seen


def report_of(out: Path, result: SubmissionResult) -> Path:
    return out / report_file_name(result.submission)


def test_passing_report_as_a_student_sees_it(
    graded_example: tuple[Path, dict[str, SubmissionResult]], browser: Chromium
) -> None:
    out, results = graded_example
    seen = look(browser, report_of(out, results["Ada Lovelace"]), "passing")
    assert "Every check passed. Nothing to fix." in seen.text
    assert seen.facts["badge"]["text"] == "graded" and seen.facts["badge"]["background"] != RED
    assert "could not run" not in seen.text


def test_failing_report_names_what_to_fix(
    graded_example: tuple[Path, dict[str, SubmissionResult]], browser: Chromium
) -> None:
    out, results = graded_example
    grace = results["Grace Hopper"]  # regularisation without the 0.5
    seen = look(browser, report_of(out, grace), "failing")
    assert "What to fix" in seen.text and "toy_loss" in seen.text
    assert seen.facts["badge"]["text"] == "graded"
    # the likely mistake named in words, and the training run drawn beside the reference's
    assert (
        "likely mistake" in seen.text.lower() and "without the factor 0.5" in seen.text
    )  # innerText is as shown: upper case
    assert any("loss" in figure["name"].lower() for figure in seen.facts["svgs"]), seen.facts["svgs"]


def test_crashing_report_says_so_once_in_red(
    graded_example: tuple[Path, dict[str, SubmissionResult]], browser: Chromium
) -> None:
    out, results = graded_example
    crashed = results["Margaret Hamilton"]  # raises at import
    assert crashed.error
    seen = look(browser, report_of(out, crashed), "crashing")
    assert seen.text.count(crashed.error) == 1, "the load failure is said once, not once per check"
    assert seen.facts["badge"] == {"text": "could not run", "background": RED}
    assert "Your code could not run, so no check could" in seen.text and "What to fix" not in seen.text
    assert "raise RuntimeError('forgot to remove a debugging stop')" in seen.text  # the student's line


def test_notebook_report_reads_like_jupyter(graded_notebook: tuple[Path, SubmissionResult], browser: Chromium) -> None:
    page, result = graded_notebook
    seen = look(browser, page, "notebook")
    # Markdown rendered (no "##"), prompts are Jupyter's execution counts, places counted as Jupyter does
    assert "Exercise - DL Tutorial 1" in seen.text and "## Exercise" not in seen.text
    assert "In [11]:" in seen.text and "class fcc:" in seen.text
    assert ".ipynb cell " not in seen.text
    assert "graded definitions: fcc (code cell 5, In [11])" in seen.text
    assert result.score == 15  # the handout's own solution has no gradient_step


def test_class_page_shows_what_cost_each_student(
    graded_example: tuple[Path, dict[str, SubmissionResult]], browser: Chromium
) -> None:
    out, results = graded_example
    seen = look(browser, out / "index.html", "class")
    for name in results:
        assert name in seen.text
    assert "could not run" in seen.text  # Margaret Hamilton and Ken Thompson
    grace = next(c for c in results["Grace Hopper"].checks if not c.passed)
    assert f"{grace.name}: " in seen.text
