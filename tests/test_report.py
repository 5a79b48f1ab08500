"""The HTML reports: what a student and an instructor see, and what an attacker cannot do."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.outputs.report import report_file_name, write_submission_report
from grader.outputs.summary import write_index
from grader.outputs.text import clean_text
from grader.results import CheckResult, NotebookCell, SubmissionResult

NEURAL_NET = """\
import numpy as np


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params['W1'] = std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        loss = -np.log(scores[range(len(y)), y]).mean()
        grads = {}
        grads['W2'] = hidden.T.dot(dscores)
        return loss, grads
"""


def full_marks(name: str = "alice") -> SubmissionResult:
    checks = (
        CheckResult("forward_scores", 4, 4, "passed", "sum |got - expected| = 2.3e-08, limit 1e-07", seconds=0.02),
        CheckResult("forward_loss", 3, 3, "passed", "|got - expected| = 1.1e-12, limit 1e-10"),
        CheckResult("gradients", 4, 4, "passed", "every gradient within 1e-08 (worst dW1 3.1e-10)"),
        CheckResult("digits_accuracy", 4, 4, "passed", "validation accuracy 0.941 >= 0.9", public=False),
    )
    return SubmissionResult(
        name,
        "two_layer_net",
        15,
        15,
        "graded",
        checks,
        seconds=3.2,
        files=("neural_net.py",),
        graded_as="module",
        seed=1234,
        isolation="bubblewrap: no network, read-only system, limits",
        source={"neural_net.py": NEURAL_NET},
    )


def partial(name: str = "bob") -> SubmissionResult:
    checks = (
        CheckResult("forward_scores", 4, 4, "passed", "sum |got - expected| = 2.3e-08, limit 1e-07"),
        CheckResult(
            "forward_loss",
            0,
            3,
            "failed",
            "forward_loss 0/3: |got - expected| = 0.3, limit 1e-10 (3,000,000,000x over)",
            details=(
                "got 1.00378789, expected 1.30378789 (off 0.3)",
                "reg=0.1: did you add 0.5 * reg * sum(W**2) for both layers?",
            ),
            location="neural_net.py:19",
            stdout="loss debug: 1.00378789\n",
        ),
        CheckResult(
            "gradients",
            0,
            4,
            "error",
            "NameError at neural_net.py:21: name 'dscores' is not defined",
            details=("line: grads['W2'] = hidden.T.dot(dscores)", "your code: neural_net.py:21 in loss"),
            location="neural_net.py:21",
            stdout="computing grads\n",
        ),
        CheckResult("toy_training_loss", 0, 3, "timeout", "timed out after 10 s (the training loop did not finish)"),
        CheckResult(
            "digits_accuracy",
            1,
            4,
            "failed",
            "validation accuracy 0.52 should be at least 0.9 (short by 0.38)",
            public=False,
            details=("secret input rows 3, 7",),
            stdout="HIDDEN-STDOUT-SECRET",
            location="neural_net.py:19",
        ),
    )
    return SubmissionResult(
        name,
        "two_layer_net",
        5,
        18,
        "graded",
        checks,
        seconds=12.4,
        files=("neural_net.py", "two_layer_net.ipynb"),
        graded_as="module",
        seed=1234,
        isolation="limits only (bubblewrap not found)",
        source={"neural_net.py": NEURAL_NET},
    )


def broken(name: str = "carol") -> SubmissionResult:
    return SubmissionResult(
        name,
        "two_layer_net",
        0,
        18,
        "error",
        error="carol.zip: not a valid zip archive (bad CRC in neural_net.py); re-create the zip and resubmit",
        seed=1234,
    )


HOSTILE = "<script>alert(1)</script>"


def hostile() -> SubmissionResult:
    check = CheckResult(
        f"forward_scores{HOSTILE}",
        0,
        4,
        "error",
        f"ValueError: {HOSTILE}",
        details=(f"line: print('{HOSTILE}')",),
        location="evil<b>.py:2",
        stdout=f"\x1b[31mred\x1b[0m \x1b]0;pwned title\x07{HOSTILE} \u202eevil\u202c \u2066iso\u2069 done",
    )
    return SubmissionResult(
        f"{HOSTILE}\u202e",
        "two_layer_net",
        0,
        4,
        "graded",
        (check,),
        error=None,
        files=(f"{HOSTILE}.py",),
        source={"evil<b>.py": f"x = 1\nprint('{HOSTILE}')  # \u202e }}\u2066 if admin \u2069\n"},
    )


def png(width: int = 2, height: int = 2) -> str:
    """A real (grey) PNG, base64-encoded as a notebook stores it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(data).decode()


