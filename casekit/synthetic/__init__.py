"""Synthetic stand-ins for HAM10000 and PAD-UFES-20, so every notebook and test runs offline.

``make`` writes a dataset-shaped folder (same CSV columns and value formats, same folder
layout as the real download) that the real loaders read unchanged; ``metadata_table``
gives just the table, fast. Everything is labelled synthetic: ids start with ``SYN_`` and
each copy carries ``README_SYNTHETIC.md`` and a ``SYNTHETIC.json`` manifest. It is not
patient data and says nothing about skin cancer: it only exercises the code.

Example:
    >>> import tempfile
    >>> from casekit import synthetic
    >>> root = synthetic.make("ham10000", tempfile.mkdtemp() + "/ham", n_images=20,
    ...                       progress=False)
    >>> (root / "HAM10000_metadata.csv").exists(), (root / "SYNTHETIC.json").exists()
    (True, True)
    >>> synthetic.metadata_table("pad_ufes_20", 2298)["diagnostic"].value_counts()["BCC"]
    np.int64(845)
"""

from __future__ import annotations

from casekit.synthetic.layout import LAYOUTS
from casekit.synthetic.metadata import DEFAULT_N_IMAGES, metadata_table
from casekit.synthetic.writer import make

__all__ = ["DEFAULT_N_IMAGES", "LAYOUTS", "make", "metadata_table"]
