"""The decode-once image cache: decoding, content key, atomic builds, validation, reads."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from casekit.images import (
    METHOD,
    CacheError,
    ImageCache,
    ImageDecodeError,
    build_cache,
    cache_for,
    load_image,
    open_cache,
    to_rgb,
)
from casekit.images import build as build_module
from casekit.images.store import IMAGES_FILE, MANIFEST_FILE

SIZE = 16


def _age(path: Path, seconds: float = 60.0) -> None:
    """Make a file look old enough for its digest to be remembered (see images/key.py)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def _photo(rng: np.random.Generator, width: int = 40, height: int = 30) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.fixture()
def images(tmp_path: Path) -> tuple[list[Path], list[str]]:
    """Twelve small images in several formats and modes, all 'old' on disk."""
    rng = np.random.default_rng(1)
    folder = tmp_path / "images"
    folder.mkdir()
    paths = []
    for i in range(12):
        image = _photo(rng, 40 + 4 * i, 30 + 2 * i)
        if i % 4 == 1:
            path = folder / f"IMG_{i:02d}.png"
            image.convert("RGBA").save(path)
        elif i % 4 == 2:
            path = folder / f"IMG_{i:02d}.png"
            image.convert("L").save(path)
        else:
            path = folder / f"IMG_{i:02d}.jpg"
            image.save(path, quality=90)
        _age(path)
        paths.append(path)
    return paths, [p.stem for p in paths]


def _build(paths, ids, cache_dir, **kwargs) -> ImageCache:
    kwargs.setdefault("workers", 1)
    return build_cache(paths, ids, SIZE, "toy", cache_dir=cache_dir, progress=False, **kwargs)


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --- load_image -------------------------------------------------------------------------


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    pixels = np.zeros((20, 20, 4), dtype=np.uint8)
    pixels[..., :3] = (10, 200, 30)
    pixels[..., 3] = 255
    pixels[:, :10, 3] = 0  # left half fully transparent (colour under it: green)
    path = tmp_path / "rgba.png"
    Image.fromarray(pixels, "RGBA").save(path)
    out = load_image(path, 20)
    assert out.shape == (20, 20, 3) and out.dtype == np.uint8
    assert out[10, 2].tolist() == [255, 255, 255]  # transparent → white, not green
    assert out[10, 17].tolist() == [10, 200, 30]  # opaque → its own colour


def test_opaque_rgba_equals_its_rgb(tmp_path: Path) -> None:
    rgb = _photo(np.random.default_rng(2), 30, 30)
    rgb.save(tmp_path / "rgb.png")
    rgb.convert("RGBA").save(tmp_path / "rgba.png")
    assert np.array_equal(load_image(tmp_path / "rgb.png", 12),
                          load_image(tmp_path / "rgba.png", 12))


# Issue 11 item 2: every way a file carries transparency comes out composited on white, the
# same for each. Each picture is 60 x 40: left half transparent (black underneath), right
# half opaque. Pixel [16, 2] of the 32-pixel decode lies in the left half, [16, 29] in the right.
_ORANGE = (200, 100, 50)


