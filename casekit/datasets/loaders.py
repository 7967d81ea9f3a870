"""Read a dataset's metadata into one tidy table with the same normalised columns for both.

The normalised columns come first (``registry.NORMALISED_COLUMNS``: image_id, image_path,
label, label_idx, target_binary, group_id, age, sex, site, skin_type), then the dataset's
own columns, typed: numbers as numbers, PAD-UFES-20's True/False answers as pandas'
nullable boolean, BRASIL spelled BRAZIL. Raw columns whose name is also a normalised
column (HAM's ``image_id``, ``age``, ``sex``) appear once, in their normalised form.

Missing values, one rule for every column of both datasets: an empty cell and the
dataset's own word for "not known" (``RawTypes.unknown``: PAD-UFES-20 writes ``UNK``,
HAM10000 ``unknown``; any letter case) become missing (``pd.NA``/NaN), whatever the
column's type — symptoms, numbers, ``background_father``/``background_mother`` (95 and
84 ``UNK`` rows in PAD-UFES-20 besides about 820 empty ones), HAM's ``localization``. So
``df[column].isna()`` counts every unknown answer, and no "UNK" or "unknown" category is
left to be mistaken for a real value (count it with ``value_counts(dropna=False)``).

Example:
    >>> import tempfile
    >>> from casekit import synthetic
    >>> root = synthetic.make("pad_ufes_20", tempfile.mkdtemp() + "/pad", n_images=12,
    ...                       image_size=(16, 16), progress=False)
    >>> df = load("pad_ufes_20", root)
    >>> list(df.columns[:5])
    ['image_id', 'image_path', 'label', 'label_idx', 'target_binary']
    >>> df["skin_type"].dtype, df["itch"].dtype
    (Int64Dtype(), BooleanDtype)
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from casekit.datasets.errors import DatasetError
from casekit.datasets.files import find_metadata, scan
from casekit.datasets.registry import NORMALISED_COLUMNS, DatasetSpec, get_spec
from casekit.paths import dataset_dir

#: How many offending values an error message lists.
EXAMPLES = 5


@dataclass(frozen=True)
class RawTypes:
    """How to type one dataset's own columns (every other column stays text)."""

    floats: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    spellings: tuple[tuple[str, str, str], ...] = ()  # (column, variant, canonical)
    skin_type: str | None = None
    unknown: frozenset[str] = frozenset()  # the dataset's "not known" words, lower case


RAW_TYPES: dict[str, RawTypes] = {
    "ham10000": RawTypes(floats=("age",), unknown=frozenset({"unknown"})),
    "pad_ufes_20": RawTypes(
        floats=("age", "diameter_1", "diameter_2"),
        integers=("lesion_id", "fitspatrick"),
        booleans=(
            "smoke", "drink", "pesticide", "skin_cancer_history", "cancer_history",
            "has_piped_water", "has_sewage_system", "itch", "grew", "hurt", "changed",
            "bleed", "elevation", "biopsed",
        ),
        spellings=(
            ("background_father", "BRASIL", "BRAZIL"),
            ("background_mother", "BRASIL", "BRAZIL"),
        ),
        skin_type="fitspatrick",
        unknown=frozenset({"unk"}),
    ),
}

_BOOLEANS = {"true": True, "false": False, "": pd.NA}
_SEXES = {"male", "female"}