PNG = png()


def notebook(images: tuple[str, ...] = (PNG,)) -> SubmissionResult:
    cells = (
        NotebookCell(1, "markdown", f"# Tutorial 1\n\nImplement **sigmoid** first. {HOSTILE}\n"),
        NotebookCell(2, "code", "import numpy as np\nimport matplotlib.pyplot as plt\n", status="ok"),
        NotebookCell(3, "code", "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n", status="ok"),
        NotebookCell(
            4,
            "code",
            "print(weights)\n",
            (("text", "NameError: name 'weights' is not defined"),),
            "error",
            "NameError: name 'weights' is not defined",
        ),
        NotebookCell(
            5,
            "code",
            "x = np.linspace(-6, 6)\nplt.plot(x, sigmoid(x))\n",
            (*(("png", i) for i in images), ("text", f"[<matplotlib.lines.Line2D>] {HOSTILE}")),
            "skipped",
        ),
        NotebookCell(6, "raw", "raw cell <b>text</b>"),
        NotebookCell(7, "code", "def fcc(x, W, b):\n    h = sigmoid(x @ W + b)\n    return h.T\n", status="ok"),
        NotebookCell(8, "code", "while True:\n    pass\n", status="timeout", error="cell timed out after 60 s"),
    )
    checks = (
        CheckResult("sigmoid", 2, 2, "passed", "max |got - expected| = 0.0e+00, limit 1e-12"),
        CheckResult(
            "fcc_forward",
            0,
            3,
            "failed",
            "fcc_forward 0/3: expected shape (4, 3), got (3, 4)",
            location="fcc_sigmoid.ipynb cell 7, line 3",
        ),
        CheckResult(
            "fcc_hidden",
            0,
            2,
            "error",
            "NameError: name 'W' is not defined",
            public=False,
            location="fcc_sigmoid.ipynb cell 4, line 1",
        ),
        CheckResult("plot", 0, 1, "error", "RuntimeError: no figure", location="fcc_sigmoid.ipynb cell 5"),
    )
    notes = (
        "graded definitions: fcc (cell 7), sigmoid (cell 3)",
        "cell 4 raised: NameError: name 'weights' is not defined (execution went on)",
    )
    return SubmissionResult(
        "erin",
        "fcc_sigmoid",
        2,
        8,
        "graded",
        checks,
        seconds=2.5,
        files=("fcc_sigmoid.ipynb",),
        graded_as="notebook (definitions only)",
        seed=7,
        isolation="limits only",
        notes=notes,
        notebook=cells,
    )


def cell_html(html: str, index: int) -> str:
    found = re.search(rf'<article class="cell [^"]*" id="cell-{index}">.*?</article>', html, re.S)
    assert found, f"no cell {index}"
    return found.group(0)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.scripts = 0
        self.imgs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.imgs.append(str(found.get("src")))
        if found.get("href"):
            self.hrefs.append(str(found["href"]))
        if found.get("id"):
            self.ids.add(str(found["id"]))


def parse(html: str) -> _Links:
    links = _Links()
    links.feed(html)
    return links


def render(result: SubmissionResult, tmp_path: Path) -> str:
    return write_submission_report(result, tmp_path).read_text(encoding="utf-8")


def test_full_marks_page_shows_score_and_every_check(tmp_path: Path) -> None:
    path = write_submission_report(full_marks(), tmp_path)
    html = path.read_text(encoding="utf-8")
    assert path == tmp_path / "alice.html"
    assert re.search(r">15</span> <span class=\"max\">/ 15<", html)
    assert "15 / 15" in html  # in the title
    for name in ("forward_scores", "forward_loss", "gradients", "digits_accuracy"):
        assert name in html
    assert "Every check passed" in html
    assert "bubblewrap: no network" in html and "module" in html
    # the seed of the hidden checks' inputs is the instructor's, never shown to the student
    assert "1234" not in html and "Seed" not in html


