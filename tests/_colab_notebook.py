"""Turn a notebook into what Google Colab saves, to check that such files grade normally.

Students who work in Colab hand in the file Colab writes (*File → Download → Download
.ipynb*, or the copy in their Drive). Compared with the course's own files it has:

* ``nbformat`` 4, ``nbformat_minor`` **0**, so no cell ``id`` field;
* Colab's notebook metadata: ``colab`` (``name``, ``provenance``, on a GPU runtime
  ``gpuType``), a bare ``kernelspec`` (``{"name": "python3", "display_name": "Python 3"}``),
  ``language_info`` with only the name, ``accelerator`` on a GPU runtime;
* per cell, Colab's own id in ``metadata.id`` (12 letters, digits, ``-``/``_``), and for a
  code cell with outputs ``metadata.colab`` (``base_uri``) and ``metadata.outputId``;
* nbgrader's ``deletable``/``editable`` flags are not enforced, and here they are dropped;
* outputs kept, every multi-line string split into a list of lines, two-space indentation;
* optionally the *Open in Colab* link cell Colab puts first (``metadata.id`` ``view-in-github``).

Example:
    >>> from _colab_notebook import save_as_colab
    >>> path = save_as_colab("solutions/01_eda/01_eda.ipynb", "/tmp/01_eda_colab.ipynb")
    >>> import json; json.loads(path.read_text())["nbformat_minor"]
    0
"""

from __future__ import annotations

import copy
import json
import os
import random
import string
import uuid
from pathlib import Path

from casekit.io import write_text_atomic
from casekit_course.hosting import load_hosting

_ID_CHARS = string.ascii_letters + string.digits + "-_"
_BADGE = ('<a href="{url}" target="_parent"><img '
          'src="https://colab.research.google.com/assets/colab-badge.svg" '
          'alt="Open In Colab"/></a>')


def to_colab(
    nb: dict,
    name: str,
    gpu: bool = False,
    link_cell: bool = False,
    seed: int = 0,
) -> dict:
    """Return a copy of the notebook ``nb`` (plain JSON dict) as Colab would save it.

    ``name`` is the file name Colab shows; ``gpu`` marks a GPU runtime; ``link_cell`` adds
    the *Open in Colab* cell Colab puts first when a notebook is saved to GitHub. Ids are
    drawn from ``seed``, so the result is reproducible.
    """
    rng = random.Random(seed)
    colab = {"name": name, "provenance": []}
    metadata = {
        "colab": colab,
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
    }
    if gpu:
        colab["gpuType"] = "T4"
        metadata["accelerator"] = "GPU"
    cells = [_colab_cell(cell, rng) for cell in copy.deepcopy(nb["cells"])]
    if link_cell:
        colab["include_colab_link"] = True
        cells.insert(0, {"cell_type": "markdown",
                         "metadata": {"id": "view-in-github", "colab_type": "text"},
                         "source": [_BADGE.format(url=load_hosting().colab_url(name))]})
    return {"nbformat": 4, "nbformat_minor": 0, "metadata": metadata, "cells": cells}


def save_as_colab(
    source: str | os.PathLike[str], target: str | os.PathLike[str], **options
) -> Path:
    """Write the Colab version of the notebook file ``source`` to ``target``; return it.

    ``options`` go to :func:`to_colab` (the name defaults to ``source``'s file name).
    """
    source, target = Path(source), Path(target)
    nb = json.loads(source.read_text(encoding="utf-8"))
    options.setdefault("name", source.name)
    write_text_atomic(target, json.dumps(to_colab(nb, **options), indent=2, ensure_ascii=False)
                      + "\n")
    return target


def colab_id(rng: random.Random) -> str:
    """A cell id of the kind Colab writes, e.g. ``'69lq2k6UH7WY'``."""
    return "".join(rng.choice(_ID_CHARS) for _ in range(12))


def _colab_cell(cell: dict, rng: random.Random) -> dict:
    cell.pop("id", None)
    meta = cell.setdefault("metadata", {})
    meta.pop("deletable", None)
    meta.pop("editable", None)
    meta["id"] = colab_id(rng)
    cell["source"] = _lines(cell.get("source", ""))
    if cell["cell_type"] == "code":
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _lines(output["text"])
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str):  # JSON payloads (dicts) stay as they are
                    output["data"][mime] = _lines(value)
        if cell.get("outputs"):
            meta["colab"] = {"base_uri": "https://localhost:8080/"}
            meta["outputId"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return cell


def _lines(text) -> list[str]:
    if isinstance(text, list):
        text = "".join(text)
    return text.splitlines(keepends=True)
