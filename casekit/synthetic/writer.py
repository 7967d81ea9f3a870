"""``make``: write a synthetic copy of a dataset, laid out like the real download.

The copy is built in a temporary folder beside ``root`` and moved into place at the end,
so an interrupted run never leaves a half-written dataset. Running ``make`` again with
the same arguments on a complete copy returns at once.

Example:
    >>> import tempfile
    >>> root = make("pad_ufes_20", tempfile.mkdtemp() + "/pad", n_images=12, progress=False)
    >>> sorted(p.name for p in root.iterdir())
    ['README_SYNTHETIC.md', 'SYNTHETIC.json', 'images', 'metadata.csv']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from casekit.datasets.registry import DatasetSpec, get_spec
from casekit.io import atomic_path
from casekit.paths import dataset_dir
from casekit.progress import tqdm
from casekit.synthetic.drawing import draw_lesion, render
from casekit.synthetic.layout import image_folder, image_parts, resolve_layout
from casekit.synthetic.looks import (
    DERMOSCOPY_SKIN,
    LOOK_ALIKES,
    LOOKS,
    SCENES,
    SKIN_BY_TYPE,
    SKIN_SD,
)
from casekit.synthetic.manifest import (
    MANIFEST_FILE,
    README_FILE,
    build_manifest,
    is_complete,
    read_manifest,
    readme_text,
)
from casekit.synthetic.marginals import PAD_FITZPATRICK
from casekit.synthetic.metadata import metadata_table
from casekit.synthetic.sampling import draw

#: HAM10000 images: 4:3 like the real 600 x 450, small enough for fast demos.
HAM_SIZE = (150, 112)
#: PAD-UFES-20 images: both sides in this range (px), 40 % square, the rest up to 1.4:1.
PAD_SIDE = (96, 256)
#: PAD-UFES-20 image modes: like the real set, some PNGs are RGBA; a few greyscale ones
#: test that loaders convert every image to RGB.
PAD_MODES = {"RGB": 0.78, "RGBA": 0.20, "L": 0.02}
#: Seed-stream tags (the tables use 10 and 20).
SIZES, SKIN, LESION, IMAGE, LOOK_ALIKE = 30, 31, 32, 33, 34


def _check_size(image_size: object) -> tuple[int, int] | None:
    """``image_size`` as a (width, height) pair of ints, or None; a clear error otherwise."""
    if image_size is None:
        return None
    try:
        w, h = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (width, height), got {image_size!r}") from None
    if min(w, h) < 16 or max(w, h) > 4096:
        raise ValueError(f"image_size {image_size!r}: width and height must be 16-4096 px")
    return w, h


def _sizes_and_modes(
    spec: DatasetSpec, n: int, image_size: tuple[int, int] | None, seed: int
) -> tuple[list[tuple[int, int]], list[str]]:
    """(width, height) and Pillow mode of every image, in table order."""
    rng = np.random.default_rng([seed, SIZES])
    if spec.name == "ham10000":
        return [image_size or HAM_SIZE] * n, ["RGB"] * n
    modes = draw(rng, PAD_MODES, n).tolist()
    if image_size:
        return [image_size] * n, modes
    low, high = PAD_SIDE
    long_side = rng.integers(low, high + 1, n)
    ratio = np.where(rng.random(n) < 0.4, 1.0, np.exp(rng.uniform(-0.35, 0.35, n)))
    short_side = np.maximum(low, np.round(long_side / np.maximum(ratio, 1 / ratio))).astype(int)
    sizes = [(int(a), int(b)) if r >= 1 else (int(b), int(a))
             for a, b, r in zip(long_side, short_side, ratio, strict=True)]
    return sizes, modes


def _skin_tones(spec: DatasetSpec, table: pd.DataFrame, seed: int) -> list[tuple]:
    """Skin colour of every row: one per person (PAD patient, HAM lesion)."""
    person = table[spec.group_column].astype(str).to_numpy()
    people, first = np.unique(person, return_index=True)
    tones = {}
    for key, row in zip(people, first, strict=True):
        rng = np.random.default_rng([seed, SKIN, int(row)])
        if spec.name == "ham10000":
            base = DERMOSCOPY_SKIN
        else:
            skin_type = table["fitspatrick"].iloc[row]
            known = pd.notna(skin_type)
            base = SKIN_BY_TYPE[int(skin_type) if known else int(draw(rng, PAD_FITZPATRICK, 1)[0])]
        tones[key] = tuple(np.asarray(base) + rng.normal(0, SKIN_SD) + rng.normal(0, 3, 3))
    return [tones[key] for key in person]


def _write_images(spec: DatasetSpec, table: pd.DataFrame, layout: str,
                  image_size: tuple[int, int] | None, seed: int, folder: Path,
                  progress: bool) -> None:
    """Draw and save every image of ``table`` under ``folder``, lesion by lesion."""
    sizes, modes = _sizes_and_modes(spec, len(table), image_size, seed)
    skins = _skin_tones(spec, table, seed)
    parts = image_parts(spec.name, table)
    for part in np.unique(parts):
        (folder / image_folder(spec.name, layout, int(part))).mkdir(parents=True)
    looks, scene = LOOKS[spec.name], SCENES[spec.name]
    rows_by_lesion = table.groupby("lesion_id", sort=False).indices  # both datasets have one
    # The drawing's tiny matrix products run fastest on one BLAS thread.
    with threadpool_limits(limits=1, user_api="blas"), tqdm(
            total=len(table), desc=f"synthetic {spec.name}", unit="img",
            disable=not progress) as bar:
        for ordinal, rows in enumerate(rows_by_lesion.values()):
            label = table[spec.label_column].iloc[rows[0]]
            short_side = max(min(sizes[row]) for row in rows)
            look_alike, share = LOOK_ALIKES[spec.name].get(label, (label, 0.0))
            if np.random.default_rng([seed, LOOK_ALIKE, ordinal]).random() < share:
                label = look_alike  # drawn like its look-alike; the table keeps the truth
            lesion = draw_lesion(looks[label], np.random.default_rng([seed, LESION, ordinal]),
                                 short_side)
            for row in rows:
                rng = np.random.default_rng([seed, IMAGE, int(row)])
                image = render(lesion, scene, sizes[row], skins[row], rng)
                file_name = str(table[spec.image_column].iloc[row])
                if not file_name.endswith(spec.image_extension):  # HAM ids have none
                    file_name += spec.image_extension
                path = folder / image_folder(spec.name, layout, int(parts[row])) / file_name
                if spec.image_extension == ".jpg":
                    image.save(path, "JPEG", quality=90)
                else:
                    image.convert(modes[row]).save(path, "PNG", compress_level=1)
                bar.update(1)


def _refuse_foreign(root: Path) -> None:
    """Never replace a folder that is not a synthetic copy (it may be the real data)."""
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"{root} is a file; pass a folder path as root")
    if root.is_dir() and any(root.iterdir()) and read_manifest(root) is None:
        raise FileExistsError(
            f"{root} already holds files but no {MANIFEST_FILE}: it is not a casekit "
            "synthetic copy, so it is left alone. Pass another root (or empty that folder)."
        )


def make(
    name: str,
    root: str | Path | None = None,
    n_images: int | None = None,
    seed: int = 0,
    layout: str | None = None,
    image_size: tuple[int, int] | None = None,
    progress: bool = True,
) -> Path:
    """Write a synthetic copy of dataset ``name`` and return its root folder.

    ``root``: default ``casekit.paths.dataset_dir(name, synthetic=True)``.
    ``n_images``: default 1,500 (HAM10000) / 600 (PAD-UFES-20); ``get_spec(name).n_images``
    gives the real counts. ``layout``: HAM10000 ``"kaggle"`` (default) or ``"dataverse"``;
    PAD-UFES-20 ``"official"`` (default) or ``"kaggle"``. ``image_size``: (width, height)
    for every image; default 150 x 112 JPEGs (HAM10000) and PNGs of varied size, aspect and
    mode (PAD-UFES-20). Same arguments and casekit version: byte-identical files.
    """
    spec = get_spec(name)
    layout = resolve_layout(spec.name, layout)
    image_size = _check_size(image_size)
    table = metadata_table(spec.name, n_images, seed, layout)
    root = Path(root).expanduser() if root is not None else dataset_dir(spec.name, synthetic=True)
    info = build_manifest(spec.name, table, seed, layout, image_size)
    if is_complete(root, info):
        return root
    _refuse_foreign(root)
    with atomic_path(root) as tmp:
        tmp.mkdir()
        _write_images(spec, table, layout, image_size, seed, tmp, progress)
        table.to_csv(tmp / spec.metadata_file, index=False, lineterminator="\n")
        (tmp / README_FILE).write_text(readme_text(info), encoding="utf-8")
        (tmp / MANIFEST_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return root
