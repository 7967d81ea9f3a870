"""A stand-in ``google.colab`` for tests: the parts casekit uses, behaving as Colab's do.

Example:
    >>> import pytest   # doctest: +SKIP
    >>> colab = stand_in_colab(monkeypatch, {"KAGGLE_API_TOKEN": "t"})   # doctest: +SKIP
    >>> colab.userdata.get("KAGGLE_API_TOKEN")   # doctest: +SKIP
    't'
"""

from __future__ import annotations

import sys
import types


def stand_in_colab(monkeypatch, secrets: dict[str, str]) -> types.ModuleType:
    """A ``google.colab`` with ``userdata`` (raises for unknown secrets, as Colab does)."""

    class SecretNotFoundError(Exception):
        pass

    def get(name):
        if name not in secrets:
            raise SecretNotFoundError(name)
        return secrets[name]

    colab = types.ModuleType("google.colab")
    colab.userdata = types.SimpleNamespace(get=get)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    return colab
