"""Kaggle downloads that fit Colab: one copy of each image, staged on the local disk.

kagglehub itself cannot reach Kaggle here; a stand-in ``dataset_download`` behaves as it
does in Colab (returns a read-only mount of Colab's Kaggle cache, ignoring ``output_dir``)
or elsewhere (downloads into ``output_dir``). Everything after it is casekit's real code.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import kagglehub
import pytest
from _dataset_fixtures import HAM_FINGERPRINT, HAM_ROWS, write_ham

from casekit import datasets
from casekit.datasets.kaggle import copy_dataset_files
from casekit.environment import on_google_drive

TINY_HAM = {"fingerprint": HAM_FINGERPRINT, "n_images": len(HAM_ROWS)}
N = len(HAM_ROWS)


def kaggle_layout(root: Path) -> Path:
    """HAM10000 as Kaggle ships it: both folder cases hold every image; hmnist extras."""
    write_ham(root, folders=("HAM10000_images_part_1", "HAM10000_images_part_2"))
    write_ham(root, folders=("ham10000_images_part_1", "ham10000_images_part_2"))
    (root / "hmnist_28_28_RGB.csv").write_text("pixel0000,label\n")
    return root


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def kaggle(monkeypatch, tmp_path):
    """Credentials present, local staging in ``tmp_path/local``, kagglehub stood in for."""
    monkeypatch.setenv("KAGGLE_API_TOKEN", "token-value")
    local = tmp_path / "local"
    local.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(local))
    calls = []

    def use(behaviour):
        def dataset_download(handle, path=None, *, force_download=False, output_dir=None):
            calls.append(Path(output_dir))
            return str(behaviour(Path(output_dir)))

        monkeypatch.setattr(kagglehub, "dataset_download", dataset_download)
        return calls

    return local, use


def test_colab_mount_gives_metadata_and_one_copy_of_each_image(kaggle, tmp_path):
    local, use = kaggle
    mount = kaggle_layout(tmp_path / "colab-cache-mount")
    before = files_under(mount)
    assert len(before) == 2 * N + 2  # the old code copied all of these
    for folder in [mount, *(p for p in mount.rglob("*") if p.is_dir())]:
        folder.chmod(0o555)  # Colab's mount is read-only
    calls = use(lambda output_dir: mount)  # Colab ignores output_dir
    root = tmp_path / "data" / "ham10000"
    try:
        assert datasets.download("ham10000", root, source="kaggle", expected=TINY_HAM,
                                 progress=False) == root
    finally:
        for folder in [mount, *(p for p in mount.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
    written = files_under(root)
    assert len(written) == N + 1 and "HAM10000_metadata.csv" in written
    assert all(name.startswith("HAM10000_images_part_") for name in written[:-1])
    assert files_under(mount) == before  # the mount is only read
    assert calls[0].is_relative_to(local)  # staged on the local disk, not beside the data
    assert os.listdir(local) == [] and os.listdir(root.parent) == ["ham10000"]


def test_kagglehub_download_into_staging_is_pruned_to_one_copy(kaggle, tmp_path):
    _, use = kaggle
    use(kaggle_layout)  # outside Colab kagglehub downloads into output_dir
    root = datasets.download("ham10000", tmp_path / "ham", source="kaggle", expected=TINY_HAM,
                             progress=False)
    assert len(files_under(root)) == N + 1
    assert datasets.load("ham10000", root)["image_path"].map(lambda p: Path(p).exists()).all()


def test_copy_counts_what_is_written_and_left_out(tmp_path):
    source = kaggle_layout(tmp_path / "src")
    spec = datasets.get_spec("ham10000")
    assert copy_dataset_files(source, tmp_path / "out", spec, progress=False) == (N + 1, N + 1)
    assert len(files_under(source)) == 2 * N + 2
    moved = shutil.copytree(source, tmp_path / "staging")
    assert copy_dataset_files(moved, tmp_path / "out2", spec, move=True,
                              progress=False) == (N + 1, N + 1)
    assert len(files_under(moved)) == N + 1  # the duplicates stay behind, in staging


def test_google_drive_paths():
    assert on_google_drive("/content/drive/MyDrive/casekit_data/ham10000")
    assert not on_google_drive("/root/casekit_data/ham10000")
    assert not on_google_drive("/content/drivers")
