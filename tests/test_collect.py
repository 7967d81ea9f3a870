"""Collection of uploads (casekit_course.collect) and the grading verbs of ``casekit-course``.

Uploads are a real zip export plus a folder of loose files, with resubmissions (the latest
wins, by the time in the name or the file's own time), a late student and a file whose name
fits no pattern; the gradebook is a real nbgrader SQLite gradebook in a course folder with
the real config.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile

import pytest
from nbgrader.api import Gradebook

from casekit_course import course_root
from casekit_course.__main__ import main as course_cli
from casekit_course.collect import TIMESTAMP_FILE, collect

pytestmark = pytest.mark.xdist_group("grading-collect")
ASSIGNMENT = "01_eda"


@pytest.fixture
def course(tmp_path):
    shutil.copy2(course_root() / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    (tmp_path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    return tmp_path


def _uploads(folder):
    """A zip export (ann twice, ben once, one stray file) and a folder (ben again, late)."""
    folder.mkdir()
    with zipfile.ZipFile(folder / "lms.zip", "w") as archive:
        archive.writestr("export/ann--20251101T100000--01_eda.ipynb", '{"v": "ann 1"}')
        archive.writestr("export/ann--20251101T160000--01_eda (1).ipynb", '{"v": "ann 2"}')
        archive.writestr("export/ben--20251101T120000--Copy of 01_eda.ipynb", '{"v": "ben 1"}')
        archive.writestr("export/notes for the teacher.ipynb", "{}")
    loose = folder / "loose"
    loose.mkdir()
    late = loose / "ben--01_eda.ipynb"  # no time in the name: the file's own time counts
    late.write_text('{"v": "ben 2"}', encoding="utf-8")
    when = dt.datetime(2025, 11, 2, 9, 30, tzinfo=dt.timezone.utc).timestamp()
    os.utime(late, (when, when))
    return [folder / "lms.zip", loose]


def test_latest_upload_wins_and_lateness_is_recorded(course, tmp_path):
    problems: list[str] = []
    done = collect(ASSIGNMENT, _uploads(tmp_path / "uploads"), due="2025-11-01 17:00 UTC",
                   root=course, problems=problems)
    by = {c.student: c for c in done}
    submitted = course / "submitted"
    assert (submitted / "ann" / ASSIGNMENT / "01_eda.ipynb").read_text() == '{"v": "ann 2"}'
    assert (submitted / "ben" / ASSIGNMENT / "01_eda.ipynb").read_text() == '{"v": "ben 2"}'
    assert sorted(p.name for p in (submitted / "ben" / ASSIGNMENT).iterdir()) == [
        "01_eda.ipynb", TIMESTAMP_FILE]
    assert (submitted / "ben" / ASSIGNMENT / TIMESTAMP_FILE).read_text() == "2025-11-02 09:30:00"
    assert (by["ann"].late_s, by["ann"].uploads) == (0.0, 2)
    assert by["ben"].late_s == 16.5 * 3600
    assert "LATE by 16 h 30 min" in by["ben"].line(ASSIGNMENT)
    assert "2 uploads, latest kept" in by["ann"].line(ASSIGNMENT)
    assert len(problems) == 1 and "notes for the teacher.ipynb" in problems[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "casekit-skin") as gb:
        assert gb.find_assignment(ASSIGNMENT).duedate == dt.datetime(2025, 11, 1, 17)


def test_an_older_upload_never_replaces_a_newer_submission(course, tmp_path):
    sources = _uploads(tmp_path / "uploads")
    collect(ASSIGNMENT, sources, root=course)
    older = tmp_path / "older"
    older.mkdir()
    (older / "ann--20251101T090000--01_eda.ipynb").write_text('{"v": "ann 0"}')
    by_hand = course / "submitted" / "cy" / ASSIGNMENT
    by_hand.mkdir(parents=True)
    (by_hand / "01_eda.ipynb").write_text('{"v": "cy by hand"}')
    (older / "cy--20251101T090000--01_eda.ipynb").write_text('{"v": "cy uploaded"}')
    done = {c.student: c for c in collect(ASSIGNMENT, [older], root=course)}
    assert not done["ann"].written and not done["cy"].written
    assert (course / "submitted" / "ann" / ASSIGNMENT / "01_eda.ipynb").read_text() == \
        '{"v": "ann 2"}'
    assert (by_hand / "01_eda.ipynb").read_text() == '{"v": "cy by hand"}'


def test_collect_command_says_one_line_per_student(course, tmp_path, capsys, monkeypatch):
    sources = _uploads(tmp_path / "uploads")
    monkeypatch.chdir(course)
    (course / "solutions" / ASSIGNMENT / "01_eda.ipynb").write_text("{}")
    status = course_cli(["collect", ASSIGNMENT, *map(str, sources), "--due",
                         "2025-11-01 17:00 UTC"])
    out = capsys.readouterr().out.splitlines()
    assert status == 1, "a file was skipped"
    assert out[0].startswith("ann: 01_eda.ipynb of 2025-11-01 16:00 UTC")
    assert out[1].startswith("ben: ") and "LATE" in out[1]
    assert out[-1] == "collected 2 of 2 student(s) into submitted/ (1 late, 1 file(s) skipped)"
    assert course_cli(["collect", ASSIGNMENT, str(tmp_path / "nowhere")]) == 1
    assert "nowhere: no such file or folder" in capsys.readouterr().out


def test_help_lists_the_verbs(capsys):
    with pytest.raises(SystemExit):
        course_cli(["--help"])
    usage = capsys.readouterr().out.split("\n")[1]
    verbs = usage.strip().strip("{}").split(",")
    assert verbs[:10] == ["release", "check", "validate", "rubrics", "collect", "autograde",
                          "feedback", "export", "hosting", "publish"]


def test_autograde_refuses_an_unavailable_sandbox_in_one_line(course, capsys, monkeypatch):
    monkeypatch.chdir(course)
    monkeypatch.setenv("PATH", "/nonexistent")  # no podman on PATH
    assert course_cli(["autograde", ASSIGNMENT, "--sandbox", "podman"]) == 1
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 and "--no-sandbox" in out and "podman" in out
