"""Grading one submission from bytes, in the sandbox, and recording it (casekit_course.worker).

A test-made assignment ``t1`` (two functions with visible and hidden tests, one written
answer; no data, so a kernel starts in a second) in a throw-away course whose
``nbgrader_config.py`` is the real one. Planted students, each handed in under
``submitted/``, packed with :func:`job_for`, graded one after the other with
:func:`grade_submission` in bubblewrap and stored with :func:`record_result`, as the
fan-out does:

* ``good``: the right answers; ``renamed``: the same as two identical ``Copy of``/``(1)``
  downloads; ``stripped``: right answers, every nbgrader metadata removed; ``unknown_id``:
  right answers plus a cell pasted from another assignment; ``marker``: right answers and
  ``BEGIN HIDDEN TESTS`` in its own text; ``half``: the file cut in the middle;
  ``empty`` and ``oversized`` files;
* ``gradebook``: looks for every gradebook it can reach (``../../../gradebook.db``,
  ``/tmp``) and sets all scores to 99; ``proc``: finds the grader's folders through
  ``/proc/*/cwd`` and does the same (both touch only gradebooks of a course marked
  ``PLANTED``, i.e. this test's);
* ``leaker``: prints every later cell's source (hidden tests included) from a
  ``pre_run_cell`` hook, plain, base64 and zlib, prints ``In`` zlib-compressed, and raises
  an encoded copy of the calling test from its function;
* ``bigprint``: prints 3 million numbers (in its submitted outputs and when graded);
* ``looper``: ``square`` loops forever and three more cells call it.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import shutil
import warnings
import zlib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.api import Gradebook

from casekit_course import course_root
from casekit_course.config import CONFIG_FILE
from casekit_course.feedback import MAX_PAGE_BYTES
from casekit_course.jobs import GradingJob
from casekit_course.record import job_for, record_result, recorded
from casekit_course.repair import MAX_NOTEBOOK_BYTES
from casekit_course.sandbox import Limits, find_sandbox
from casekit_course.worker import generated_course, grade_submission

pytestmark = pytest.mark.xdist_group("grading-worker")
A = "t1"
NB = f"{A}.ipynb"
#: Text that appears only in the hidden tests.
SECRETS = ("31337", "982007569", "7919", "15838")
LIMITS = Limits(cell_timeout_s=8, notebook_timeout_s=10)
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
RIGHT = {"square": "def square(x):\n    return x * x",
         "double": "def double(x):\n    return 2 * x"}


def _meta(grade_id, *, grade, solution, points=0):
    meta = {"grade_id": grade_id, "grade": grade, "solution": solution,
            "locked": not solution, "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _source() -> nbformat.NotebookNode:
    """The instructor's notebook: solutions and hidden tests."""
    return new_notebook(cells=[
        new_markdown_cell("# Squares and doubles"),
        new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n"
                      "    ### END SOLUTION", metadata=_meta("square", grade=False, solution=True)),
        new_code_cell('assert square(3) == 9, "square(3) should be 9"\n### BEGIN HIDDEN TESTS\n'
                      'assert square(31337) == 982007569, "square is wrong for a large number"\n'
                      "### END HIDDEN TESTS",
                      metadata=_meta("test_square", grade=True, solution=False, points=2)),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                      "    ### END SOLUTION", metadata=_meta("double", grade=False, solution=True)),
        new_code_cell('assert double(2) == 4, "double(2) should be 4"\n### BEGIN HIDDEN TESTS\n'
                      'assert double(7919) == 15838, "double is wrong for a prime"\n'
                      "### END HIDDEN TESTS",
                      metadata=_meta("test_double", grade=True, solution=False, points=1)),
        new_markdown_cell("Why do squares grow faster than doubles?",
                          metadata=_meta("why_question", grade=False, solution=False)),
        new_markdown_cell("Because x grows too.",
                          metadata=_meta("answer_why", grade=True, solution=True, points=2)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def _answered(released, answers, *, why="Because x multiplies itself."):
    """The released notebook with ``answers`` (grade id -> code) put in place of the stubs."""
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
        elif grade_id == "answer_why":
            cell.source = why
    return nb


ATTACK = """\
import glob, os, sqlite3

def _planted(db):  # only a course made by this test
    config = os.path.join(os.path.dirname(db), "nbgrader_config.py")
    return os.path.isfile(config) and "PLANTED" in open(config).read()

def _spoil(found):
    for db in found:
        if _planted(db):
            con = sqlite3.connect(db)
            con.execute("UPDATE grade SET manual_score = 99, auto_score = 99")
            con.commit()
    print("gradebooks found:", len(found))
"""

GRADEBOOK = ATTACK + """
_spoil(set(glob.glob("../../../gradebook.db")) |
       set(glob.glob("/tmp/pytest-of-*/**/gradebook.db", recursive=True)))
def square(x):
    return x + 1
"""

PROC = ATTACK + """
found = set()
for pid in os.listdir("/proc"):
    try:
        folder = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        continue
    while folder != "/":
        found |= set(glob.glob(os.path.join(folder, "gradebook.db")))
        folder = os.path.dirname(folder)
_spoil(found)
def square(x):
    return x + 1
"""

HOOK = """\
import base64, zlib
def _leak(info):
    text = info.raw_cell
    print("PLAIN", text)
    print("B64", base64.b64encode(text.encode()).decode())
    print("ZLIB", base64.b64encode(zlib.compress(text.encode())).decode())
get_ipython().events.register("pre_run_cell", _leak)
def square(x):
    return x * x if x < 100 else 0
"""

FRAME = """\
def double(x):
    import base64, inspect
    caller = inspect.stack()[1].frame.f_globals["In"][-1]
    raise AssertionError(base64.b64encode(caller.encode()).decode())
"""

LOOP = "def square(x):\n    while True:\n        pass"


def _students(released) -> dict[str, dict[str, bytes]]:
    """student -> submitted files."""
    good = _answered(released, RIGHT)
    files = {"good": {NB: nbformat.writes(good).encode()}}
    copy = nbformat.writes(good).encode()
    files["renamed"] = {f"Copy of {NB}": copy, f"{A} (1).ipynb": copy}
    stripped = _answered(released, RIGHT)
    for cell in stripped.cells:
        cell.metadata.pop("nbgrader", None)
    files["stripped"] = {NB: nbformat.writes(stripped).encode()}
    pasted = _answered(released, RIGHT)
    pasted.cells.append(new_code_cell("def unrelated():\n    return 1",
                                      metadata=_meta("exercise_from_02", grade=False,
                                                     solution=True)))
    files["unknown_id"] = {NB: nbformat.writes(pasted).encode()}
    marker = _answered(released, {**RIGHT, "square": RIGHT["square"] + "\n# BEGIN HIDDEN TESTS"},
                       why="I wondered what ### BEGIN HIDDEN TESTS means.")
    files["marker"] = {NB: nbformat.writes(marker).encode()}
    whole = nbformat.writes(good).encode()
    files["half"] = {NB: whole[:whole.index(b"def double")]}
    files["empty"] = {NB: b""}
    files["oversized"] = {NB: b"{" + b" " * MAX_NOTEBOOK_BYTES + b"}"}
    for student, code in {"gradebook": GRADEBOOK, "proc": PROC}.items():
        files[student] = {NB: nbformat.writes(_answered(released, {"square": code,
                                                                   "double": STUB})).encode()}
    leaker = _answered(released, {"square": HOOK, "double": FRAME})
    leaker.cells.append(new_code_cell(
        'print(base64.b64encode(zlib.compress("\\n".join(In).encode())).decode())'))
    files["leaker"] = {NB: nbformat.writes(leaker).encode()}
    big = _answered(released, {**RIGHT, "double": RIGHT["double"] +
                               "\nprint(' '.join(map(str, range(3_000_000))))"})
    big.cells[3].outputs = [new_output("stream", name="stdout",
                                       text=" ".join(map(str, range(3_000_000))))]
    files["bigprint"] = {NB: nbformat.writes(big).encode()}
    looper = _answered(released, {**RIGHT, "square": LOOP})
    for at in (3, 5, 7):
        looper.cells.insert(at, new_code_cell("print(square(2))"))
    files["looper"] = {NB: nbformat.writes(looper).encode()}
    return files


@pytest.fixture(scope="module")
def graded(tmp_path_factory, monkeypatch_module):
    """The course after grading and recording every planted student in turn."""
    root = tmp_path_factory.mktemp("worker") / "course"
    (root / "solutions" / A).mkdir(parents=True)
    shutil.copy2(course_root() / CONFIG_FILE, root / CONFIG_FILE)
    with (root / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write("\n# PLANTED: a course made by tests/test_worker.py\n")
    nbformat.write(_source(), root / "solutions" / A / NB)
    monkeypatch_module.chdir(root)  # where an instructor grades from: /proc/*/cwd leads here
    sandbox = find_sandbox("bwrap")
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader
        nobody = GradingJob(A, "nobody", files={}, config=(root / CONFIG_FILE).read_text(),
                            source={NB: (root / "solutions" / A / NB).read_bytes()})
        released = nbformat.read(generated_course(nobody) / "notebooks" / A / NB, as_version=4)
        for student, files in _students(released).items():
            folder = root / "submitted" / student / A
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)
            result = grade_submission(job_for(A, student, root=root), sandbox=sandbox,
                                      limits=LIMITS)
            record_result(result, root=root)
            results[student] = result
    return root, results


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _scores(root) -> dict[str, dict[str, tuple]]:
    """student -> grade id -> (auto, manual) as the course gradebook holds them."""
    found = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "casekit-skin") as gb:
        for submission in gb.assignment_submissions(A):
            grades = {g.name: (g.auto_score, g.manual_score)
                      for nb in submission.notebooks for g in nb.grades}
            found[submission.student.id] = grades
    return found