def _png16(path: Path, array: np.ndarray, colour_type: int, key: tuple = ()) -> None:
    """Write a 16-bit PNG by hand (Pillow cannot write 16-bit RGB(A) or LA)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    height, width = array.shape[:2]
    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in array.reshape(height, -1))
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    trns = chunk(b"tRNS", struct.pack(f">{len(key)}H", *key)) if key else b""
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + trns
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _halves(colour: tuple, alpha: bool = True) -> np.ndarray:
    """40 x 60 uint8 picture: left half black (alpha 0), right half ``colour`` (alpha 255)."""
    pixels = np.zeros((40, 60, len(colour) + alpha), dtype=np.uint8)
    pixels[:, 30:] = (*colour, 255) if alpha else colour
    return pixels


def _rgba(path: Path) -> None:
    Image.fromarray(_halves(_ORANGE), "RGBA").save(path)


def _la(path: Path) -> None:
    Image.fromarray(_halves((150,)), "LA").save(path)


def _rgb_key(path: Path) -> None:  # the input
    Image.fromarray(_halves(_ORANGE, alpha=False)).save(path, transparency=(0, 0, 0))


def _grey_key(path: Path) -> None:
    Image.fromarray(_halves((150,), alpha=False)[..., 0]).save(path, transparency=0)


def _one_bit_key(path: Path) -> None:
    Image.fromarray(_halves((255,), alpha=False)[..., 0]).convert("1").save(path, transparency=0)


def _palette_key(path: Path) -> None:
    image = Image.fromarray((_halves((1,), alpha=False)[..., 0]), "P")  # entries 0 and 1
    image.putpalette([0, 0, 0, *_ORANGE])
    image.save(path, transparency=0)


def _gif_key(path: Path) -> None:
    _palette_key(path)
    Image.open(path).save(path.with_suffix(".gif"), transparency=0)
    path.with_suffix(".gif").replace(path)


def _grey16_key(path: Path) -> None:
    _png16(path, _halves((150,), alpha=False)[..., 0].astype(np.uint16) * 257, 0, key=(0,))


def _rgb16_key(path: Path) -> None:
    _png16(path, _halves(_ORANGE, alpha=False).astype(np.uint16) * 257, 2, key=(0, 0, 0))


def _rgba16(path: Path) -> None:
    _png16(path, _halves(_ORANGE).astype(np.uint16) * 257, 6)


def _la16(path: Path) -> None:
    _png16(path, _halves((150,)).astype(np.uint16) * 257, 4)


@pytest.mark.parametrize(("write", "opaque"), [
    (_rgba, _ORANGE), (_la, (150,) * 3), (_rgb_key, _ORANGE), (_grey_key, (150,) * 3),
    (_one_bit_key, (255,) * 3), (_palette_key, _ORANGE), (_gif_key, _ORANGE),
    (_grey16_key, (150,) * 3), (_rgb16_key, _ORANGE), (_rgba16, _ORANGE), (_la16, (150,) * 3),
], ids=lambda v: getattr(v, "__name__", "").strip("_") or None)
def test_every_kind_of_transparency_is_composited_on_white(tmp_path: Path, write, opaque):
    path = tmp_path / "picture.png"
    write(path)
    out = load_image(path, 32)
    assert out[16, 2].tolist() == [255, 255, 255]  # transparent → white, never black
    assert out[16, 29].tolist() == list(opaque)


def test_in_memory_alpha_modes_are_composited_on_white() -> None:
    palette_alpha = Image.new("PA", (60, 40), (0, 0))  # entry 0 (black), alpha 0
    palette_alpha.putpalette([0, 0, 0, *_ORANGE])
    palette_alpha.paste((1, 255), (30, 0, 60, 40))
    rgba = Image.fromarray(_halves(_ORANGE), "RGBA")
    for image in (palette_alpha, rgba.convert("RGBa"), Image.fromarray(
            _halves((150,)), "LA").convert("La")):
        out = np.asarray(to_rgb(image))
        assert out[20, 5].tolist() == [255, 255, 255], image.mode
        assert out[20, 50].tolist() != [255, 255, 255], image.mode


def test_a_sixteen_bit_colour_key_is_matched_on_its_high_bytes(tmp_path: Path) -> None:
    key = tuple(257 * c for c in _ORANGE)  # the orange half is transparent, black stays
    _png16(tmp_path / "k.png", _halves(_ORANGE, alpha=False).astype(np.uint16) * 257, 2, key)
    out = load_image(tmp_path / "k.png", 32)
    assert out[16, 2].tolist() == [0, 0, 0] and out[16, 29].tolist() == [255, 255, 255]


def test_decoding_method_names_this_recipe() -> None:
    assert METHOD.endswith("/alpha-on-white/v3")  # v1 left RGB colour keys black, v2 MPO slow


def test_an_mpo_phone_photo_decodes_like_the_same_plain_jpeg(tmp_path: Path) -> None:
    """Pillow #1138: phones store JPEGs as MPO; the first frame must take the JPEG path."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, 600)[None, :, None] * np.ones((450, 1, 3))
    photo = Image.fromarray(np.clip(ramp + rng.normal(0, 40, ramp.shape), 0, 255).astype(np.uint8))
    photo.save(tmp_path / "plain.jpg", quality=90)
    photo.save(tmp_path / "phone.jpg", "MPO", quality=90, save_all=True,
               append_images=[photo.convert("L").convert("RGB")])
    with Image.open(tmp_path / "phone.jpg") as opened:
        assert opened.format == "MPO" and opened.n_frames == 2
    mpo, plain = load_image(tmp_path / "phone.jpg", 64), load_image(tmp_path / "plain.jpg", 64)
    np.testing.assert_array_equal(mpo, plain)  # same decoder, same 1/4-scale draft
    with Image.open(tmp_path / "plain.jpg") as full:
        undrafted = np.asarray(full.convert("RGB").resize(
            (64, 64), Image.Resampling.LANCZOS, box=(75, 0, 525, 450), reducing_gap=3.0))
    assert not np.array_equal(plain, undrafted)  # the draft path is what both took


