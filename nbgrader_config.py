# nbgrader configuration of the casekit course. nbgrader reads this file from the folder
# you run it in, so run every `nbgrader ...` command from the repository root, with the
# environment's bin/ on PATH (nbgrader shells out to `alembic`):
#
#     export PATH="$PWD/.venv/bin:$PATH"
#     nbgrader generate_assignment 01_eda --force
#
# casekit_course loads this same file for its Python helpers (release, validate, autograde
# in a temporary course), so a setting changed here applies everywhere.
# See docs/INSTRUCTOR_GUIDE.md for the whole workflow.
import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from casekit_course.guard import (
    ScrubHiddenOutputs,
    guarded_autograde_preprocessors,
    guarded_sanitize_preprocessors,
)
from casekit_course.heavy import with_heavy_cells_skipped

c = get_config()  # noqa: F821  (provided by traitlets when it runs this file)

# --- Course layout ------------------------------------------------------------------------
# {root}/{step}/{student}/{assignment}/{notebook}.ipynb with these step folders:
#   solutions/<assignment>/        instructor versions (solutions, hidden tests) — the source
#   notebooks/<assignment>/        student versions, generated: never edit them by hand
#   submitted/<student>/<assignment>/, autograded/..., feedback/...   (git-ignored)
c.CourseDirectory.course_id = "casekit-skin"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The gradebook lives in the course root as gradebook.db (git-ignored). For a shared
# instructor team put it on a server instead, e.g.
# c.CourseDirectory.db_url = "postgresql://nbgrader@dbhost/casekit_skin"
# Files besides notebooks that travel with an assignment (data never does: it is downloaded).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "outputs", "casekit_data",
]

# --- Student versions ---------------------------------------------------------------------
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Every BEGIN SOLUTION / HIDDEN TESTS / MARK SCHEME region must sit in a cell with the
# matching nbgrader metadata; a forgotten flag then fails loudly instead of leaking answers.
c.ClearSolutions.enforce_metadata = True
c.ClearHiddenTests.enforce_metadata = True
c.ClearMarkScheme.enforce_metadata = True

# --- Executing notebooks (validate, autograde) --------------------------------------------
# Heavy cells (training) carry the cell tag `skip-when-grading`: autograde and
# `casekit-course validate` skip them (casekit_course.heavy), so no cell should come near
# this per-cell limit while grading; 120 s leaves room for a slow TensorFlow import on a
# busy grading machine.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# Short tracebacks (exception and message only): IPython's usual context lines around a
# failing assert would print the neighbouring hidden tests into the student's feedback.
# The history file is nbgrader's default argument, kept.
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    "--InteractiveShell.xmode=Minimal",
]
# Keep long student outputs out of the gradebook and the feedback: GuardedExecute keeps at
# most output_bytes of one output (a cell's stream, an image) and notebook_output_bytes of
# the whole notebook, images included, and says so in one line; LimitOutput then counts lines.
c.GuardedExecute.output_bytes = 200_000  # a large plot fits
c.GuardedExecute.notebook_output_bytes = 800_000
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 100

# --- Autograding --------------------------------------------------------------------------
# A student who deletes a locked test or task cell gets it back (instead of a silent 0),
# and locked cells a student edited are restored from the gradebook.
c.OverwriteCells.add_missing_cells = True
# Broken or hostile code (os._exit, a loop that ignores the interrupt, a memory hog) costs
# only its own cell: casekit's GuardedExecute restarts a lost kernel, replays the cells
# above and caps the kernel's memory (docs/INSTRUCTOR_GUIDE.md, "Grading integrity").
c.Autograde.autograde_preprocessors = with_heavy_cells_skipped(guarded_autograde_preprocessors())
# A grade cell the student copied or split in two (same nbgrader metadata twice) would make
# nbgrader fail for the whole submission: RepairDuplicateCells joins split answers, keeps the
# first copy graded and logs one line naming the student, the cell and the fix.
c.Autograde.sanitize_preprocessors = guarded_sanitize_preprocessors()
c.GuardedExecute.memory_limit_mb = 6144
# A student's endless loop costs at most this, however many cells call it: no cell waits past
# the notebook's deadline, and the cells left get one line naming the cell that hung.
c.GuardedExecute.notebook_timeout = 300
# `casekit-course autograde` runs each kernel in a sandbox (bubblewrap by default) with the
# limits of casekit_course.sandbox.Limits, set over these by sandbox_config().
# Submissions always run against the kernel the assignment was written for.
# (OverwriteKernelspec is on by default in nbgrader 0.9.)

# --- Feedback -----------------------------------------------------------------------------
# Strip the source of hidden tests from the feedback HTML so they stay reusable, and scrub
# every output that shows them (a student's %xmode Verbose traceback, print(In), _ih, Out,
# %history); test cells show only their error's first line (no hidden input values).
c.GenerateFeedback.preprocessors = [
    GetGrades, ScrubHiddenOutputs, ClearHiddenTests, CSSHTMLHeaderPreprocessor,
]

# --- Exchange (JupyterHub) ----------------------------------------------------------------
# With nbgrader's file-system exchange on a JupyterHub, instructors `nbgrader
# release_assignment`, students fetch and submit from the Assignments tab, and
# instructors `nbgrader collect`. The exchange is a folder every user can reach:
#     sudo mkdir -p /srv/nbgrader/exchange && sudo chmod ugo+rw /srv/nbgrader/exchange
# c.Exchange.root = "/srv/nbgrader/exchange"   # nbgrader's default
# c.Exchange.path_includes_course = True       # when several courses share one exchange
# Students who work in Colab do not use the exchange: they download the .ipynb and upload
# it to the LMS; see "Colab path" in docs/INSTRUCTOR_GUIDE.md and `nbgrader zip_collect`.