def read_raw_metadata(path: str | os.PathLike[str], spec: DatasetSpec) -> pd.DataFrame:
    """Read and check a metadata CSV; every cell as stripped text ('' where empty).

    Raises ``DatasetError`` naming the file and the missing or unknown columns, unknown
    labels, or repeated images.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                          encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise DatasetError(f"{path} is not a readable CSV file: {error}") from error
    raw.columns = [str(column).strip() for column in raw.columns]
    _check_columns(raw, spec, path)
    if raw.empty:
        raise DatasetError(f"{path} has a header but no rows: the file is truncated")
    raw = raw.apply(lambda column: column.str.strip())
    _check_labels(raw[spec.label_column], spec, path)
    _check_unique(raw[spec.image_column], spec, path)
    return raw


def _check_columns(raw: pd.DataFrame, spec: DatasetSpec, path: Path) -> None:
    columns = set(raw.columns)
    missing = [c for c in spec.required_columns if c not in columns]
    known = set(spec.required_columns) | set(spec.optional_columns)
    unknown = [c for c in raw.columns if c not in known]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing columns {missing}")
        if unknown:
            problems.append(f"unknown columns {unknown}")
        raise DatasetError(
            f"{path} is not {spec.title} metadata: {'; '.join(problems)}. Expected the "
            f"columns {list(spec.required_columns)}"
            + (f" (optionally also {list(spec.optional_columns)})" if spec.optional_columns
               else "")
            + ". Check that root points at the right dataset and the file is the original."
        )


def _check_labels(labels: pd.Series, spec: DatasetSpec, path: Path) -> None:
    unknown = labels[~labels.isin(spec.labels)].value_counts()
    if len(unknown):
        listed = ", ".join(f"{label!r} ({count} rows)" for label, count in unknown.items())
        raise DatasetError(
            f"{path}: unknown labels in column {spec.label_column!r}: {listed}. "
            f"{spec.title} labels are {list(spec.labels)}."
        )


def _check_unique(images: pd.Series, spec: DatasetSpec, path: Path) -> None:
    repeated = images[images.duplicated()].unique()
    if len(repeated):
        raise DatasetError(
            f"{path}: {len(repeated)} images appear on more than one row of column "
            f"{spec.image_column!r}, e.g. {list(repeated[:EXAMPLES])}; the file is damaged."
        )


def image_ids(raw: pd.DataFrame, spec: DatasetSpec) -> pd.Series:
    """Image ids (file names without extension) of raw metadata: PAD's ``x.png`` → ``x``."""
    extension = re.escape(spec.image_extension) + "$"
    return raw[spec.image_column].str.replace(extension, "", regex=True, flags=re.IGNORECASE)


def normalise(raw: pd.DataFrame, spec: DatasetSpec, source: str = "metadata") -> pd.DataFrame:
    """Build the normalised table (``image_path`` left NA) from checked raw metadata."""
    types = RAW_TYPES[spec.name]
    raw = raw.apply(lambda text: text.where(~text.str.lower().isin(types.unknown), ""))
    typed = _typed_columns(raw, types, source)
    label = raw[spec.label_column].astype("string")
    image_id = image_ids(raw, spec)
    skin_type = (typed[types.skin_type] if types.skin_type
                 else pd.Series(pd.NA, index=raw.index, dtype="Int64"))
    if not skin_type.dropna().between(1, 6).all():
        raise DatasetError(f"{source}: column {types.skin_type!r} must hold skin types 1-6")
    sex = raw[spec.sex_column].str.lower()
    site = raw[spec.site_column].str.lower()
    df = pd.DataFrame({
        "image_id": image_id.astype("string"),
        "image_path": pd.Series(pd.NA, index=raw.index, dtype="string"),
        "label": label,
        "label_idx": label.map(dict(spec.label_to_index)).astype("int64"),
        "target_binary": label.isin(spec.cancer_labels).astype("int64"),
        "group_id": raw[spec.group_column].astype("string"),
        "age": typed[spec.age_column].astype("float64"),
        "sex": sex.where(sex.isin(_SEXES)).astype("string"),
        "site": site.where(site != "").astype("string"),
        "skin_type": skin_type,
    })
    own = [c for c in raw.columns if c not in NORMALISED_COLUMNS]
    return pd.concat([df, typed[own]], axis=1)


def _typed_columns(raw: pd.DataFrame, types: RawTypes, source: str) -> pd.DataFrame:
    columns = {}
    for name in raw.columns:
        text = raw[name]
        if name in types.floats:
            columns[name] = _numbers(text, name, source)
        elif name in types.integers:
            columns[name] = _integers(text, name, source)
        elif name in types.booleans:
            columns[name] = _booleans(text, name, source)
        else:
            for column, variant, canonical in types.spellings:
                if column == name:
                    text = text.replace(variant, canonical)
            columns[name] = text.where(text != "").astype("string")
    return pd.DataFrame(columns, index=raw.index)


