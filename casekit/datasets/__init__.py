"""The datasets: download once, verify by content, load as one tidy table.

- ``download(name)`` fetches HAM10000 or PAD-UFES-20 (Kaggle, official files or a URL),
  verifies it and puts it in ``casekit.paths.dataset_dir(name)``; ``use_existing(name,
  path)`` verifies a copy you already have (e.g. on Google Drive).
- ``load(name, root)`` returns the normalised table with every image's path;
  ``load_metadata`` the same without looking for images.
- ``verify(name, root)`` checks a copy (real or synthetic) by its labels and image count;
  ``describe_datasets()`` lists what is present, for ``casekit doctor``.

Example:
    >>> from casekit import datasets
    >>> datasets.get_spec("ham10000").labels
    ('akiec', 'bcc', 'bkl', 'df', 'mel', 'nv', 'vasc')
"""

from casekit.datasets.download import download
from casekit.datasets.errors import DatasetError, KaggleCredentialsError
from casekit.datasets.fingerprint import label_fingerprint, metadata_fingerprint
from casekit.datasets.kaggle import kaggle_credentials_source
from casekit.datasets.loaders import load, load_metadata
from casekit.datasets.registry import NORMALISED_COLUMNS, REGISTRY, DatasetSpec, get_spec
from casekit.datasets.verify import (
    MANIFEST_NAME,
    VerifyResult,
    describe_datasets,
    read_manifest,
    use_existing,
    verify,
)

__all__ = [
    "MANIFEST_NAME",
    "NORMALISED_COLUMNS",
    "REGISTRY",
    "DatasetError",
    "DatasetSpec",
    "KaggleCredentialsError",
    "VerifyResult",
    "describe_datasets",
    "download",
    "get_spec",
    "kaggle_credentials_source",
    "label_fingerprint",
    "load",
    "load_metadata",
    "metadata_fingerprint",
    "read_manifest",
    "use_existing",
    "verify",
]
