"""Read a legacy (pre-zip) PyTorch state-dict file into NumPy arrays, without PyTorch.

A ``.pth`` written by ``torch.save(..., _use_new_zipfile_serialization=False)`` is five
pickles in a row (magic number, protocol version, system info, the object, the list of
storage keys) followed by the raw storages: for each key, an 8-byte little-endian element
count and that many little-endian elements. Tensors inside the object are
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` calls whose storage
is a *persistent id* ``("storage", torch.FloatStorage, key, location, numel)``.

A pickle can run any code it names, so this reader never imports what the file names: its
unpickler knows four globals (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``
and the storage types below) and refuses every other one with :class:`UnsafeWeightsError`.
Tensors are rebuilt as NumPy views of the storages, then copied.

Example:
    >>> state = read_state_dict("efficientnet-lite0-57934424.pth")   # doctest: +SKIP
    >>> state["_conv_stem.weight"].shape                               # doctest: +SKIP
    (32, 3, 3, 3)
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

#: The first pickle of every legacy PyTorch file.
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Storage types a state dict may name, and the NumPy dtype of their elements.
STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class UnsafeWeightsError(pickle.UnpicklingError):
    """A weights file names something other than tensors and an ordered dict."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass
class _Storage:
    dtype: np.dtype
    numel: int
    data: np.ndarray | None = field(default=None)


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def to_numpy(self) -> np.ndarray:
        if self.storage.data is None:
            raise pickle.UnpicklingError("A tensor points at a storage the file never wrote.")
        itemsize = self.storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset:],
            shape=self.size,
            strides=tuple(s * itemsize for s in self.stride),
            writeable=False,
        )
        return np.array(view)


def _rebuild_tensor_v2(storage: _Storage, offset: int, size: tuple, stride: tuple,
                       *_: Any) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeWeightsError(
            f"The weights file names the global {module}.{name}; only tensors and an ordered "
            "dict are allowed in a weights file, so it was not loaded."
        )

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise UnsafeWeightsError(f"Unexpected persistent id in the weights file: {pid!r}")
        _, storage_type, key, _location, numel = pid[:5]
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, int(numel))
        return self._storages[key]


def _load_header(file: BinaryIO) -> None:
    for expected in (MAGIC_NUMBER, PROTOCOL_VERSION):
        value = _SafeUnpickler(file, {}).load()
        if value != expected:
            raise pickle.UnpicklingError(
                "Not a legacy PyTorch file (the zip-based format of torch >= 1.6 is not read "
                "here)."
            )
    _SafeUnpickler(file, {}).load()  # system info: endianness and type sizes


def read_state_dict(source: str | os.PathLike[str] | bytes) -> dict[str, np.ndarray]:
    """The tensors of a legacy PyTorch state-dict file as NumPy arrays, by name.

    Args:
        source: a ``.pth`` file in the legacy (non-zip) ``torch.save`` format, or its
            bytes (already read, e.g. to check a checksum of exactly what is loaded).

    Returns:
        ``{name: array}`` in the file's order; arrays keep PyTorch's layout (a convolution
        kernel is ``(out, in, kh, kw)``) and dtype (``float32``; ``int64`` for counters).

    Raises:
        UnsafeWeightsError: the pickle names any global other than an ordered dict, the
            tensor rebuild function and storage types (the file could run code).
        pickle.UnpicklingError: not a legacy PyTorch file, or storages missing.

    Example:
        >>> read_state_dict("efficientnet-lite0-57934424.pth")["_fc.bias"].shape  # doctest: +SKIP
        (1000,)
    """
    storages: dict[str, _Storage] = {}
    path = "the weights data" if isinstance(source, bytes) else source
    opened = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    with opened as file:
        _load_header(file)
        state = _SafeUnpickler(file, storages).load()
        keys = _SafeUnpickler(file, storages).load()
        if not isinstance(state, dict) or not isinstance(keys, list):
            raise pickle.UnpicklingError(f"{path} does not hold a state dict.")
        for key in keys:
            storage = storages[key]
            (numel,) = struct.unpack("<q", file.read(8))
            raw = file.read(numel * storage.dtype.itemsize)
            if numel != storage.numel or len(raw) != numel * storage.dtype.itemsize:
                raise pickle.UnpicklingError(f"{path} is truncated or damaged (storage {key}).")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return {name: ref.to_numpy() for name, ref in state.items()}
