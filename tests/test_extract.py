"""safe_extract: a damaged member or a zip bomb leaves the destination exactly as it was."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from casekit.datasets import DatasetError
from casekit.datasets.extract import MAX_RATIO, safe_extract


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def existing(tmp_path) -> Path:
    """A destination that already holds a file of its own."""
    dest = tmp_path / "dataset"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    return dest


def test_a_corrupted_zip_member_leaves_the_destination_as_it_was(tmp_path, existing):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("images/a.jpg", b"A" * 500)
        archive.writestr("images/b.jpg", b"CORRUPT-ME" * 50)
        archive.writestr("images/c.jpg", b"C" * 500)
    data = bytearray(buffer.getvalue())
    data[data.index(b"CORRUPT-ME") + 7] ^= 0xFF  # one flipped byte: a bad CRC
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    before = snapshot(existing)
    with pytest.raises(DatasetError, match=r"bad\.zip is damaged or truncated.*CRC"):
        safe_extract(bad, existing)
    assert snapshot(existing) == before == {"notes.txt": b"mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip", "dataset"]  # no staging


def test_a_zip_bomb_is_refused_by_its_ratio_and_names_how_to_raise_the_limit(tmp_path,
                                                                             existing):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", bytes(8 * 2**20))  # 8 MiB of zeros: about 8 KiB packed
    ratio = 8 * 2**20 / bomb.stat().st_size
    assert ratio > 10 * MAX_RATIO
    with pytest.raises(DatasetError) as refused:
        safe_extract(bomb, existing)
    message = str(refused.value)
    assert message.startswith("bomb.zip: it would unpack to 8.0 MiB from ")
    assert f"{ratio:.0f} times its size (limit {MAX_RATIO})" in message
    assert "safe_extract(..., max_ratio=...)" in message
    assert snapshot(existing) == {"notes.txt": b"mine"}
    written = safe_extract(bomb, existing, max_ratio=2 * ratio)  # an archive you trust
    assert written == [existing / "zeros.bin"]
    assert (existing / "zeros.bin").stat().st_size == 8 * 2**20


def test_a_tar_larger_than_max_bytes_is_refused_before_writing(tmp_path, existing):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        member = tarfile.TarInfo("big.csv")
        member.size = 5000
        archive.addfile(member, io.BytesIO(b"x" * 5000))
    big = tmp_path / "big.tar"
    big.write_bytes(buffer.getvalue())
    with pytest.raises(DatasetError, match=r"big\.tar: it would unpack to 4\.9 KiB .* limit of "
                                           r"3\.9 KiB.*max_bytes=\.\.\."):
        safe_extract(big, existing, max_bytes=4000)
    assert snapshot(existing) == {"notes.txt": b"mine"}


def test_zip_links_inside_become_copies_and_outside_ones_are_refused(tmp_path):
    def zip_with_link(target: str) -> Path:
        path = tmp_path / f"links{len(list(tmp_path.glob('*.zip')))}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data/a.txt", b"ok")
            link = zipfile.ZipInfo("data/sub/b.txt")
            link.external_attr = (0o120777 << 16)  # a symbolic link, as Info-ZIP stores it
            archive.writestr(link, target)
        return path

    written = safe_extract(zip_with_link("../a.txt"), tmp_path / "inside")
    copy = tmp_path / "inside" / "data" / "sub" / "b.txt"
    assert copy in written and copy.read_bytes() == b"ok" and not copy.is_symlink()
    with pytest.raises(DatasetError, match="pointing outside"):
        safe_extract(zip_with_link("../../../outside"), tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
