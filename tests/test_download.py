"""casekit.datasets.download through a real local HTTP server, pooch and the safe extractor."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from _dataset_fixtures import (
    HAM_FINGERPRINT,
    HAM_ROWS,
    PAD_FINGERPRINT,
    PAD_ROWS,
    write_ham,
    write_pad,
)
from _http_server import FileServer

from casekit import datasets
from casekit.datasets import DatasetError
from casekit.datasets.extract import safe_extract
from casekit.datasets.registry import RemoteFile

TINY_HAM = {"fingerprint": HAM_FINGERPRINT, "n_images": len(HAM_ROWS)}
TINY_PAD = {"fingerprint": PAD_FINGERPRINT, "n_images": len(PAD_ROWS)}
# The module, not the function of the same name that casekit.datasets exports.
download_module = sys.modules["casekit.datasets.download"]


def zip_of(folder: Path, prefix: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of every file under ``folder`` (paths under ``prefix``), plus ``extra`` entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(folder: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.add(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


def leftovers(parent: Path) -> list[str]:
    """Everything in ``parent`` (staging folders would show up here)."""
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


@pytest.fixture
def pad_zip(tmp_path) -> bytes:
    return zip_of(write_pad(tmp_path / "src-pad", layout="kaggle"), prefix="skin-cancer/")


def test_url_zip_download_then_second_run_makes_no_request(tmp_path, pad_zip):
    root = tmp_path / "data" / "pad_ufes_20"
    with FileServer({"pad.zip": pad_zip}) as server:
        got = datasets.download("pad_ufes_20", root, url=server.url("pad.zip"),
                                expected=TINY_PAD, progress=False)
        assert got == root
        assert server.requests == ["pad.zip"]
        assert leftovers(root.parent) == ["pad_ufes_20"]  # no staging folder left behind
        df = datasets.load("pad_ufes_20", root)
        assert list(df["label"]) == [row["diagnostic"] for row in PAD_ROWS]
        assert all(Path(p).is_file() for p in df["image_path"])

        again = datasets.download("pad_ufes_20", root, url=server.url("pad.zip"),
                                  expected=TINY_PAD, progress=False)
        assert again == root
        assert server.requests == ["pad.zip"]  # verified on disk: no second request


def test_url_tar_download_with_the_right_hash(tmp_path):
    archive = tar_of(write_ham(tmp_path / "src-ham", folders=(
        "ham10000_images_part_1/ham10000_images_part_1", "ham10000_images_part_2")))
    digest = hashlib.sha256(archive).hexdigest()
    root = tmp_path / "data" / "ham10000"
    with FileServer({"files/ham.tar.gz": archive}) as server:
        datasets.download("ham10000", root, source="url", url=server.url("files/ham.tar.gz"),
                          known_hash=f"sha256:{digest}", expected=TINY_HAM, progress=False)
    assert datasets.verify("ham10000", root, expected=TINY_HAM).ok
    assert len(datasets.load("ham10000", root)) == len(HAM_ROWS)


def test_wrong_hash_is_refused_and_root_untouched(tmp_path, pad_zip):
    root = tmp_path / "data" / "pad_ufes_20"
    with FileServer({"pad.zip": pad_zip}) as server:
        with pytest.raises(DatasetError, match="(?i)hash"):
            datasets.download("pad_ufes_20", root, url=server.url("pad.zip"),
                              known_hash="sha256:" + "0" * 64, expected=TINY_PAD,
                              progress=False)
    assert not root.exists()
    assert leftovers(root.parent) == []


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_truncated_archive_is_refused_with_nothing_left(tmp_path, kind):
    source = write_pad(tmp_path / "src", layout="official")
    archive = zip_of(source) if kind == "zip" else tar_of(source)
    root = tmp_path / "data" / "pad_ufes_20"
    with FileServer({f"pad.{kind}": archive[: len(archive) // 2]}) as server:
        with pytest.raises(DatasetError, match="truncated"):
            datasets.download("pad_ufes_20", root, url=server.url(f"pad.{kind}"),
                              expected=TINY_PAD, progress=False)
    assert not root.exists()
    assert leftovers(root.parent) == []


def test_archive_with_dotdot_entry_is_refused_and_nothing_written_outside(tmp_path):
    archive = zip_of(write_pad(tmp_path / "src"), extra={"../../evil.txt": b"owned"})
    root = tmp_path / "data" / "deep" / "pad_ufes_20"
    with FileServer({"pad.zip": archive}) as server:
        with pytest.raises(DatasetError, match=r"unsafe entry '\.\./\.\./evil\.txt'"):
            datasets.download("pad_ufes_20", root, url=server.url("pad.zip"),
                              expected=TINY_PAD, progress=False)
    assert not list(tmp_path.rglob("evil.txt"))
    assert not root.exists() and leftovers(root.parent) == []


def test_partial_download_leaves_an_existing_copy_as_it_was(tmp_path):
    root = write_pad(tmp_path / "data" / "pad_ufes_20")
    partial = zip_of(write_pad(tmp_path / "src", skip=2))
    with FileServer({"partial.zip": partial}) as server:
        with pytest.raises(DatasetError, match="did not verify.*found 4 of 6"):
            datasets.download("pad_ufes_20", root, url=server.url("partial.zip"),
                              expected=TINY_PAD, force=True, progress=False)
    assert datasets.verify("pad_ufes_20", root, expected=TINY_PAD).ok
    assert leftovers(root.parent) == ["pad_ufes_20"]


def test_existing_copy_that_does_not_verify_needs_force(tmp_path, pad_zip):
    root = write_pad(tmp_path / "data" / "pad_ufes_20", skip=1)
    with FileServer({"pad.zip": pad_zip}) as server:
        with pytest.raises(DatasetError, match="force=True"):
            datasets.download("pad_ufes_20", root, url=server.url("pad.zip"),
                              expected=TINY_PAD, progress=False)
        assert server.requests == []
        datasets.download("pad_ufes_20", root, url=server.url("pad.zip"), expected=TINY_PAD,
                          force=True, progress=False)
    assert datasets.verify("pad_ufes_20", root, expected=TINY_PAD).n_found == 6
    assert leftovers(root.parent) == ["pad_ufes_20"]


def test_force_never_replaces_a_folder_that_is_not_a_dataset(tmp_path, pad_zip):
    root = tmp_path / "home"
    root.mkdir()
    (root / "thesis.tex").write_text("precious")
    with FileServer({"pad.zip": pad_zip}) as server:
        with pytest.raises(DatasetError, match="refusing to replace"):
            datasets.download("pad_ufes_20", root, url=server.url("pad.zip"),
                              expected=TINY_PAD, force=True, progress=False)
    assert (root / "thesis.tex").read_text() == "precious"


def test_synthetic_folder_is_never_used_as_real_data(tmp_path):
    root = write_pad(tmp_path / "pad_ufes_20")
    (root / datasets.MANIFEST_NAME).write_text('{"synthetic": true, "dataset": "pad_ufes_20"}')
    with pytest.raises(DatasetError, match="synthetic copy"):
        datasets.download("pad_ufes_20", root, url="http://127.0.0.1:9/never")


def test_official_files_csv_and_archives_into_sub_folders(tmp_path, monkeypatch):
    source = write_pad(tmp_path / "src", layout="official")
    files = {"metadata.csv": (source / "metadata.csv").read_bytes()}
    for part in (1, 2, 3):
        files[f"part{part}"] = zip_of(source / "images" / f"imgs_part_{part}",
                                      prefix=f"imgs_part_{part}/")
    with FileServer(files) as server:
        official = (
            RemoteFile(server.url("metadata.csv"), "metadata.csv",
                       hashlib.sha256(files["metadata.csv"]).hexdigest()),
            *(RemoteFile(server.url(f"part{n}"), f"images/imgs_part_{n}.zip")
              for n in (1, 2, 3)),
        )
        spec = dataclasses.replace(datasets.get_spec("pad_ufes_20"), official_files=official)
        monkeypatch.setattr(download_module, "get_spec", lambda name: spec)
        root = datasets.download("pad_ufes_20", tmp_path / "data" / "pad", source="official",
                                 expected=TINY_PAD, progress=False)
        assert sorted(server.requests) == ["metadata.csv", "part1", "part2", "part3"]
    df = datasets.load("pad_ufes_20", root)
    assert Path(df["image_path"][0]).relative_to(root).as_posix() == \
        "images/imgs_part_1/PAT_46_881_939.png"


def test_no_official_files_says_where_to_download_by_hand(tmp_path):
    with pytest.raises(DatasetError) as error:
        datasets.download("ham10000", tmp_path / "ham", source="official")
    message = str(error.value)
    assert "https://doi.org/10.7910/DVN/DBW86T" in message
    assert "use_existing('ham10000', folder)" in message and "url=" in message
    assert not (tmp_path / "ham").exists()


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="source must be"):
        datasets.download("ham10000", tmp_path / "x", source="ftp")
    with pytest.raises(ValueError, match="url= goes with source='url'"):
        datasets.download("ham10000", tmp_path / "x", source="kaggle", url="http://x/y.zip")
    with pytest.raises(ValueError, match="needs url="):
        datasets.download("ham10000", tmp_path / "x", source="url")


def _tar_with(folder: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    """A tar holding one harmless file and ``member``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        ok = tarfile.TarInfo("fine/a.txt")
        ok.size = 2
        archive.addfile(ok, io.BytesIO(b"ok"))
        member.size = len(data) if member.isfile() else 0
        archive.addfile(member, io.BytesIO(data) if data else None)
    path = folder / "t.tar"
    path.write_bytes(buffer.getvalue())
    return path


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.linkname = kind, target
    return member


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (tarfile.TarInfo("/etc/evil"), "unsafe entry"),
        (tarfile.TarInfo("fine/../../evil"), "unsafe entry"),
        (_link("fine/link", "../../outside"), "pointing outside"),
        (_link("fine/link", "/etc/passwd"), "pointing outside"),
        (_link("fine/hard", "../outside", tarfile.LNKTYPE), "pointing outside"),
    ],
    ids=["absolute", "dotdot", "symlink-up", "symlink-absolute", "hardlink-up"],
)
def test_safe_extract_refuses_before_writing_anything(tmp_path, member, reason):
    archive = _tar_with(tmp_path, member, b"x" if member.isfile() else b"")
    dest = tmp_path / "out"
    with pytest.raises(DatasetError, match=reason):
        safe_extract(archive, dest)
    assert not dest.exists()


def test_safe_extract_copies_links_that_stay_inside(tmp_path):
    archive = _tar_with(tmp_path, _link("fine/sub/b.txt", "../a.txt"))
    written = safe_extract(archive, tmp_path / "out")
    copy = tmp_path / "out" / "fine" / "sub" / "b.txt"
    assert copy in written and copy.read_bytes() == b"ok" and not copy.is_symlink()
