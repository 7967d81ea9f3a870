"""``metadata_table``: the synthetic raw metadata of either dataset, without any images.

Fast (no drawing), so marginals can be checked at the real sizes in a fraction of a second.

Example:
    >>> table = metadata_table("ham10000", 1000, seed=0)
    >>> len(table), list(table.columns) == list(get_spec("ham10000").required_columns)
    (1000, True)
"""

from __future__ import annotations

from numbers import Integral

import pandas as pd

from casekit.datasets.registry import get_spec
from casekit.synthetic.ham_table import ham_table
from casekit.synthetic.layout import resolve_layout
from casekit.synthetic.pad_table import pad_table

#: Default number of images: enough for the demos' plots and a small CNN, quick to draw.
DEFAULT_N_IMAGES: dict[str, int] = {"ham10000": 1500, "pad_ufes_20": 600}


def metadata_table(
    name: str, n_images: int | None = None, seed: int = 0, layout: str | None = None
) -> pd.DataFrame:
    """The raw table (columns and value formats as in the real CSV) of a synthetic copy.

    ``name``: ``"ham10000"`` or ``"pad_ufes_20"``; ``n_images``: rows (default
    ``DEFAULT_N_IMAGES``; ``get_spec(name).n_images`` gives the real size); ``layout``:
    HAM10000's ``"dataverse"`` adds the 8th column ``dataset``. Same arguments, same table.
    """
    spec = get_spec(name)
    layout = resolve_layout(spec.name, layout)
    n = DEFAULT_N_IMAGES[spec.name] if n_images is None else n_images
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n_images must be a positive whole number, got {n_images!r}")
    if spec.name == "ham10000":
        table = ham_table(int(n), seed)
        return table if layout == "dataverse" else table.drop(columns="dataset")
    return pad_table(int(n), seed)