def test_page_is_self_contained(tmp_path: Path) -> None:
    html = render(partial(), tmp_path)
    links = parse(html)
    assert links.scripts == 0
    assert "<style>" in html
    # Every link stays inside the page: no stylesheet, font or image to fetch.
    assert all(h.startswith("#") for h in links.hrefs), links.hrefs
    assert not re.search(r"(src|href)=\"(https?:)?//", html)


def test_failed_check_shows_message_details_output_and_location(tmp_path: Path) -> None:
    html = render(partial(), tmp_path)
    assert '5</span> <span class="max">/ 18' in html
    assert "3,000,000,000x over" in html
    assert "got 1.00378789, expected 1.30378789 (off 0.3)" in html
    assert "did you add 0.5 * reg * sum(W**2)" in html
    assert "loss debug: 1.00378789" in html
    assert "name &#39;dscores&#39; is not defined" in html
    assert "timed out after 10 s" in html
    assert "1 of 5 checks passed (1 hidden)" in html


def test_location_line_is_highlighted_anchored_and_linked(tmp_path: Path) -> None:
    html = render(partial(), tmp_path)
    links = parse(html)
    assert "L-neural_net.py-21" in links.ids
    assert "#L-neural_net.py-21" in links.hrefs
    assert "#L-neural_net.py-19" in links.hrefs
    assert re.search(r'<tr id="L-neural_net.py-21" class="hit">', html)
    assert not re.search(r'<tr id="L-neural_net.py-20" class="hit">', html)
    # The highlighted line links back to the check that pointed at it, on a row of its own
    # below the line, so the flag never takes the line's width and wraps it mid-line.
    row = re.search(r'<tr id="L-neural_net.py-21".*?</tr>\s*(<tr class="hit-marks">.*?</tr>)', html, re.S)
    assert (
        row
        and "hidden.T.dot(dscores)" in row.group(0)
        and "gradients" in row.group(1)
        and "gradients" not in row.group(0).split("</tr>")[0]
    )
    # And every in-page link lands on something.
    assert {h[1:] for h in links.hrefs} <= links.ids


def test_checks_table_links_failures_to_their_sections(tmp_path: Path) -> None:
    links = parse(render(partial(), tmp_path))
    failing = [h for h in links.hrefs if h.startswith("#check-")]
    assert len(set(failing)) == 4  # forward_loss, gradients, toy_training_loss, digits_accuracy


def test_hidden_check_shows_no_output_details_or_location(tmp_path: Path) -> None:
    html = render(partial(), tmp_path)
    assert "validation accuracy 0.52 should be at least 0.9" in html
    assert "HIDDEN-STDOUT-SECRET" not in html
    assert "secret input rows" not in html
    assert "hidden" in html
    # Only the public forward_loss may mark line 19, not the hidden check.
    row = re.search(r'<tr id="L-neural_net.py-19".*?</tr>\s*<tr class="hit-marks">.*?</tr>', html, re.S)
    assert row and "forward_loss" in row.group(0) and "digits_accuracy" not in row.group(0)


def test_error_submission_says_what_went_wrong_and_what_to_do(tmp_path: Path) -> None:
    html = render(broken(), tmp_path)
    assert "could not be graded" in html
    assert "not a valid zip archive" in html
    assert "What to do" in html
    assert 'role="alert"' in html
    assert '0</span> <span class="max">/ 18' in html


