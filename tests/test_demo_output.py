"""`casekit-course demo` prints one line per notebook and a three-line summary, nothing else.

The demo's own runner executes a tiny course (two notebooks: one that imports TensorFlow and
saves a run, one that ends with the self-check cell) as a separate process, so the console
is counted line by line exactly as `make demo` shows it, kernels' stderr included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from casekit_course.config import course_root
from casekit_course.logs import stderr_to_log

NOISE = ("unknown parameter", "TCP", "oneDNN", "absl", "Task was destroyed", "cpu_feature_guard",
         "Traceback", "WARNING", "self-check")

TRAIN = '''import warnings

import numpy as np
import pandas as pd
import tensorflow as tf

from casekit.paths import runs_root
from casekit.runs import save_run

y = np.array([0, 1] * 15)
predictions = pd.DataFrame({"image_id": [f"i{i}" for i in range(30)],
                            "group_id": [f"p{i}" for i in range(30)],
                            "split": ["train", "val", "test"] * 10, "y_true": y,
                            "score": np.where(y == 1, 0.8, 0.3)})
save_run(runs_root() / "binary", predictions,
         {"dataset": "pad_ufes_20", "synthetic": True, "task": "binary",
          "class_names": ["not cancer", "cancer"]})
report = runs_root() / "binary" / "report"
report.mkdir()
(report / "results.html").write_text("<html></html>")
warnings.warn("casekit-own warning: shown in the notebook, never hidden")
print(tf.constant(IMAGE_SIZE).numpy(), N_IMAGES)
'''


def _notebook(path: Path, parameters: str, *cells: str) -> None:
    first = new_code_cell(parameters, metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[first, *(new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)


@pytest.mark.slow
def test_demo_console_is_one_line_per_notebook_and_a_summary(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(course_root() / "nbgrader_config.py", course)
    _notebook(course / "solutions" / "01_a" / "01_a.ipynb", 'DATA = "synthetic"\nSEED = 0',
              "print(DATA)", "from casekit.selfcheck import run as self_check\n\nself_check()")
    _notebook(course / "solutions" / "02_b" / "02_b.ipynb",
              'DATA = "synthetic"\nIMAGE_SIZE = 224\nN_IMAGES = None', TRAIN)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "CASEKIT_RUNS")}
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "casekit_course", "demo", "--out", str(out),
                           "--course", str(course), "--size", "32", "--n-images", "50"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout
    assert len(lines) == 5, done.stdout
    assert lines[0].startswith("[demo] 1/2 01_a.ipynb … done in ")
    assert lines[1].startswith("[demo] 2/2 02_b.ipynb … done in ")
    assert lines[2].startswith("[demo] ran 2 notebooks in ") and "synthetic data (50 images, " \
        "32 px)" in lines[2] and str(out / "instructor_notebooks") in lines[2]
    document = out / "runs" / "binary" / "report" / "results.html"
    assert lines[3] == f"[demo] results document: {document}"
    assert lines[4].endswith("binary test AUROC 1.00")
    assert not [word for word in NOISE if word in done.stdout]
    assert (out / "kernels.log").is_file()  # kernels' own stderr: kept, not shown

    first = nbformat.read(out / "instructor_notebooks" / "01_a.ipynb", as_version=4)
    assert first.cells[0].source.startswith("**Instructor material: do not share")
    outputs = [o for c in first.cells if c.cell_type == "code" for o in c.outputs]
    assert [o.get("text") for o in outputs] == ["synthetic\n"]  # self-check silent
    second = nbformat.read(out / "instructor_notebooks" / "02_b.ipynb", as_version=4)
    streams = "".join(o.get("text", "") for c in second.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert "casekit-own warning" in streams and "32 50" in streams  # parameters passed


def test_stderr_of_child_processes_goes_to_the_log_and_the_console_comes_back(tmp_path, capfd):
    log = tmp_path / "logs" / "kernels.log"
    chatter = "import sys; sys.stderr.write('[IPKernelApp] ERROR | KeyboardInterrupt caught\\n')"
    with pytest.raises(RuntimeError, match="cell failed"), stderr_to_log(log) as path:
        subprocess.run([sys.executable, "-c", chatter], check=True)
        raise RuntimeError("cell failed")
    subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('after\\n')"], check=True)
    assert path == log
    assert log.read_text() == "[IPKernelApp] ERROR | KeyboardInterrupt caught\n"
    assert capfd.readouterr().err == "after\n"