def test_greyscale_and_16_bit_become_rgb(tmp_path: Path) -> None:
    Image.new("L", (8, 8), 77).save(tmp_path / "grey.png")
    assert load_image(tmp_path / "grey.png", 4)[2, 2].tolist() == [77, 77, 77]
    Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16)).save(tmp_path / "grey16.png")
    assert load_image(tmp_path / "grey16.png", 4)[1, 1].tolist() == [255, 255, 255]
    Image.fromarray(np.full((8, 8), 32896, dtype=np.uint16)).save(tmp_path / "mid16.png")
    assert load_image(tmp_path / "mid16.png", 4)[1, 1].tolist() == [128, 128, 128]


def test_palette_and_cmyk_become_rgb(tmp_path: Path) -> None:
    Image.new("RGB", (8, 8), (255, 0, 0)).convert("P").save(tmp_path / "palette.png")
    assert load_image(tmp_path / "palette.png", 4)[0, 0].tolist() == [255, 0, 0]
    Image.new("CMYK", (8, 8), (0, 0, 0, 0)).save(tmp_path / "cmyk.jpg", quality=100)
    assert np.all(load_image(tmp_path / "cmyk.jpg", 4) >= 250)  # no ink = white


def test_centre_square_crop_keeps_the_middle(tmp_path: Path) -> None:
    pixels = np.zeros((30, 90, 3), dtype=np.uint8)  # 90 wide, 30 high
    pixels[:, :30] = (255, 0, 0)
    pixels[:, 30:60] = (0, 255, 0)
    pixels[:, 60:] = (0, 0, 255)
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    out = load_image(tmp_path / "wide.png", 10)
    assert out.shape == (10, 10, 3)
    # Only the central square, undistorted, no bars. The filter reads a pixel beyond the
    # square's edge, so the outermost columns carry a trace of red/blue.
    distance = np.abs(out.astype(int) - (0, 255, 0))
    assert distance[:, 1:-1].max() <= 2 and distance.max() <= 20


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)  # stored landscape: left red, right blue
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "phone.png", exif=exif)
    out = load_image(tmp_path / "phone.png", 20)
    assert out[2, 10].tolist() == [255, 0, 0]  # red ends up on top
    assert out[17, 10].tolist() == [0, 0, 255]