def test_hostile_strings_are_escaped_everywhere(tmp_path: Path) -> None:
    path = write_submission_report(hostile(), tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "<b>" not in html
    # name, file name, check name, message, details, stdout and source all come out as text
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 7
    assert parse(html).scripts == 0


def test_terminal_escapes_and_bidi_controls_never_reach_the_page(tmp_path: Path) -> None:
    html = render(hostile(), tmp_path)
    for bad in ("\x1b", "\x07", "\u202e", "\u202c", "\u2066", "\u2069"):
        assert bad not in html
    assert "red " in html and "evil done" not in html and "evil" in html


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[1;31mFAIL\x1b[0m", "FAIL"),
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1b]0;title\x07after", "after"),
        ("a\u202ab\u202bc\u202cd\u202de\u202ef", "abcdef"),
        ("\u2066x\u2067y\u2068z\u2069", "xyz"),
        ("epoch 1 10%\repoch 1 100%\nnext", "epoch 1 10%\nepoch 1 100%\nnext"),
        ("bob\ralice", "bob\nalice"),
        ("windows\r\nline", "windows\nline"),
        ("tab\tstays\nnewline too", "tab\tstays\nnewline too"),
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("\x9b31mC1\x9b0m", "C1"),
        ("ünïcödé ✓ 日本", "ünïcödé ✓ 日本"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_long_stdout_keeps_both_ends(tmp_path: Path) -> None:
    noisy = CheckResult(
        "train", 0, 3, "failed", "loss 2.3 should be at most 0.02", stdout="START\n" + "x" * 50_000 + "\nEND"
    )
    html = render(SubmissionResult("dave", "two_layer_net", 0, 3, "graded", (noisy,)), tmp_path)
    assert "START" in html and "END" in html and "characters omitted" in html
    assert len(html) < 30_000


@pytest.mark.parametrize("name", ["alice", "s1234567", "bob_smith-2", "a.b"])
def test_report_file_name_keeps_plain_names(name: str) -> None:
    assert report_file_name(name) == f"{name}.html"


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a/b",
        "a\\b",
        ".hidden",
        "-rf",
        "index",
        "INDEX",
        "Alice",
        "José García",
        "日本語",
        "",
        "x" * 500,
        HOSTILE,
        "con",
    ],
)
def test_report_file_name_is_safe(name: str) -> None:
    file = report_file_name(name)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.html", file), file
    assert len(file) <= 100
    assert file.lower() != "index.html"


def test_report_file_name_separates_names_that_clean_alike() -> None:
    names = ["a/b", "a_b", "a b", "a\\b", "A_b", "José", "Jose", "日本", "中国"]
    assert len({report_file_name(n).lower() for n in names}) == len(names)
    assert report_file_name("José García").startswith("Jose_Garcia-")


def test_index_lists_every_submission_with_a_working_link(tmp_path: Path) -> None:
    results = [full_marks(), partial(), broken(), hostile(), partial("../escape")]
    for result in results:
        write_submission_report(result, tmp_path)
    html = write_index(results, tmp_path, "two_layer_net").read_text(encoding="utf-8")
    links = parse(html)
    assert len(links.hrefs) == len(results)
    for href in links.hrefs:
        assert (tmp_path / href).is_file() and "/" not in href
    assert "<script" not in html
    assert "alice" in html and "bob" in html and "carol" in html
    assert "not a valid zip archive" in html
    assert not (tmp_path.parent / "escape.html").exists()


def test_index_counts_passes_per_check(tmp_path: Path) -> None:
    results = [full_marks("a1"), full_marks("a2"), partial("b1"), broken("c1")]
    html = write_index(results, tmp_path, "two_layer_net").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'<tr class="check-rate">\s*<td class="who">(\w+).*?<td class="num">[^<]*</td>\s*<td class="num">([^<]*)</td>',
            html,
            re.S,
        )
    }
    assert rows == {
        "forward_scores": "3 / 3",
        "forward_loss": "2 / 3",
        "gradients": "2 / 3",
        "digits_accuracy": "2 / 3",
        "toy_training_loss": "0 / 1",
    }
    assert "1 could not be graded" in html


def test_index_summary_statistics(tmp_path: Path) -> None:
    results = [full_marks("a"), partial("b"), broken("c")]  # 100%, 27.8%, 0%
    html = write_index(results, tmp_path, "two_layer_net").read_text(encoding="utf-8")
    assert ">3</div>" in html
    assert "42.6%" in html  # mean of 100, 27.78, 0
    assert "27.8%" in html  # median
    assert "63.9%" in html  # graded only
    # one histogram of scores, drawn as a named figure (no second, hand-made one beside it)
    assert html.count("Scores of the class") >= 1 and 'id="distribution"' not in html


def test_index_of_no_submissions_still_renders(tmp_path: Path) -> None:
    html = write_index([], tmp_path, "fcc_sigmoid").read_text(encoding="utf-8")
    assert "No submissions." in html and "fcc_sigmoid" in html


