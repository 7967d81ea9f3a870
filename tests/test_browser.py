"""The widgets in a real browser: JupyterLab on a loopback port, headless Chromium (Debian's
``chromium`` and ``chromium-driver``, driven by Selenium). The notebook's cells run in the
page; the test checks that the threshold explorer and the image browser render, and that
dragging the threshold slider up changes the displayed sensitivity (down) and specificity
(up). ``make test`` installs Chromium when it is missing (see the Makefile's ``browser``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from casekit_course.kernel import use_this_python

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
TOKEN = "casekit-browser-test"

EXPLORER = """import numpy as np
import pandas as pd

from casekit import widgets

rng = np.random.default_rng(0)
y = rng.integers(0, 2, 300)
score = np.clip(0.4 * y + 0.6 * rng.random(300), 0, 1)
widgets.threshold_explorer(y, score, n_boot=50)
"""
BROWSER = """images = rng.integers(0, 256, (20, 24, 24, 3), dtype=np.uint8)
table = pd.DataFrame({"image_id": [f"img{i}" for i in range(20)],
                      "y_true": y[:20], "y_pred": (score[:20] > 0.5).astype(int)})
widgets.image_browser(images, table, ["not cancer", "cancer"], page_size=8)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except AssertionError:
            raise
        except Exception:  # the page or server is still starting
            result = None
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving ``tmp_path``, with this Python as kernel."""
    nb = new_notebook(cells=[new_code_cell(EXPLORER), new_code_cell(BROWSER)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "widgets.ipynb")
    use_this_python()  # JUPYTER_PATH: the python3 kernel is this environment's
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "MPLBACKEND": "Agg"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={tmp_path}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True", "--allow-root"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        def answers():
            assert server.poll() is None, f"JupyterLab exited with status {server.returncode}"
            return urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=5)

        _wait(answers, 120, "JupyterLab to answer")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture
def chromium(tmp_path):
    assert CHROMIUM and DRIVER, ("the browser test needs Debian's chromium and chromium-driver: "
                                 "`make test` installs them (or apt-get install both)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _rates(panel_text: str) -> dict[str, float]:
    return {name: float(value) for name, value in
            re.findall(r"(sensitivity|specificity)\s+([0-9.]+)", panel_text)}


@pytest.mark.slow
def test_widgets_render_and_the_slider_changes_the_rates(jupyterlab, chromium):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver = chromium
    driver.get(f"{jupyterlab}/lab/tree/widgets.ipynb?token={TOKEN}")
    # The notebook panel (found, not "current": a headless window may have no focus),
    # activated once its kernel is idle; then JupyterLab's own "Run All Cells" command.
    _wait(lambda: driver.execute_script(
        "const app = window.jupyterapp; if (!app) return false;"
        "const nb = [...app.shell.widgets('main')].find(w => w.sessionContext);"
        "const kernel = nb && nb.sessionContext.session && nb.sessionContext.session.kernel;"
        "if (!kernel || kernel.status !== 'idle') return false;"
        "app.shell.activateById(nb.id); return true;"),
        180, "the notebook to open with an idle kernel")
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def panel():
        found = [e for e in driver.find_elements(By.CSS_SELECTOR, ".widget-html")
                 if "sensitivity" in e.text and "specificity" in e.text]
        return found[0] if found else None

    before = _rates(_wait(lambda: panel() is not None and panel().text, 180,
                          "the threshold explorer to render"))
    assert set(before) == {"sensitivity", "specificity"}, before
    gallery = _wait(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".widget-html img")
                             if e.get_attribute("src").startswith("data:image/png")],
                    120, "the image browser's thumbnails")
    assert len(gallery) == 8  # one page
    summary = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".widget-html")
               if "images match" in e.text]
    assert summary == ["20 images match; page 1 of 3"]
    assert len(driver.find_elements(By.CSS_SELECTOR, ".widget-dropdown select")) == 3

    handle = driver.find_element(By.CSS_SELECTOR, ".noUi-handle, .ui-slider-handle")
    ActionChains(driver).drag_and_drop_by_offset(handle, 120, 0).perform()
    after = _rates(_wait(lambda: panel().text if _rates(panel().text) != before else None,
                         60, "the rates to change after moving the slider"))
    assert after["sensitivity"] < before["sensitivity"]  # a higher threshold calls fewer positive
    assert after["specificity"] > before["specificity"]
