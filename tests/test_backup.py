"""Training backups: the user's folder survives, a truncated backup never blocks a restart."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from casekit.backup import BACKUP_FOLDER, backup_and_restore
from casekit.training import recommended_callbacks

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]

DATA = (np.random.default_rng(0).normal(size=(16, 4)).astype("float32"),
        np.arange(16) % 2)


class Disconnect(keras.callbacks.Callback):
    """Stops training with an error at the end of epoch ``at`` (after the backup was saved)."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("runtime disconnected")


class Watch(keras.callbacks.Callback):
    """Records the backup folder's files at the end of every epoch."""

    def __init__(self, folder):
        super().__init__()
        self.folder, self.seen = folder, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(sorted(p.name for p in self.folder.iterdir()))


def new_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def run(folder, epochs=4, extra=()):
    callbacks = [backup_and_restore(folder), *extra]
    return new_model().fit(*DATA, epochs=epochs, batch_size=8, callbacks=callbacks, verbose=0)


def test_users_folder_and_its_other_files_survive_a_completed_fit(tmp_path):
    drive = tmp_path / "MyDrive" / "casekit"
    (drive / "runs" / "b0").mkdir(parents=True)
    (drive / "notes.md").write_text("my notes")
    (drive / "runs" / "b0" / "run.json").write_text("{}")
    watch = Watch(drive / BACKUP_FOLDER)
    callbacks = recommended_callbacks(backup_dir=drive, monitor="loss") + [watch]
    new_model().fit(*DATA, epochs=2, batch_size=8, callbacks=callbacks, verbose=0)
    assert "latest.weights.h5" in watch.seen[0]  # the backup was written, in the subfolder
    assert watch.seen[1] == ["latest.weights.h5", "latest.weights.h5.bkp",
                             "training_metadata.json", "training_metadata.json.bkp"]
    assert sorted(p.name for p in drive.iterdir()) == ["notes.md", "runs"]  # subfolder gone
    assert (drive / "notes.md").read_text() == "my notes"
    assert (drive / "runs" / "b0" / "run.json").exists()


def test_truncated_backup_resumes_from_the_previous_epoch(tmp_path):
    with pytest.raises(RuntimeError, match="disconnected"):
        run(tmp_path, extra=[Disconnect(at=2)])  # epochs 0, 1, 2 finished and backed up
    latest = tmp_path / BACKUP_FOLDER / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # cut short
    assert run(tmp_path).epoch == [2, 3]  # Keras' double checkpoint: epoch 1's backup


def test_truncated_first_backup_starts_again_with_a_warning(tmp_path):
    with pytest.raises(RuntimeError, match="disconnected"):
        run(tmp_path, extra=[Disconnect(at=0)])  # only one backup, no previous one
    latest = tmp_path / BACKUP_FOLDER / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[:100])
    with pytest.warns(UserWarning, match="cannot be read"):
        history = run(tmp_path)
    assert history.epoch == [0, 1, 2, 3]


def test_a_foreign_backup_subfolder_is_never_used(tmp_path):
    (tmp_path / BACKUP_FOLDER).mkdir()
    (tmp_path / BACKUP_FOLDER / "thesis.docx").write_text("not casekit's")
    with pytest.raises(ValueError, match="thesis.docx"):
        backup_and_restore(tmp_path)
    assert (tmp_path / BACKUP_FOLDER / "thesis.docx").exists()
