"""casekit.datasets loaders and verification on tiny real-schema copies in every layout."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from _dataset_fixtures import (
    HAM_FINGERPRINT,
    HAM_ROWS,
    PAD_COLUMNS,
    PAD_FINGERPRINT,
    PAD_ROWS,
    fingerprint,
    write_ham,
    write_pad,
)

from casekit import datasets
from casekit.datasets import NORMALISED_COLUMNS, DatasetError
from casekit.datasets.files import scan

HAM_IDS = [row[1] for row in HAM_ROWS]
PAD_IDS = [row["img_id"].removesuffix(".png") for row in PAD_ROWS]
TINY_HAM = {"fingerprint": HAM_FINGERPRINT, "n_images": len(HAM_ROWS)}
TINY_PAD = {"fingerprint": PAD_FINGERPRINT, "n_images": len(PAD_ROWS)}


def _assert_paths_resolved(df: pd.DataFrame, root: Path, extension: str) -> None:
    for image_id, path in zip(df["image_id"], df["image_path"], strict=True):
        path = Path(path)
        assert path.is_absolute() and path.is_file()
        assert (path.stem, path.suffix.lower()) == (image_id, extension)
        assert root.resolve() in path.resolve().parents


@pytest.mark.parametrize(
    ("folders", "extension"),
    [
        (("HAM10000_images_part_1", "HAM10000_images_part_2"), ".jpg"),
        (("ham10000_images_part_1", "ham10000_images_part_2"), ".jpg"),
        (("HAM10000_images_part_1/HAM10000_images_part_1",
          "HAM10000_images_part_2/HAM10000_images_part_2"), ".jpg"),
        (("some/where/deep", "other"), ".JPG"),
    ],
    ids=["kaggle", "lower-case", "nested-mirror", "any-subfolder-upper-ext"],
)
def test_ham_kaggle_layouts_load(tmp_path, folders, extension):
    root = write_ham(tmp_path / "ham", folders=folders, extension=extension)
    df = datasets.load("ham10000", root)
    assert list(df.columns) == [*NORMALISED_COLUMNS, "lesion_id", "dx", "dx_type",
                                "localization"]
    assert list(df["image_id"]) == HAM_IDS
    _assert_paths_resolved(df, root, ".jpg")
    assert list(df["label"]) == ["bkl", "bkl", "mel", "nv", "akiec", "vasc"]
    assert list(df["label_idx"]) == [2, 2, 4, 5, 0, 6]
    assert list(df["target_binary"]) == [0, 0, 1, 0, 1, 0]
    assert list(df["group_id"]) == ["HAM_0000118", "HAM_0000118", "HAM_0002730",
                                    "HAM_0001466", "HAM_0002761", "HAM_0005132"]
    assert df["age"].dtype == "float64" and pd.isna(df["age"][2]) and df["age"][0] == 80.0
    assert df["sex"].tolist()[:2] == ["male", "male"] and pd.isna(df["sex"][2])
    assert df["site"][3] == "lower extremity" and pd.isna(df["site"][2])
    assert pd.isna(df["localization"][2])  # HAM's "unknown": missing, as in every column
    assert df["skin_type"].dtype == "Int64" and df["skin_type"].isna().all()


def test_ham_dataverse_eight_columns_with_metadata_in_subfolder(tmp_path):
    root = write_ham(tmp_path / "ham", dataverse=True, metadata_folder="meta/data")
    df = datasets.load("ham10000", root)
    assert list(df.columns)[-1] == "dataset"
    assert list(df["dataset"]) == [row[7] for row in HAM_ROWS]
    _assert_paths_resolved(df, root, ".jpg")


def test_ham_duplicate_upper_and_lower_case_folders_give_one_path_each(tmp_path):
    root = write_ham(tmp_path / "ham", folders=("HAM10000_images_part_1",))
    write_ham(root, folders=("ham10000_images_part_1",))
    df = datasets.load("ham10000", root)
    assert len(df) == len(HAM_ROWS)
    assert all("HAM10000_images_part_1" in p for p in df["image_path"])
    assert datasets.verify("ham10000", root, expected=TINY_HAM).n_found == len(HAM_ROWS)


@pytest.mark.parametrize("layout", ["official", "kaggle"])
def test_pad_layouts_load(tmp_path, layout):
    root = write_pad(tmp_path / "pad", layout=layout, line_end="\r\n")
    df = datasets.load("pad_ufes_20", root)
    assert list(df.columns) == [*NORMALISED_COLUMNS,
                                *[c for c in PAD_COLUMNS if c not in ("age",)]]
    assert list(df["image_id"]) == PAD_IDS
    _assert_paths_resolved(df, root, ".png")
    nesting = "images/imgs_part_1" if layout == "official" else "imgs_part_1/imgs_part_1"
    assert Path(df["image_path"][0]).parent.as_posix().endswith(nesting)


def test_pad_values_are_typed_and_normalised(tmp_path):
    df = datasets.load_metadata("pad_ufes_20", write_pad(tmp_path / "pad"))
    assert list(df["label"]) == ["BCC", "ACK", "SCC", "NEV", "SEK", "MEL"]
    assert list(df["label_idx"]) == [1, 0, 4, 3, 5, 2]
    assert list(df["target_binary"]) == [1, 0, 1, 0, 0, 1]
    assert list(df["group_id"]) == ["PAT_46", "PAT_46", "PAT_9", "PAT_1516", "PAT_1700",
                                    "PAT_800"]
    assert df["skin_type"].dtype == "Int64"
    assert df["skin_type"].tolist()[:3] == [3, 3, 2] and df["skin_type"][5] == 6
    assert df["sex"].tolist()[:3] == ["female", "female", "male"] and pd.isna(df["sex"][3])
    assert list(df["site"]) == ["neck", "face", "arm", "arm", "back", "chest"]
    assert list(df["region"]) == ["NECK", "FACE", "ARM", "ARM", "BACK", "CHEST"]
    # True/False/UNK strings → nullable boolean, UNK → NA, any letter case.
    for column in ("itch", "grew", "smoke", "biopsed"):
        assert df[column].dtype == "boolean"
    # (pd.NA is one object, so list equality can compare it; 'FALSE' is written upper-case)
    assert df["itch"].tolist() == [True, pd.NA, False, False, False, True]
    assert df["grew"].tolist() == [True, False, pd.NA, False, pd.NA, True]
    # BRASIL and BRAZIL are one country.
    assert df["background_father"][2] == "BRAZIL" and df["background_mother"][5] == "BRAZIL"
    assert df["background_father"][0] == "POMERANIA"
    # A row without questionnaire: every questionnaire cell is NA, labels are still there.
    no_questionnaire = df.iloc[3]
    for column in ("smoke", "drink", "background_father", "gender", "fitspatrick",
                   "diameter_1", "diameter_2", "skin_type"):
        assert pd.isna(no_questionnaire[column]), column
    assert no_questionnaire["age"] == 8.0 and no_questionnaire["label"] == "NEV"
    assert df["diameter_1"].dtype == "float64" and df["diameter_1"][5] == 7.5
    assert df["lesion_id"].dtype == "Int64" and df["lesion_id"][0] == 881
    assert df["image_path"].isna().all()  # load_metadata does not look for images


def test_load_metadata_needs_no_images(tmp_path):
    root = tmp_path / "ham"
    write_ham(root, skip=len(HAM_ROWS))
    assert not list(root.rglob("*.jpg"))
    assert list(datasets.load_metadata("ham10000", root)["image_id"]) == HAM_IDS


def test_wrong_columns_are_named_with_the_file(tmp_path):
    root = write_ham(tmp_path / "ham")
    meta = root / "HAM10000_metadata.csv"
    text = meta.read_text().replace("dx_type", "diagnosis_type", 1)
    meta.write_text(text.replace("localization", "localization,extra", 1))
    with pytest.raises(DatasetError) as error:
        datasets.load_metadata("ham10000", root)
    message = str(error.value)
    assert str(meta) in message
    assert "missing columns ['dx_type']" in message
    assert "unknown columns ['diagnosis_type', 'extra']" in message


def test_pad_file_given_as_ham_is_refused(tmp_path):
    root = write_pad(tmp_path / "pad")
    (root / "metadata.csv").rename(root / "HAM10000_metadata.csv")
    with pytest.raises(DatasetError, match="missing columns .*'dx'"):
        datasets.load("ham10000", root)


def test_unknown_labels_are_named(tmp_path):
    root = write_pad(tmp_path / "pad")
    meta = root / "metadata.csv"
    meta.write_text(meta.read_text().replace(",MEL,", ",MELANOMA,"))
    with pytest.raises(DatasetError, match=r"unknown labels .*'MELANOMA' \(1 rows\)"):
        datasets.load_metadata("pad_ufes_20", root)


def test_unk_is_missing_in_every_column_by_one_rule(tmp_path):
    # Issue 11 item 5: UNK became NA in the symptom columns but stayed a category in
    # background_father/background_mother (95 and 84 rows of the real metadata).
    root = write_pad(tmp_path / "pad")
    meta = root / "metadata.csv"
    with meta.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0].update(background_father="UNK", background_mother="unk", gender="UNK",
                   fitspatrick="UNK", diameter_1="Unk", smoke="UNK", region="UNK")
    rows[2].update(background_mother="UNK")
    with meta.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PAD_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    df = datasets.load_metadata("pad_ufes_20", root)
    for column in ("background_father", "background_mother", "gender", "fitspatrick",
                   "diameter_1", "smoke", "region", "sex", "site", "skin_type"):
        assert pd.isna(df[column][0]), column
    assert pd.isna(df["background_mother"][2]) and df["background_father"][2] == "BRAZIL"
    assert df["background_mother"].value_counts().to_dict() == {"POMERANIA": 1, "BRAZIL": 1}
    assert df["fitspatrick"].dtype == "Int64" and df["diameter_1"].dtype == "float64"
    text = df.select_dtypes(include=["object", "string"])
    assert not text.apply(lambda c: c.str.lower().isin(["unk", "unknown"])).any().any()


def test_bad_boolean_and_number_cells_are_named(tmp_path):
    root = write_pad(tmp_path / "pad")
    meta = root / "metadata.csv"
    meta.write_text(meta.read_text().replace("PAT_46_881_939.png,True", "PAT_46_881_939.png,yes"))
    with pytest.raises(DatasetError, match=r"'biopsed' must hold True/False \(or UNK\).*'yes'"):
        datasets.load_metadata("pad_ufes_20", root)
    meta.write_text(meta.read_text().replace(",yes", ",True").replace(",55,", ",fifty,", 1))
    with pytest.raises(DatasetError, match=r"column 'age' must hold numbers.*'fifty'"):
        datasets.load_metadata("pad_ufes_20", root)


def test_missing_metadata_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no metadata.csv found anywhere under .*empty"):
        datasets.load("pad_ufes_20", tmp_path / "empty")
    with pytest.raises(DatasetError, match="does not exist"):
        datasets.load("pad_ufes_20", tmp_path / "nowhere")


def test_missing_images_error_gives_count_and_examples(tmp_path):
    root = write_pad(tmp_path / "pad", skip=2)
    with pytest.raises(DatasetError) as error:
        datasets.load("pad_ufes_20", root)
    message = str(error.value)
    assert "2 of 6 images" in message
    assert "PAT_1700_2001_12" in message and "PAT_800_1500_2" in message
    assert "missing='drop'" in message


def test_missing_drop_drops_rows_with_a_warning(tmp_path):
    root = write_pad(tmp_path / "pad", skip=2)
    with pytest.warns(UserWarning, match="2 of 6 images"):
        df = datasets.load("pad_ufes_20", root, missing="drop")
    assert list(df["image_id"]) == PAD_IDS[:4]
    assert list(df.index) == [0, 1, 2, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(datasets.load("pad_ufes_20", write_pad(tmp_path / "full"),
                                 missing="drop")) == 6
    with pytest.raises(ValueError, match="missing must be"):
        datasets.load("pad_ufes_20", root, missing="ignore")


def test_image_folders_behind_links_are_found_and_link_cycles_end(tmp_path):
    # Issue 11 item 7: `ln -s /data/.../images` gave 0 images (the walk ignored links).
    store = write_pad(tmp_path / "shared" / "pad")  # the lab's copy
    root = tmp_path / "mine"
    root.mkdir()
    (root / "metadata.csv").write_bytes((store / "metadata.csv").read_bytes())
    (root / "images").symlink_to(store / "images", target_is_directory=True)
    (store / "images" / "imgs_part_1" / "loop").symlink_to(root, target_is_directory=True)
    (root / "other").symlink_to(store / "images", target_is_directory=True)  # a 2nd link
    df = datasets.load("pad_ufes_20", root)
    assert list(df["image_id"]) == PAD_IDS
    assert all(Path(p).exists() for p in df["image_path"])
    found = scan(root, datasets.get_spec("pad_ufes_20"))
    assert sorted(str(link.relative_to(root)) for link, _ in found.links) == ["images"]
    assert sorted((str(path.relative_to(root)), why) for path, why in found.skipped) == [
        ("images/imgs_part_1/loop", "leads to a folder already searched (link)"),
        ("other", "leads to a folder already searched (link)"),
    ]
    assert found.folders == 5  # root, images and its three parts: each searched once


def test_a_table_without_any_image_is_an_error_in_every_mode(tmp_path):
    root = write_ham(tmp_path / "ham")
    for image in root.rglob("*.jpg"):  # a mirror that renamed the files
        image.rename(image.with_suffix(".jpeg"))
    (root / ".cache").mkdir()
    (root / "broken.jpg").symlink_to(tmp_path / "gone.jpg")
    for missing in ("error", "drop"):
        with pytest.raises(DatasetError) as error:
            datasets.load("ham10000", root, missing=missing)
        message = str(error.value)
        assert message.startswith(f"6 of 6 images listed in {root / 'HAM10000_metadata.csv'}"
                                  " were not found (looked for <image_id>.jpg")
        assert "No image at all" in message
        assert f"searched 3 folder(s) under {root}" in message
        assert f"skipped 2: {root / '.cache'} (tool or hidden folder); " \
               f"{root / 'broken.jpg'} (broken link)" in message
        assert "other files seen: 6 .jpeg" in message


def test_verify_a_complete_copy(tmp_path):
    root = write_pad(tmp_path / "pad", layout="kaggle")
    result = datasets.verify("pad_ufes_20", root, expected=TINY_PAD)
    assert result.ok and not result.synthetic
    assert (result.fingerprint, result.n_images, result.n_found) == (PAD_FINGERPRINT, 6, 6)


def test_verify_against_the_registry_refuses_a_tiny_copy(tmp_path):
    result = datasets.verify("ham10000", write_ham(tmp_path / "ham"))
    assert not result.ok
    assert "found 6 of 10015 expected image files" in result.message
    assert "fingerprint mismatch" in result.message
    assert result.expected_fingerprint == datasets.get_spec("ham10000").fingerprint


def test_verify_refuses_partial_and_altered_copies(tmp_path):
    partial = datasets.verify("pad_ufes_20", write_pad(tmp_path / "a", skip=1), TINY_PAD)
    assert not partial.ok and partial.n_found == 5
    assert "found 5 of 6 expected image files" in partial.message
    assert "fingerprint" not in partial.message  # the labels are right, images are missing

    root = write_pad(tmp_path / "b")
    meta = root / "metadata.csv"
    meta.write_text(meta.read_text().replace(",SEK,", ",NEV,"))  # one label altered
    altered = datasets.verify("pad_ufes_20", root, TINY_PAD)
    assert not altered.ok and altered.n_found == 6
    assert "fingerprint mismatch" in altered.message and "found" not in altered.message


def test_verify_reports_unreadable_metadata_without_raising(tmp_path):
    (tmp_path / "x").mkdir()
    result = datasets.verify("pad_ufes_20", tmp_path / "x")
    assert not result.ok and result.fingerprint is None and "no metadata.csv" in result.message


def _write_manifest(root: Path, **fields) -> None:
    (root / datasets.MANIFEST_NAME).write_text(json.dumps(fields))


def test_verify_uses_the_synthetic_manifest(tmp_path):
    root = write_pad(tmp_path / "pad")
    _write_manifest(root, synthetic=True, dataset="pad_ufes_20", n_images=6,
                    fingerprint=PAD_FINGERPRINT, seed=0)
    result = datasets.verify("pad_ufes_20", root)
    assert result.ok and result.synthetic and "synthetic copy" in result.message

    _write_manifest(root, synthetic=True, dataset="pad_ufes_20", n_images=7,
                    fingerprint=PAD_FINGERPRINT, seed=0)
    assert "found 6 of 7" in datasets.verify("pad_ufes_20", root).message

    _write_manifest(root, synthetic=True, dataset="ham10000", n_images=6)
    assert "describes dataset 'ham10000'" in datasets.verify("pad_ufes_20", root).message


def test_use_existing_returns_the_path_or_refuses(tmp_path):
    root = write_ham(tmp_path / "ham")
    assert datasets.use_existing("ham10000", root, expected=TINY_HAM) == root.absolute()
    with pytest.raises(DatasetError, match="does not verify"):
        datasets.use_existing("ham10000", root)


def test_describe_datasets_lists_what_is_present(tmp_path):
    write_pad(tmp_path / "pad_ufes_20")
    synthetic = write_ham(tmp_path / "synthetic_ham10000")
    _write_manifest(synthetic, synthetic=True, dataset="ham10000", n_images=6,
                    fingerprint=HAM_FINGERPRINT)
    entries = datasets.describe_datasets(tmp_path)
    assert [(e["name"], e["kind"], e["ok"]) for e in entries] == [
        ("ham10000", "synthetic", True), ("pad_ufes_20", "real", False)]
    assert entries[1]["path"] == str(tmp_path / "pad_ufes_20") and entries[1]["n_found"] == 6
    assert datasets.describe_datasets(tmp_path / "none") == []


@pytest.mark.parametrize(
    ("name", "layout"),
    [("ham10000", "kaggle"), ("ham10000", "dataverse"),
     ("pad_ufes_20", "official"), ("pad_ufes_20", "kaggle")],
)
def test_synthetic_copies_load_and_verify_in_every_layout(tmp_path, name, layout):
    from casekit import synthetic

    root = synthetic.make(name, tmp_path / name, n_images=24, layout=layout,
                          image_size=(16, 16), progress=False)
    spec = datasets.get_spec(name)
    df = datasets.load(name, root)
    assert len(df) == 24 and list(df.columns[: len(NORMALISED_COLUMNS)]) == \
        list(NORMALISED_COLUMNS)
    assert all(Path(p).is_file() for p in df["image_path"])
    assert ("dataset" in df.columns) == (layout == "dataverse")
    with open(root / spec.metadata_file, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    result = datasets.verify(name, root)
    assert result.ok and result.synthetic and result.n_found == 24
    assert result.fingerprint == fingerprint(
        [(row[spec.image_column], row[spec.label_column]) for row in rows])

    next(iter(root.rglob(f"*{spec.image_extension}"))).unlink()
    damaged = datasets.verify(name, root)
    assert not damaged.ok and "found 23 of 24" in damaged.message


def test_verify_refuses_unknown_expected_keys(tmp_path):
    with pytest.raises(ValueError, match=r"not \['sha256'\]"):
        datasets.verify("pad_ufes_20", write_pad(tmp_path / "pad"), {"sha256": "abc"})