def test_grading_notes_are_listed_under_graded_as(tmp_path: Path) -> None:
    html = render(notebook(), tmp_path)
    meta = re.search(r'<dl class="meta">.*?</dl>', html, re.S)
    assert meta
    notes = re.findall(r"<li>(.*?)</li>", meta.group(0))
    assert notes == [
        "graded definitions: fcc (cell 7), sigmoid (cell 3)",
        "cell 4 raised: NameError: name &#39;weights&#39; is not defined (execution went on)",
    ]
    assert meta.group(0).index("Graded as") < meta.group(0).index("Notes") < meta.group(0).index("Isolation")
    assert "<dt>Notes</dt>" not in render(partial(), tmp_path)


def test_long_notes_are_cut_short(tmp_path: Path) -> None:
    many = SubmissionResult("fay", "fcc_sigmoid", 0, 1, "graded", notes=tuple(f"cell {i} raised: E" for i in range(40)))
    html = render(many, tmp_path)
    assert html.count("<li>") == 13 and "and 28 more" in html


def test_notebook_cells_appear_in_order_with_their_labels(tmp_path: Path) -> None:
    html = render(notebook(), tmp_path)
    assert re.findall(r'<article class="cell [^"]*" id="cell-(\d+)">', html) == [str(i) for i in range(1, 9)]
    # no execution counts saved (a template, a cleared notebook): code cells are counted as
    # Jupyter would, and Markdown has no prompt; cell 7 is the fifth code cell
    prompts = re.findall(r'<div class="prompt">(?:<a href="#cell-\d+">)?([^<]*)', html)
    assert prompts == ["", "code cell 1", "code cell 2", "code cell 3", "code cell 4", "", "code cell 5", "code cell 6"]
    assert "In [" not in html
    assert 'class="cell markdown-cell"' in html and 'class="cell raw-cell"' in html
    # code cells are numbered line by line
    assert re.search(
        r'<tr id="cell-3-L2"><td class="ln"><a href="#cell-3-L2">2</a></td><td class="src">    return 1 / \(1 \+ np.exp\(-x\)\)</td></tr>',
        html,
    )
    assert "Submitted source" not in html  # nothing but the notebook was submitted


def test_markdown_is_rendered_as_in_jupyter_and_sanitised(tmp_path: Path) -> None:
    cell = cell_html(render(notebook(), tmp_path), 1)
    assert "<h1>Tutorial 1</h1>" in cell and "<strong>sigmoid</strong>" in cell
    assert "<script" not in cell and "alert(1)" not in cell


def test_cells_with_execution_counts_are_labelled_as_jupyter_shows_them(tmp_path: Path) -> None:
    result = notebook()
    counts = {2: 1, 3: 2, 4: 5, 7: 9}  # cell 5 and 8 were never run
    cells = tuple(replace(c, execution_count=counts.get(c.index)) for c in result.notebook)
    html = render(replace(result, notebook=cells), tmp_path)
    prompts = re.findall(r'<div class="prompt">(?:<a href="#cell-\d+">)?([^<]*)', html)
    assert prompts == ["", "In [1]:", "In [2]:", "In [5]:", "In [ ]:", "", "In [9]:", "In [ ]:"]


def test_location_worded_as_jupyter_shows_it_links_to_its_cell(tmp_path: Path) -> None:
    result = notebook()
    where = "fcc_sigmoid.ipynb, line 3 of code cell 5, the cell starting `def fcc(x, W, b):`"
    check = CheckResult("fcc_forward", 0, 3, "failed", "expected shape (4, 3), got (3, 4)", location=where)
    html = render(replace(result, checks=(check,)), tmp_path)
    assert f'<a href="#cell-7">{where} &rarr; see the cell below</a>' in html
    assert re.search(r'<tr id="cell-7-L3" class="hit">', html)


