"""The errors ``casekit.datasets`` raises: one class per kind of fix the user has to make.

Both are ``ValueError`` subclasses, so ``except ValueError`` (as the command line does)
catches them, and each message names the file, column or setting to fix.

Example:
    >>> issubclass(KaggleCredentialsError, DatasetError) and issubclass(DatasetError, ValueError)
    True
"""

from __future__ import annotations


class DatasetError(ValueError):
    """The data on disk (or on offer) is missing, malformed, partial or altered."""


class KaggleCredentialsError(DatasetError):
    """A Kaggle download was asked for but no Kaggle API credentials were found."""
