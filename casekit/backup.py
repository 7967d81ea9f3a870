"""Crash-safe training backups that never delete anything casekit did not create.

Keras' ``BackupAndRestore`` saves the training state at the end of every epoch and, when
training ends normally, deletes the folder it was given. casekit therefore never hands it
the user's folder: the backup lives in a subfolder, ``<backup_dir>/casekit_backup``, that
casekit creates and owns, so a Drive folder holding runs and notes keeps them all.

A disconnect while the backup is being written leaves a truncated file. Keras' double
checkpoint (``double_checkpoint=True``, Keras >= 3.7) keeps the previous epoch's backup
beside the latest and falls back to it; when there is no previous one (the first epoch's
backup was cut short), casekit warns and starts training from the first epoch instead of
failing.

Example:
    >>> import tempfile
    >>> callback = backup_and_restore(tempfile.mkdtemp())
    >>> callback.backup_dir.endswith("casekit_backup"), callback.double_checkpoint
    (True, True)
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import keras

#: The subfolder of ``backup_dir`` that casekit creates, owns and lets Keras delete.
BACKUP_FOLDER = "casekit_backup"
#: What Keras writes there (double checkpoint: the latest and the previous epoch).
KERAS_FILES = frozenset({"latest.weights.h5", "latest.weights.h5.bkp",
                         "training_metadata.json", "training_metadata.json.bkp"})


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' ``BackupAndRestore``, except that an unreadable backup means "start again".

    Build it with :func:`backup_and_restore`, which chooses the folder.
    """

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except (OSError, json.JSONDecodeError) as error:
            warnings.warn(
                f"The training backup in {self.backup_dir} cannot be read ({error}); it was "
                "probably cut short by a disconnect. Training starts from the first epoch.",
                stacklevel=2,
            )
            shutil.rmtree(self.backup_dir, ignore_errors=True)  # casekit's own subfolder
            self._current_epoch = 0
            self._last_batch_seen = 0


def backup_and_restore(backup_dir: str | os.PathLike[str], *,
                       save_freq: str | int = "epoch") -> keras.callbacks.BackupAndRestore:
    """A ``keras.callbacks.BackupAndRestore`` writing into ``<backup_dir>/casekit_backup``.

    Args:
        backup_dir: a folder of the user's (created if missing; e.g. on Google Drive so the
            backup survives a Colab disconnect). Nothing in it is touched except the
            ``casekit_backup`` subfolder, which is deleted when training ends normally.
        save_freq: ``"epoch"`` or a number of batches between backups (Keras' meaning).

    Returns:
        The callback, with Keras' double checkpoint on.

    Raises:
        ValueError: ``casekit_backup`` already exists and holds files Keras did not write
            (casekit never deletes what it did not create).
    """
    folder = Path(backup_dir).expanduser() / BACKUP_FOLDER
    if folder.exists():
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in KERAS_FILES)
        if foreign or not folder.is_dir():
            raise ValueError(
                f"{folder} holds files casekit did not write ({', '.join(foreign[:3])}); "
                "casekit keeps training backups in that subfolder and deletes it after "
                "training. Move those files, or pass another backup_dir."
            )
    folder.parent.mkdir(parents=True, exist_ok=True)
    return BackupAndRestore(str(folder), save_freq=save_freq, double_checkpoint=True,
                                 delete_checkpoint=True)
