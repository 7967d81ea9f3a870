"""casekit's one progress bar: plain text, readable in every place a notebook runs.

``tqdm.auto`` draws an ipywidgets bar whenever it runs inside a Jupyter kernel, but whether
that bar renders depends on the front end: in Colab it needs the right widget manager, in a
kernel without a widget front end (papermill, nbclient, nbgrader) the saved output is a
frozen "0%". A text bar (``tqdm.std``) written to stderr is redrawn in place by Colab,
JupyterLab and a terminal, and stays readable in papermill's saved output. Off a terminal
it redraws at most once a second, so saved notebooks do not fill up with bar lines.

Use it as ``tqdm`` (same arguments):

    >>> from casekit.progress import tqdm
    >>> sum(tqdm(range(3), disable=True))
    3
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm.std import tqdm as _text_tqdm

__all__ = ["tqdm"]


class tqdm(_text_tqdm):  # noqa: N801  (the name everyone knows from tqdm)
    """A ``tqdm.std.tqdm`` text bar on stderr; off a terminal ``mininterval`` is 1 s.

    Takes exactly ``tqdm``'s arguments; explicit ones win over these defaults.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        stream = kwargs.setdefault("file", sys.stderr)
        interactive = bool(getattr(stream, "isatty", lambda: False)())
        kwargs.setdefault("mininterval", 0.1 if interactive else 1.0)
        kwargs.setdefault("dynamic_ncols", interactive)
        super().__init__(*args, **kwargs)