FULL = {"test_square": (2.0, None), "test_double": (1.0, None), "answer_why": (None, None)}


@pytest.mark.slow
@pytest.mark.parametrize("student", ["good", "renamed", "stripped", "unknown_id", "marker",
                                     "bigprint"])
def test_right_answers_get_full_marks_however_handed_in(graded, student):
    root, results = graded
    assert _scores(root)[student] == FULL
    result = results[student]
    lines = [n for n in result.notes if "reaches for" not in n]
    expected = {"good": None, "marker": None, "bigprint": None,
                "renamed": "one of 2 identical copies",
                "stripped": "nbgrader metadata of 6 cell(s) were missing",
                "unknown_id": "cell `exercise_from_02` is not part of this assignment"}[student]
    if expected is None:
        assert lines == [] and result.notebooks[0].status == "graded"
    else:
        assert len(lines) == 1 and expected in lines[0], lines
        assert lines[0].startswith(f"{student}, {A}/{NB}: ")
        assert result.notebooks[0].status.startswith("repaired: ")


@pytest.mark.slow
@pytest.mark.parametrize(("student", "reason", "auto"), [
    ("half", "the file is cut off", {"test_square": 2.0, "test_double": 0.0}),
    ("empty", "the file is empty", {"test_square": 0.0, "test_double": 0.0}),
    ("oversized", "over the 50 MB limit", {"test_square": 0.0, "test_double": 0.0}),
])
def test_broken_files_are_repaired_or_score_zero_with_one_line(graded, student, reason, auto):
    root, results = graded
    scores = _scores(root)[student]
    assert {g: scores[g][0] for g in auto} == auto
    [line] = results[student].notes
    assert line.startswith(f"{student}, {A}/{NB}: ") and reason in line, line
    assert results[student].notebooks[0].status.split(":")[0] == (
        "repaired" if student == "half" else "zero")