def test_jpeg_draft_decode_is_close_to_full_decode(tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:450, 0:600]
    pixels = np.stack([xx * 255 // 600, yy * 255 // 450, (xx + yy) % 256], axis=-1)
    Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / "big.jpg", quality=95)
    fast = load_image(tmp_path / "big.jpg", 64).astype(int)
    with Image.open(tmp_path / "big.jpg") as image:  # full-resolution decode, same geometry
        full = np.asarray(image.convert("RGB").resize(
            (64, 64), Image.Resampling.LANCZOS, box=(75, 0, 525, 450))).astype(int)
    assert np.abs(fast - full).mean() < 2.0


# --- build_cache --------------------------------------------------------------------------


def test_cache_rows_equal_fresh_decodes(images, tmp_path: Path) -> None:
    paths, ids = images
    cache = _build(paths, ids, tmp_path / "cache")
    assert isinstance(cache.images, np.memmap) and cache.images.shape == (12, SIZE, SIZE, 3)
    assert len(cache) == 12 and cache.image_ids == ids
    for path, row in zip(paths, cache.images, strict=True):
        assert np.array_equal(row, load_image(path, SIZE))
    wanted = [ids[7], ids[0], ids[11], ids[0]]
    assert cache.index_of(wanted).tolist() == [7, 0, 11, 0]
    assert np.array_equal(cache.take(wanted), np.stack([load_image(paths[i], SIZE)
                                                        for i in (7, 0, 11, 0)]))
    with pytest.raises(KeyError, match="NOPE"):
        cache.take(["NOPE"])
    cache.verify()


def test_parallel_build_equals_serial(images, tmp_path, monkeypatch) -> None:
    paths, ids = images
    serial = _build(paths, ids, tmp_path / "serial", workers=1)
    threads = []

    def noted(path, size):  # a little slow, so that both pool threads get jobs
        threads.append(threading.current_thread().name)
        time.sleep(0.05)
        return load_image(path, size)

    monkeypatch.setattr(build_module, "load_image", noted)
    parallel = _build(paths, ids, tmp_path / "parallel", workers=2)
    assert len(threads) == 12 and all(name.startswith("casekit-decode") for name in threads)
    assert len(set(threads)) == 2  # the ThreadPoolExecutor's two threads shared the jobs
    assert parallel.key == serial.key
    assert np.array_equal(np.asarray(parallel.images), np.asarray(serial.images))
    assert json.loads((parallel.path / MANIFEST_FILE).read_text())["row_crc32"] == json.loads(
        (serial.path / MANIFEST_FILE).read_text())["row_crc32"]


def test_build_decodes_here_when_no_helper_thread_can_start(images, tmp_path, monkeypatch):
    class Unstartable(threading.Thread):  # what a process or memory limit does
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    paths, ids = images
    monkeypatch.setattr(threading, "Thread", Unstartable)
    with pytest.warns(UserWarning, match="decoding threads could not start .* with 1 thread"):
        cache = _build(paths, ids, tmp_path / "cache", workers=2)
    assert np.array_equal(cache.images[3], load_image(paths[3], SIZE))


def test_a_helper_that_never_answers_is_given_up_with_a_warning(images, tmp_path, monkeypatch):
    paths, ids = images
    release = threading.Event()

    def hangs_in_helpers(path, size):  # e.g. a read from a stalled network mount
        if path == str(paths[0]) and threading.current_thread() is not threading.main_thread():
            release.wait(60)
        return load_image(path, size)

    monkeypatch.setattr(build_module, "STALL_SECONDS", 1.0)
    monkeypatch.setattr(build_module, "load_image", hangs_in_helpers)
    started = time.monotonic()
    try:
        with pytest.warns(UserWarning, match="gave no answer for 1 s .*IMG_00.jpg"), \
                pytest.raises(ImageDecodeError, match="IMG_00.jpg: TimeoutError: no answer"):
            _build(paths, ids, tmp_path / "cache", workers=2)
    finally:
        release.set()
    assert time.monotonic() - started < 20
    assert _everything_under(tmp_path / "cache") == ["toy"]  # nothing half-built kept


_UNGUARDED_SCRIPT = """
import sys, threading
from pathlib import Path
import pandas as pd
from casekit.images import build as build_module, cache_for
folder = Path(sys.argv[1])
with open(folder / "runs.txt", "a") as runs:  # counts every execution of this file
    runs.write("ran\\n")
table = pd.DataFrame({"image_id": [p.stem for p in sorted(folder.glob("*.jpg"))],
                      "image_path": sorted(folder.glob("*.jpg"))})
cache = cache_for(table, 16, dataset="script", cache_dir=folder / "cache", workers=2,
                  progress=False)
print("rows", len(cache))
real = build_module.load_image
def hang(path, size):
    if threading.current_thread() is not threading.main_thread():
        threading.Event().wait(8)  # a read that stalls for 8 s
    return real(path, size)
build_module.load_image, build_module.STALL_SECONDS = hang, 1.0
try:
    cache_for(table, 20, dataset="script", cache_dir=folder / "cache", workers=2,
              progress=False)
except ValueError as err:
    print("failed", type(err).__name__)
"""


def test_a_script_without_main_guard_runs_once_and_exits(tmp_path: Path) -> None:
    # Issue 11 item 4: a spawn process pool re-executed such a script in every worker.
    rng = np.random.default_rng(4)
    for i in range(24):
        _photo(rng, 60, 45).save(tmp_path / f"IMG_{i:02d}.jpg")
    script = tmp_path / "train.py"
    script.write_text(_UNGUARDED_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs.txt").read_text() == "ran\n"  # once, not once per worker
    # Given up on after 1 s (the user is warned); Python exits once the stalled read returns.
    assert done.stdout.split() == ["rows", "24", "failed", "ImageDecodeError"]
    assert "gave no answer for 1 s" in done.stderr


def test_second_build_opens_without_decoding_or_hashing(images, tmp_path, monkeypatch) -> None:
    paths, ids = images
    first = _build(paths, ids, tmp_path / "cache")
    manifest = first.path / MANIFEST_FILE
    before = manifest.stat().st_mtime_ns
    calls = {"decode": 0, "hash": 0}

    def no_decode(*args):
        calls["decode"] += 1
        raise AssertionError("decoded again")

    def no_hash(path):
        calls["hash"] += 1
        raise AssertionError("hashed again")

    monkeypatch.setattr(build_module, "decode_rows", no_decode)
    monkeypatch.setattr("casekit.images.key.sha256_file", no_hash)
    second = _build(paths, ids, tmp_path / "cache")
    assert calls == {"decode": 0, "hash": 0}
    assert second.key == first.key and manifest.stat().st_mtime_ns == before
    assert np.array_equal(np.asarray(second.images), np.asarray(first.images))


def test_cache_for_uses_the_table(images, tmp_path: Path) -> None:
    paths, ids = images
    df = pd.DataFrame({"image_id": ids, "image_path": [str(p) for p in paths]})
    cache = cache_for(df, SIZE, dataset="toy", cache_dir=tmp_path / "c", progress=False,
                      workers=1)
    assert cache.image_ids == ids and cache.path.parent == tmp_path / "c" / "toy"
    df.loc[3, "image_path"] = None
    with pytest.raises(ValueError, match=r"1 row\(s\) have no image_path.*IMG_03"):
        cache_for(df, SIZE, cache_dir=tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match="image_path"):
        cache_for(df[["image_id"]], SIZE, cache_dir=tmp_path / "c", progress=False)


# --- the content key ----------------------------------------------------------------------


def test_key_changes_with_bytes_membership_order_and_size(images, tmp_path: Path) -> None:
    paths, ids = images
    cache_dir = tmp_path / "cache"
    base = _build(paths, ids, cache_dir).key
    assert _build(paths[:-1], ids[:-1], cache_dir).key != base  # an image removed
    assert _build(paths[::-1], ids[::-1], cache_dir).key != base  # rows reordered
    assert build_cache(paths, ids, SIZE + 1, "toy", cache_dir=cache_dir, workers=1,
                       progress=False).key != base
    _photo(np.random.default_rng(99), 56, 38).save(paths[4], quality=90)  # new bytes
    changed = _build(paths, ids, cache_dir)
    assert changed.key != base
    assert np.array_equal(changed.images[4], load_image(paths[4], SIZE))
    assert len(list((cache_dir / "toy").iterdir())) == 5


def test_rehash_catches_a_rewrite_that_kept_size_and_mtime(images, tmp_path: Path) -> None:
    paths, ids = images
    bmp = paths[0].with_name("FLAT.bmp")  # uncompressed: one pixel changes, size does not
    _photo(np.random.default_rng(3), 8, 8).save(bmp)
    _age(bmp)
    paths, ids = paths + [bmp], ids + ["FLAT"]
    base = _build(paths, ids, tmp_path / "cache").key
    stat = bmp.stat()
    data = bytearray(bmp.read_bytes())
    data[-1] ^= 0xFF
    bmp.write_bytes(bytes(data))
    os.utime(bmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # forge the old mtime
    assert _build(paths, ids, tmp_path / "cache").key == base  # trusted: the documented limit
    assert _build(paths, ids, tmp_path / "cache", rehash=True).key != base


def test_fresh_files_are_always_rehashed(tmp_path: Path) -> None:
    path = tmp_path / "new.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)  # younger than the settle time
    cache = build_cache([path], ["new"], 4, "toy", cache_dir=tmp_path / "c", workers=1,
                        progress=False)
    record = json.loads((cache.path / MANIFEST_FILE).read_text())["files"][0]
    assert record["mtime_ns"] is None and len(record["sha256"]) == 64


# --- errors, atomicity, validation -------------------------------------------------------


def test_corrupt_png_is_named_and_nothing_is_cached(images, tmp_path: Path) -> None:
    paths, ids = images
    bad = paths[9].with_name("BROKEN.png")
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    cache_dir = tmp_path / "cache"
    with pytest.raises(ImageDecodeError, match=r"(?s)1 image\(s\).*BROKEN\.png: ") as info:
        _build(paths + [bad], ids + ["BROKEN"], cache_dir, workers=2)
    assert info.value.failures[0][0] == str(bad)
    assert _everything_under(cache_dir) == ["toy"]  # no cache, no temporary folder


def test_truncated_jpeg_late_in_the_list_leaves_nothing(images, tmp_path: Path) -> None:
    paths, ids = images
    whole = paths[8].read_bytes()
    cut = paths[8].with_name("CUT.jpg")
    cut.write_bytes(whole[: len(whole) // 2])  # a crash-like failure after 12 good images
    cache_dir = tmp_path / "cache"
    with pytest.raises(ImageDecodeError, match="CUT.jpg: OSError"):
        _build(paths + [cut], ids + ["CUT"], cache_dir)
    assert _everything_under(cache_dir) == ["toy"]
    cut.write_bytes(whole)  # fixed: the next build succeeds and validates
    assert len(_build(paths + [cut], ids + ["CUT"], cache_dir)) == 13


def test_crash_mid_build_leaves_nothing_that_loads(images, tmp_path, monkeypatch) -> None:
    paths, ids = images
    cache_dir = tmp_path / "cache"
    real = build_module.decode_rows

    def crash_late(array_file, offset, start, chunk, size):
        if start + len(chunk) >= len(paths):
            raise KeyboardInterrupt  # e.g. Ctrl-C in the notebook, rows half written
        return real(array_file, offset, start, chunk, size)

    monkeypatch.setattr(build_module, "decode_rows", crash_late)
    with pytest.raises(KeyboardInterrupt):
        _build(paths, ids, cache_dir)
    assert _everything_under(cache_dir) == ["toy"]
    monkeypatch.setattr(build_module, "decode_rows", real)
    assert _build(paths, ids, cache_dir).images.shape[0] == 12


def test_an_interrupt_in_a_helper_thread_reaches_the_caller(images, tmp_path, monkeypatch):
    paths, ids = images
    real = build_module.decode_rows

    def crash_first(array_file, offset, start, chunk, size):
        if start == 0:  # the front of the queue: a helper thread's job
            raise KeyboardInterrupt
        return real(array_file, offset, start, chunk, size)

    monkeypatch.setattr(build_module, "decode_rows", crash_first)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _build(paths, ids, tmp_path / "cache", workers=2)
    assert time.monotonic() - started < 20  # forwarded at once, not after STALL_SECONDS
    assert _everything_under(tmp_path / "cache") == ["toy"]


def test_missing_file_is_named(images, tmp_path: Path) -> None:
    paths, ids = images
    ghost = paths[0].with_name("GHOST.jpg")
    with pytest.raises(FileNotFoundError, match=r"(?s)1 image file\(s\) not found.*GHOST\.jpg"):
        _build(paths + [ghost], ids + ["GHOST"], tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_bad_arguments_are_explained(images, tmp_path: Path) -> None:
    paths, ids = images
    with pytest.raises(ValueError, match="unique"):
        _build(paths[:2], ["same", "same"], tmp_path)
    with pytest.raises(ValueError, match="2 image paths but 1 image ids"):
        _build(paths[:2], ids[:1], tmp_path)
    with pytest.raises(ValueError, match="folder name"):
        build_cache(paths, ids, SIZE, "../escape", cache_dir=tmp_path, progress=False)


@pytest.mark.parametrize("damage", ["flip_pixel", "truncate", "no_manifest", "edit_ids"])
def test_damaged_cache_is_refused_then_rebuilt(images, tmp_path, damage) -> None:
    paths, ids = images
    cache = _build(paths, ids, tmp_path / "cache")
    folder, key = cache.path, cache.key
    del cache
    array_file, manifest_file = folder / IMAGES_FILE, folder / MANIFEST_FILE
    if damage == "flip_pixel":  # row 0 is always among the sampled rows
        with open(array_file, "r+b") as handle:
            handle.seek(array_file.stat().st_size - 12 * SIZE * SIZE * 3 + 5)
            value = handle.read(1)[0]
            handle.seek(-1, 1)
            handle.write(bytes([value ^ 0xFF]))
    elif damage == "truncate":
        with open(array_file, "r+b") as handle:
            handle.truncate(array_file.stat().st_size - 100)
    elif damage == "no_manifest":
        manifest_file.unlink()
    else:
        manifest = json.loads(manifest_file.read_text())
        manifest["image_ids"][0] = "SWAPPED"
        manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(CacheError, match=str(folder.name)):
        open_cache(folder, expected_key=key)
    with pytest.warns(UserWarning, match="rebuilding"):
        rebuilt = _build(paths, ids, tmp_path / "cache")
    assert rebuilt.path == folder and np.array_equal(rebuilt.images[0], load_image(paths[0], SIZE))


def test_verify_finds_a_bad_row_the_sample_missed(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    paths = []
    for i in range(40):  # more rows than the 16 sampled on open
        paths.append(tmp_path / f"I{i:02d}.png")
        _photo(rng, 10, 10).save(paths[-1])
    cache = build_cache(paths, [p.stem for p in paths], 8, "toy", cache_dir=tmp_path / "c",
                        workers=1, progress=False)
    row = 1  # sampled rows are 0, 3, 5, ...: row 1 is not among them
    writable = np.load(cache.path / IMAGES_FILE, mmap_mode="r+")
    writable[row, 0, 0, 0] ^= 0xFF
    writable.flush()
    del writable
    reopened = open_cache(cache.path)  # the cheap check passes ...
    with pytest.raises(CacheError, match="I01"):
        reopened.verify()  # ... the full check does not