def test_failing_cells_show_their_status_and_error(tmp_path: Path) -> None:
    html = render(notebook(), tmp_path)
    error = cell_html(html, 4)
    assert 'class="cell code-cell error"' in error and 'class="badge error"' in error
    assert re.search(r'<pre class="cell-error">NameError: name &#39;weights&#39; is not defined</pre>', error)
    timeout = cell_html(html, 8)
    assert "timed out" in timeout and "cell timed out after 60 s" in timeout
    assert 'class="badge skipped"' in cell_html(html, 5) and "not run when graded" in cell_html(html, 5)
    assert "badge" not in cell_html(html, 3)  # a cell that ran fine carries no flag


def test_check_in_a_cell_links_to_the_cell_and_back(tmp_path: Path) -> None:
    html = render(notebook(), tmp_path)
    links = parse(html)
    problem = re.search(r'<article class="problem failed" id="check-2-fcc_forward">.*?</article>', html, re.S)
    assert (
        problem
        and '<a href="#cell-7">fcc_sigmoid.ipynb cell 7, line 3 &rarr; see the cell below</a>' in problem.group(0)
    )
    assert "cell-7" in links.ids
    cell = cell_html(html, 7)
    assert 'class="cell code-cell hit"' in cell
    # line 3 of the cell is marked and links back to the check; line 2 is not
    row = re.search(r'<tr id="cell-7-L3" class="hit">.*?</tr>\s*<tr class="hit-marks">.*?</tr>', cell, re.S)
    assert row and re.search(r'<a class="flag" href="#check-2-fcc_forward">fcc_forward</a>', row.group(0))
    assert '<tr id="cell-7-L2">' in cell
    # a location without a line marks the cell as a whole
    assert '<a href="#cell-5">fcc_sigmoid.ipynb cell 5 &rarr;' in html and 'href="#check-4-plot"' in cell_html(html, 5)
    # a hidden check's location is not shown, so it marks nothing
    assert "hit" not in cell_html(html, 4) and "cell 4, line 1" not in html
    assert {h[1:] for h in links.hrefs} <= links.ids


@pytest.mark.parametrize(
    "location",
    [
        "fcc_sigmoid.ipynb cell 99, line 1",
        "fcc_sigmoid.ipynb cell 1, line 1",
        "fcc_sigmoid.ipynb cell 7, line 40",
        "cell 7",
    ],
)
def test_location_outside_the_notebook_links_nowhere_or_to_the_cell(tmp_path: Path, location: str) -> None:
    result = notebook()
    check = CheckResult("odd", 0, 1, "failed", "odd", location=location)
    html = render(
        SubmissionResult(result.submission, result.assignment, 0, 1, "graded", (check,), notebook=result.notebook),
        tmp_path,
    )
    links = parse(html)
    assert {h[1:] for h in links.hrefs} <= links.ids
    assert 'class="hit"' not in html  # no line is marked
    problem = re.search(r'<article class="problem failed" id="check-1-odd">.*?</article>', html, re.S)
    assert problem and location in problem.group(0)
    # a line past the end still finds its cell; anything else is shown as text only
    assert ('href="#cell-7"' in problem.group(0)) == location.endswith("line 40")
    assert ('class="cell code-cell hit"' in html) == location.endswith("line 40")


def test_png_output_is_embedded_and_markup_stays_text(tmp_path: Path) -> None:
    html = render(notebook(), tmp_path)
    links = parse(html)
    assert links.imgs == [f"data:image/png;base64,{PNG}"]
    assert "<script" not in html and "<b>" not in html and links.scripts == 0
    assert "<script" not in cell_html(html, 1)  # Markdown is rendered, its HTML sanitised
    assert "[&lt;matplotlib.lines.Line2D&gt;] &lt;script&gt;" in cell_html(html, 5)
    assert "raw cell &lt;b&gt;text&lt;/b&gt;" in cell_html(html, 6)
    # The page may show inline images and nothing else from outside.
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:\"" in html


@pytest.mark.parametrize(
    "image",
    [
        base64.b64encode(b"GIF89a\x01\x00\x01\x00").decode(),
        base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>').decode(),
        PNG[:12] + '" onerror="alert(1)',
        PNG + "\n<script>",
        "javascript:alert(1)",
        "not base64 at all!",
        PNG[:-2],  # broken padding
        "",
        "iVBORw0KGgo" + "A" * 1_500_000,  # over the size cap
    ],
)
def test_only_valid_png_data_is_ever_embedded(tmp_path: Path, image: str) -> None:
    html = render(notebook(images=(image,)), tmp_path)
    links = parse(html)
    assert links.imgs == [] and "<img" not in html
    assert "an image output was left out: it is not a valid PNG" in html
    assert "onerror" not in html and "<script" not in html and "<svg" not in html