@pytest.mark.slow
@pytest.mark.parametrize(("student", "what"), [("gradebook", "the gradebook"),
                                               ("proc", "/proc")])
def test_gradebook_and_proc_attacks_change_no_grade(graded, student, what):
    root, results = graded
    scores = _scores(root)
    for other in ("good", "stripped", "bigprint"):  # graded before and after
        assert scores[other]["test_double"] == (1.0, None), other
    assert scores[student] == {"test_square": (0.0, None), "test_double": (0.0, None),
                               "answer_why": (None, None)}
    assert not any(manual for grades in scores.values() for _, manual in grades.values())
    [line] = [n for n in results[student].notes if "reaches for" in n]
    assert what in line and "grades unaffected" in line
    graded_nb = nbformat.reads(results[student].notebooks[0].graded_notebook, as_version=4)
    printed = "".join(o.get("text", "") for c in graded_nb.cells for o in c.get("outputs", []))
    assert "gradebooks found: 0" in printed, "the sandbox hid every gradebook"


def _decoded(text: str) -> str:
    """``text`` plus every base64 run in it decoded, and zlib-inflated where it inflates."""
    parts = [text]
    for run in re.findall(r"[A-Za-z0-9+/]{12,}={0,2}", text):
        try:
            data = base64.b64decode(run + "=" * (-len(run) % 4))
        except (binascii.Error, ValueError):
            continue
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass
        parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


