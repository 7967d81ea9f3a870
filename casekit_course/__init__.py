"""The nbgrader course: release student notebooks, validate, autograde, check rubrics.

Instructor notebooks live in ``solutions/<assignment>/``, student versions are generated
into ``notebooks/<assignment>/``, rubrics for written answers are ``rubrics/<assignment>.md``.
Command line: ``casekit-course {release,check,validate,rubrics,collect,autograde,feedback,
export,hosting,publish,demo}``; grading a class: :func:`casekit_course.fanout.autograde`.

Example:
    >>> from casekit_course import check_release_up_to_date, check_rubrics
    >>> check_release_up_to_date(), check_rubrics()
    ([], [])
"""

from casekit_course.config import (
    CourseError,
    assignment_notebooks,
    course_root,
    ensure_tools_on_path,
    find_assignments,
    load_config,
)
from casekit_course.execute import execute
from casekit_course.grading import (
    AutogradeReport,
    GradeScore,
    SubmissionScore,
    ValidationResult,
    autograde_in_temp_course,
    read_grades,
    validate,
)
from casekit_course.kernel import notebook_environment, use_this_python
from casekit_course.release import check_release_up_to_date, release
from casekit_course.rubrics import check_rubrics, graded_cells, parse_rubric, points_table
from casekit_course.steps import SECRET_MARKERS, leaked_markers

__all__ = [
    "SECRET_MARKERS",
    "AutogradeReport",
    "CourseError",
    "GradeScore",
    "SubmissionScore",
    "ValidationResult",
    "assignment_notebooks",
    "autograde_in_temp_course",
    "check_release_up_to_date",
    "check_rubrics",
    "course_root",
    "ensure_tools_on_path",
    "execute",
    "find_assignments",
    "graded_cells",
    "leaked_markers",
    "load_config",
    "notebook_environment",
    "parse_rubric",
    "points_table",
    "read_grades",
    "release",
    "use_this_python",
    "validate",
]