def test_notebook_result_round_trips_into_the_same_page(tmp_path: Path) -> None:
    result = notebook()
    again = SubmissionResult.from_json(result.to_json())
    assert render(again, tmp_path / "a") == render(result, tmp_path / "b")


def cannot_load(name: str = "dan") -> SubmissionResult:
    """A submission whose module does not import: every check carries the same failure."""
    message = "SyntaxError at neural_net.py:19: invalid syntax"
    details = ("line: loss = -np.log(scores[range(len(y)), y]).mean(", "your code: neural_net.py:19")
    names = (
        "forward_scores",
        "forward_loss",
        "gradients",
        "toy_training_loss",
        "predict",
        "stable_loss",
        "hidden_scores",
        "hidden_loss",
        "hidden_gradients",
        "digits_accuracy",
    )
    checks = tuple(
        CheckResult(
            n, 0, 2, "error", message, public=not n.startswith("hidden"), details=details, location="neural_net.py:19"
        )
        for n in names
    )
    return SubmissionResult(
        name,
        "two_layer_net",
        0,
        20,
        "graded",
        checks,
        error=message,
        files=("neural_net.py",),
        graded_as="module",
        source={"neural_net.py": NEURAL_NET},
    )


def test_a_submission_that_cannot_load_says_so_once_with_the_line(tmp_path: Path) -> None:
    html = render(cannot_load(), tmp_path)
    # one message, one copy of the student's line, no card per check
    assert html.count("invalid syntax") == 1 and html.count("line: loss = -np.log") == 1
    assert 'class="problem' not in html and "What to fix" not in html
    assert '<span class="badge error">could not run</span>' in html and ">graded<" not in html
    assert "Your code could not run" in html and "none of the 10 checks could run" in html
    assert html.count('class="badge not-run"') == 10  # the table still lists what it cost
    # the line is flagged once, and the flag leads back to the message
    marks = re.findall(r'<tr class="hit-marks">.*?</tr>', html, re.S)
    assert len(marks) == 1 and 'href="#error"' in marks[0] and "could not run" in marks[0]
    assert '<a href="#L-neural_net.py-19">neural_net.py:19 &rarr; see the line below</a>' in html


def test_advice_is_shown_apart_and_is_nothing_to_fix(tmp_path: Path) -> None:
    result = full_marks()
    advice = CheckResult(
        "stable_softmax", 0, 0, "failed", "softmax overflows on logits near 1000: subtract the row maximum", advice=True
    )
    html = render(replace(result, checks=(*result.checks, advice)), tmp_path)
    assert "Every check passed. Nothing to fix." in html
    section = re.search(r'<section id="advice">.*?</section>', html, re.S)
    assert section and "subtract the row maximum" in section.group(0) and 'class="badge advice"' in section.group(0)
    assert "4 of 4 checks passed" in html


def test_class_table_names_what_cost_each_student_points(tmp_path: Path) -> None:
    html = write_index(
        [full_marks("a"), partial("b"), broken("c"), cannot_load("d")], tmp_path, "two_layer_net"
    ).read_text(encoding="utf-8")
    rows = {
        m[0]: m[1]
        for m in re.findall(
            r'<tr class="submission[^"]*">\s*<td class="who"><a href="[^"]*">([^<]*)</a>.*?<td class="err">(.*?)</td>',
            html,
            re.S,
        )
    }
    assert rows["a"] == ""
    assert rows["b"].startswith("forward_loss: forward_loss 0/3")  # graded, but lost points
    assert "not a valid zip archive" in rows["c"]
    assert rows["d"] == "SyntaxError at neural_net.py:19: invalid syntax"
    badges = re.findall(r'<span class="badge (\w+)">(?:<span aria-hidden="true">[^<]*</span>)? ([^<]*)</span>', html)
    assert badges == [("graded", "graded"), ("graded", "graded"), ("error", "not graded"), ("error", "could not run")]