@pytest.mark.slow
def test_no_hidden_test_reaches_any_feedback(graded):
    root, results = graded
    leaker = results["leaker"].notebooks[0]
    graded_nb = nbformat.reads(leaker.graded_notebook, as_version=4)
    printed = _decoded(json.dumps([c.get("outputs", []) for c in graded_nb.cells]))
    assert all(secret in printed for secret in SECRETS), "the leaks really ran"
    for kind in ("PLAIN", "B64", "ZLIB"):
        assert kind in printed
    for student, result in results.items():
        page = (root / "feedback" / student / A / f"{A}.html").read_text(encoding="utf-8")
        assert page == result.notebooks[0].feedback_html
        text = _decoded(html.unescape(re.sub(r"<[^>]+>", " ", page)))
        assert [s for s in SECRETS if s in text] == [], student
        assert "HIDDEN TESTS" not in text or student == "marker"
    page = html.unescape(leaker.feedback_html)
    assert "2 / 2 points" not in page and "0 / 2 points" in page, "the hidden test failed"
    assert "AssertionError: square is wrong for a large number" in page, "instructor's message"
    assert "0 / 1 points: AssertionError</p>" in page, "the student's own message is not shown"


@pytest.mark.slow
def test_a_huge_print_gives_a_small_feedback_page(graded):
    root, results = graded
    page = results["bigprint"].notebooks[0].feedback_html
    assert len(page.encode()) < MAX_PAGE_BYTES
    assert "more characters not shown" in page
    assert len(results["bigprint"].notebooks[0].graded_notebook) < 2_000_000


@pytest.mark.slow
def test_an_infinite_loop_costs_one_timeout(graded):
    _, results = graded
    looper = results["looper"].notebooks[0]
    cells = nbformat.reads(looper.graded_notebook, as_version=4).cells
    errors = [o.ename for c in cells for o in c.get("outputs", []) if o.output_type == "error"]
    # four cells call the stuck function: one 8 s timeout each would be 32 s; the 10 s
    # notebook limit stops it after one or two (the second gets what is left), and the six
    # code cells from the first call on either timed out or were not run
    assert 1 <= errors.count("CellTimeoutError") <= 2
    assert errors.count("CellTimeoutError") + errors.count("CellNotRun") == 6
    assert looper.grades["test_square"] == (0.0, 2.0)
    assert "CellTimeoutError: the cell ran past the time limit" in looper.feedback_html


@pytest.mark.slow
def test_recording_is_idempotent_and_keeps_manual_scores(graded):
    root, results = graded
    assert recorded(A, root=root) == set(results)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "casekit-skin") as gb:
        gb.find_grade("answer_why", A, A, "good").manual_score = 1.5
        gb.db.commit()
    before = {p: p.read_bytes() for p in sorted((root / "autograded" / "good").rglob("*"))
              if p.is_file()}
    record_result(results["good"], root=root)
    after = {p: p.read_bytes() for p in sorted((root / "autograded" / "good").rglob("*"))
             if p.is_file()}
    assert after == before
    assert _scores(root)["good"] == {**FULL, "answer_why": (None, 1.5)}
