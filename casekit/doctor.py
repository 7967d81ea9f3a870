"""``casekit doctor``: what this machine has, in one screen, for a bug report or a first run.

Reports what :func:`casekit.environment.detect` finds (the same facts a notebook's set-up
cell prints: Colab, GPU, Keras backend, where Kaggle credentials are, never their value),
package versions, and which datasets are present.

Example:
    >>> from casekit.doctor import package_versions
    >>> "numpy" in package_versions()
    True
"""

from __future__ import annotations

from importlib import metadata

from casekit.datasets import describe_datasets
from casekit.environment import Environment, detect
from casekit.paths import cache_root, data_root

PACKAGES = ("numpy", "pandas", "pillow", "scikit-learn", "keras", "tensorflow",
            "tensorflow-cpu", "jax", "torch", "kagglehub", "ipywidgets", "tqdm", "nbgrader",
            "papermill")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages casekit cares about, without importing them."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def report(env: Environment | None = None) -> str:
    """The full doctor report as text (``env``: what :func:`casekit.environment.detect` found)."""
    env = env or detect()
    lines = [
        env.summary(),
        f"casekit {env.casekit} on Python {env.python} ({env.system})",
        f"Keras backend: {env.keras_backend}",
        f"GPU: {', '.join(env.gpus)}" if env.gpus else
        "GPU: none found (training runs on the CPU: use small image sizes)",
        "Packages: " + ", ".join(f"{k} {v}" for k, v in package_versions().items()),
        f"Kaggle credentials: found ({env.kaggle_credentials})" if env.kaggle_credentials else
        "Kaggle credentials: not found (needed only for `casekit download`; "
        "see README, 'Using the real data')",
        f"Data root: {data_root()}   cache: {cache_root()}",
    ]
    found = describe_datasets(data_root())
    if not found:
        lines.append("Datasets: none yet (run `casekit synthetic` or `casekit download`)")
    for entry in found:
        lines.append("Dataset: " + ", ".join(f"{k}={v}" for k, v in entry.items()))
    return "\n".join(lines)