def _numbers(text: pd.Series, name: str, source: str) -> pd.Series:
    values = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
    bad = text[values.isna() & (text != "")]
    if len(bad):
        raise DatasetError(f"{source}: column {name!r} must hold numbers; found "
                           f"{list(bad.unique()[:EXAMPLES])}")
    return values


def _integers(text: pd.Series, name: str, source: str) -> pd.Series:
    values = _numbers(text, name, source)
    if not (values.dropna() % 1 == 0).all():
        raise DatasetError(f"{source}: column {name!r} must hold whole numbers")
    return values.astype("Int64")


def _booleans(text: pd.Series, name: str, source: str) -> pd.Series:
    lower = text.str.lower()
    bad = text[~lower.isin(_BOOLEANS)]
    if len(bad):
        raise DatasetError(f"{source}: column {name!r} must hold True/False (or UNK); found "
                           f"{list(bad.unique()[:EXAMPLES])}")
    return lower.map(_BOOLEANS).astype("boolean")


def load_metadata(name: str, root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The normalised metadata table of dataset ``name`` under ``root``, without images.

    The metadata file may sit in any sub-folder of ``root`` (default
    ``casekit.paths.dataset_dir(name)``); ``image_path`` is NA.
    """
    spec = get_spec(name)
    found = scan(root if root is not None else dataset_dir(spec.name), spec)
    path = find_metadata(found, spec)
    return normalise(read_raw_metadata(path, spec), spec, source=str(path))


def load(
    name: str, root: str | os.PathLike[str] | None = None, missing: str = "error"
) -> pd.DataFrame:
    """The normalised table with ``image_path`` resolved for every image.

    Images are found anywhere under ``root`` by file name, links followed (see
    ``casekit.datasets.files``). ``missing="error"`` (default) raises ``DatasetError`` with
    the count and first examples of images not found; ``missing="drop"`` drops those rows
    with a warning giving the count. A table with no image found at all is a
    ``DatasetError`` in every mode (an empty table helps nobody). Every message says where
    the search looked and what it skipped.
    """
    if missing not in ("error", "drop"):
        raise ValueError(f"missing must be 'error' or 'drop', not {missing!r}")
    spec = get_spec(name)
    found = scan(root if root is not None else dataset_dir(spec.name), spec)
    path = find_metadata(found, spec)
    df = normalise(read_raw_metadata(path, spec), spec, source=str(path))
    paths = df["image_id"].map(lambda image: _path_text(found.images.get(image)))
    df["image_path"] = paths.astype("string")
    absent = df["image_path"].isna()
    if absent.any():
        count = int(absent.sum())
        examples = list(df.loc[absent, "image_id"].head(EXAMPLES))
        message = (f"{count} of {len(df)} images listed in {path} were not found (looked for "
                   f"<image_id>{spec.image_extension} in every sub-folder, any letter case: "
                   f"{found.describe()})")
        if count == len(df):
            raise DatasetError(
                f"{message}. No image at all: e.g. {examples[:3]}. Point root at the folder "
                f"that holds both {spec.metadata_file} and the images (links to image "
                f"folders elsewhere are followed), or download them again "
                f"(casekit.datasets.download({spec.name!r}, force=True))."
            )
        if missing == "error":
            raise DatasetError(
                f"{message}; first missing: {examples}. The copy is incomplete: download it "
                f"again (casekit.datasets.download({spec.name!r}, force=True)) or pass "
                f"missing='drop' to work without them."
            )
        warnings.warn(f"{message}; dropped those rows.", UserWarning, stacklevel=2)
        df = df.loc[~absent].reset_index(drop=True)
    return df


def _path_text(path: Path | None) -> str | None:
    return None if path is None else str(path)
