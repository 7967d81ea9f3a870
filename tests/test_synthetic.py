"""casekit.synthetic: marginals, exact schemas, layouts, determinism, manifest, images.

The marginal checks run on ``metadata_table`` at the real sizes (no images, fast); the
file checks on small copies written once per module.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from casekit import __version__, datasets
from casekit.datasets.fingerprint import label_fingerprint
from casekit.datasets.registry import get_spec
from casekit.synthetic import DEFAULT_N_IMAGES, make, metadata_table
from casekit.synthetic import marginals as m

HAM_KAGGLE = ["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"]
PAD_COLUMNS = [
    "patient_id", "lesion_id", "smoke", "drink", "background_father", "background_mother",
    "age", "pesticide", "gender", "skin_cancer_history", "cancer_history", "has_piped_water",
    "has_sewage_system", "fitspatrick", "region", "diameter_1", "diameter_2", "diagnostic",
    "itch", "grew", "hurt", "changed", "bleed", "elevation", "img_id", "biopsed",
]
YES_NO = ["smoke", "drink", "pesticide", "skin_cancer_history", "cancer_history",
          "has_piped_water", "has_sewage_system"]


def _shares(series: pd.Series) -> pd.Series:
    return series.value_counts(normalize=True)


def _target_shares(counts: dict) -> pd.Series:
    target = pd.Series(counts, dtype=float)
    return target / target.sum()


def _raw_csv(path: Path) -> pd.DataFrame:
    """The CSV exactly as written: every cell as text, empty cells as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _file_digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------ copies
@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> dict[str, Path]:
    """One small copy per layout, plus the default-size PAD copy used for the image checks."""
    base = tmp_path_factory.mktemp("synthetic")
    return {
        "ham_kaggle": make("ham10000", base / "ham_kaggle", n_images=80, progress=False),
        "ham_dataverse": make("ham10000", base / "ham_dataverse", n_images=80,
                              layout="dataverse", progress=False),
        "pad_official": make("pad_ufes_20", base / "pad_official", n_images=600,
                             progress=False),
        "pad_kaggle": make("pad_ufes_20", base / "pad_kaggle", n_images=60, layout="kaggle",
                           image_size=(64, 48), progress=False),
    }


# --------------------------------------------------------------------------- marginals
def test_ham_marginals_at_real_size():
    table = metadata_table("ham10000", 10015, seed=3)
    assert table["dx"].value_counts().to_dict() == m.HAM_DX  # exact at the real size
    assert (_shares(table["sex"]) - _target_shares(m.HAM_SEX)).abs().max() < 0.015
    site_gap = (_shares(table["localization"]) - _target_shares(m.HAM_SITE)).abs().max()
    assert site_gap < 0.015

    medians = table.groupby("dx")["age"].median()
    assert (medians - pd.Series(m.HAM_AGE_MEDIAN)).abs().max() <= 5
    assert medians["nv"] < medians["mel"] < medians["bkl"] < medians["akiec"]
    age = table["age"].dropna()
    assert age.between(0, 85).all() and (age % 5 == 0).all()
    assert 15.5 < age.std() < 18.5 and age.median() == 50
    assert 0.003 < table["age"].isna().mean() < 0.01

    images_per_lesion = table.groupby("lesion_id").size()
    assert abs(len(images_per_lesion) / len(table) - 7470 / 10015) < 0.02
    assert abs((images_per_lesion >= 2).mean() - 1956 / 7470) < 0.03
    per_lesion = table.groupby("lesion_id")[["dx", "age", "sex", "localization"]].nunique(
        dropna=False)
    assert (per_lesion == 1).all().all()  # a lesion's images share its label and patient data

    follow_up = table.loc[table["dx_type"] == "follow_up", "dx"]
    assert (follow_up == "nv").mean() > 0.95  # the leak students must find
    assert (table.loc[table["dx"] == "mel", "dx_type"] == "histo").mean() > 0.9


def test_ham_class_mix_at_demo_size_and_dataverse_sources():
    table = metadata_table("ham10000", DEFAULT_N_IMAGES["ham10000"], seed=0,
                           layout="dataverse")
    gap = (_shares(table["dx"]) - _target_shares(m.HAM_DX)).abs().max()
    assert gap < 0.01
    assert set(table["dataset"]) == set(m.HAM_SOURCE)
    big = metadata_table("ham10000", 10015, seed=0, layout="dataverse")
    assert (_shares(big["dataset"]) - _target_shares(m.HAM_SOURCE)).abs().max() < 0.02


def test_pad_marginals_at_real_size():
    table = metadata_table("pad_ufes_20", 2298, seed=5)
    assert table["diagnostic"].value_counts().to_dict() == m.PAD_DX
    per_patient = table.groupby("patient_id").size()
    assert abs(len(per_patient) - 1373) < 70
    assert abs(table["lesion_id"].nunique() - 1641) < 70
    assert per_patient.min() == 1 and per_patient.max() <= 10 and per_patient.median() == 1

    no_questionnaire = table["smoke"].isna()
    assert abs(no_questionnaire.mean() - 804 / 2298) < 0.01
    assert table.loc[no_questionnaire, list(m.PAD_QUESTIONNAIRE_COLUMNS)].isna().all().all()
    assert table.loc[~no_questionnaire, list(m.PAD_QUESTIONNAIRE_COLUMNS)].notna().all().all()
    assert table[["age", "region", "diagnostic", "itch", "img_id"]].notna().all().all()

    skin = table["fitspatrick"].dropna()
    assert skin.isin([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).all()
    assert skin.mode()[0] == 2.0 and skin.isin([5.0, 6.0]).mean() < 0.02  # fairness point
    assert table["age"].between(6, 94).all() and abs(table["age"].mean() - 60.5) < 2
    ages = table.groupby("diagnostic")["age"].mean()
    assert ages["NEV"] < ages["BCC"] < ages["SCC"]

    cancer = table["diagnostic"].isin(get_spec("pad_ufes_20").cancer_labels)
    assert table.loc[cancer, "biopsed"].all()  # the biopsed leak
    assert table.loc[~cancer, "biopsed"].mean() < 0.4
    backgrounds = set(table["background_father"].dropna()) | set(table["background_mother"])
    assert {"BRAZIL", "BRASIL", "UNK"} <= backgrounds
    region_gap = (_shares(table["region"]) - _target_shares(m.PAD_REGION)).abs().max()
    assert region_gap < 0.03

    per_lesion = table.groupby("lesion_id")[["patient_id", "diagnostic", "region"]].nunique()
    assert (per_lesion == 1).all().all()
    patient_data = table.groupby("patient_id")[["age", "gender", "fitspatrick"]].nunique(
        dropna=False)
    assert (patient_data == 1).all().all()
    assert (table.groupby("patient_id")["diagnostic"].nunique() > 1).any()  # lesions may differ


def test_metadata_table_is_deterministic_and_seeded():
    first = metadata_table("pad_ufes_20", 300, seed=1)
    pd.testing.assert_frame_equal(first, metadata_table("pad_ufes_20", 300, seed=1))
    assert not first.equals(metadata_table("pad_ufes_20", 300, seed=2))


# ----------------------------------------------------------------------- files on disk
def test_csv_schemas_and_value_formats_are_exactly_the_real_ones(copies):
    ham = _raw_csv(copies["ham_kaggle"] / "HAM10000_metadata.csv")
    assert list(ham.columns) == HAM_KAGGLE
    dataverse = _raw_csv(copies["ham_dataverse"] / "HAM10000_metadata.csv")
    assert list(dataverse.columns) == [*HAM_KAGGLE, "dataset"]
    assert ham["image_id"].str.fullmatch(r"SYN_ISIC_\d{7}").all()
    assert ham["lesion_id"].str.fullmatch(r"SYN_HAM_\d{7}").all()
    assert ham["age"].str.fullmatch(r"\d+\.0|").all()
    assert set(ham["sex"]) <= {"male", "female", "unknown"}
    assert set(ham["localization"]) <= set(m.HAM_SITE)

    pad = _raw_csv(copies["pad_official"] / "metadata.csv")
    assert list(pad.columns) == PAD_COLUMNS
    assert pad["patient_id"].str.fullmatch(r"SYN_PAT_\d+").all()
    assert pad["lesion_id"].str.fullmatch(r"\d+").all()
    assert pad["img_id"].str.fullmatch(r"SYN_PAT_\d+_\d+_\d+\.png").all()
    prefixes = pad["patient_id"] + "_" + pad["lesion_id"] + "_"
    assert all(i.startswith(p) for i, p in zip(pad["img_id"], prefixes, strict=True))
    assert pad["age"].str.fullmatch(r"\d+").all()
    assert pad["fitspatrick"].str.fullmatch(r"[1-6]\.0|").all()
    assert pad["diameter_1"].str.fullmatch(r"\d+\.0|").all()
    for column in YES_NO:
        assert set(pad[column]) == {"True", "False", ""}, column
    for column in m.PAD_SYMPTOMS:
        assert set(pad[column]) <= {"True", "False", "UNK"}, column
    assert set(pad["biopsed"]) == {"True", "False"}
    assert set(pad["gender"]) == {"MALE", "FEMALE", ""}
    assert set(pad["region"]) <= set(m.PAD_REGION)


def test_layouts_put_files_where_the_real_downloads_do(copies):
    ham = copies["ham_kaggle"]
    part_1 = sorted(p.stem for p in (ham / "HAM10000_images_part_1").glob("*.jpg"))
    part_2 = sorted(p.stem for p in (ham / "HAM10000_images_part_2").glob("*.jpg"))
    assert len(part_1) + len(part_2) == 80 and part_1 and part_2
    assert max(part_1) < min(part_2)  # part 1 holds the lowest ISIC numbers, as in the real set
    assert len(list((copies["ham_dataverse"] / "HAM10000_images_part_2").glob("*.jpg"))) > 0

    official = copies["pad_official"]
    counts = [len(list((official / f"images/imgs_part_{k}").glob("*.png"))) for k in (1, 2, 3)]
    assert sum(counts) == 600 and min(counts) > 150
    kaggle = copies["pad_kaggle"]
    nested = [len(list((kaggle / f"imgs_part_{k}/imgs_part_{k}").glob("*.png"))) for k in (1, 2, 3)]
    assert sum(nested) == 60 and (kaggle / "metadata.csv").is_file()
    for root in copies.values():
        assert {"README_SYNTHETIC.md", "SYNTHETIC.json"} <= {p.name for p in root.iterdir()}


def test_manifest_fingerprint_matches_the_csv_and_readme_says_synthetic(copies):
    for key, root in copies.items():
        spec = get_spec("ham10000" if key.startswith("ham") else "pad_ufes_20")
        manifest = json.loads((root / "SYNTHETIC.json").read_text())
        raw = _raw_csv(root / spec.metadata_file)
        assert manifest["synthetic"] is True and manifest["dataset"] == spec.name
        assert manifest["n_images"] == len(raw) and manifest["casekit_version"] == __version__
        assert manifest["fingerprint"] == label_fingerprint(
            zip(raw[spec.image_column], raw[spec.label_column], strict=True))
        assert manifest["fingerprint"] != spec.fingerprint
    readme = (copies["pad_kaggle"] / "README_SYNTHETIC.md").read_text()
    assert "NOT real patient data" in readme and "clinical" in readme
    assert "Seed: 0" in readme and __version__ in readme and 'layout="kaggle"' in readme


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    for name, layout in (("ham10000", "dataverse"), ("pad_ufes_20", "official")):
        first = make(name, tmp_path / f"{name}_a", n_images=30, seed=7, layout=layout,
                     progress=False)
        again = make(name, tmp_path / f"{name}_b", n_images=30, seed=7, layout=layout,
                     progress=False)
        other = make(name, tmp_path / f"{name}_c", n_images=30, seed=8, layout=layout,
                     progress=False)
        digests = _file_digests(first)
        assert len(digests) == 33 and digests == _file_digests(again)
        other_digests = _file_digests(other)
        metadata = get_spec(name).metadata_file
        assert other_digests[metadata] != digests[metadata]
        extension = get_spec(name).image_extension
        images = {d for k, d in digests.items() if k.endswith(extension)}
        other_images = {d for k, d in other_digests.items() if k.endswith(extension)}
        assert len(images) == 30 and not images & other_images


def test_rerun_is_a_fast_no_op_and_a_damaged_copy_is_rebuilt(tmp_path):
    root = make("pad_ufes_20", tmp_path / "pad", n_images=40, image_size=(32, 32),
                progress=False)
    csv = root / "metadata.csv"
    stamp = csv.stat().st_mtime_ns
    started = time.perf_counter()
    assert make("pad_ufes_20", root, n_images=40, image_size=(32, 32), progress=False) == root
    assert time.perf_counter() - started < 1.0 and csv.stat().st_mtime_ns == stamp

    victim = next(root.rglob("*.png"))
    victim.unlink()
    make("pad_ufes_20", root, n_images=40, image_size=(32, 32), progress=False)
    assert victim.is_file()  # incomplete copy detected and written again
    make("pad_ufes_20", root, n_images=50, image_size=(32, 32), progress=False)
    assert len(list(root.rglob("*.png"))) == 50  # other arguments replace the copy
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left over


def test_never_overwrites_a_folder_that_is_not_a_synthetic_copy(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "metadata.csv").write_text("patient_id\n")
    with pytest.raises(FileExistsError, match="not a casekit synthetic copy"):
        make("pad_ufes_20", real, n_images=5, progress=False)
    assert (real / "metadata.csv").read_text() == "patient_id\n"


def test_default_root_is_the_synthetic_dataset_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEKIT_DATA", str(tmp_path))
    root = make("pad-ufes-20", n_images=5, image_size=(16, 16), progress=False)
    assert root == tmp_path / "synthetic_pad_ufes_20" and (root / "metadata.csv").is_file()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "isic2019"}, KeyError, "known datasets"),
        ({"name": "ham10000", "layout": "official"}, ValueError, "kaggle"),
        ({"name": "ham10000", "n_images": 0}, ValueError, "positive"),
        ({"name": "pad_ufes_20", "image_size": (8, 8)}, ValueError, "16-4096"),
        ({"name": "pad_ufes_20", "image_size": "big"}, ValueError, "width, height"),
    ],
)
def test_bad_arguments_get_clear_errors(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(root=tmp_path / "x", progress=False, **kwargs)


# ------------------------------------------------------------------------------ images
def test_image_formats_sizes_and_modes(copies, tmp_path):
    ham_images = list(copies["ham_kaggle"].rglob("*.jpg"))
    with Image.open(ham_images[0]) as image:
        assert image.format == "JPEG" and image.size == (150, 112) and image.mode == "RGB"
    pad_images = [Image.open(p) for p in copies["pad_official"].rglob("*.png")]
    modes = pd.Series([image.mode for image in pad_images]).value_counts()
    assert set(modes.index) == {"RGB", "RGBA", "L"} and 0.1 < modes["RGBA"] / 600 < 0.3
    sizes = {image.size for image in pad_images}
    assert len(sizes) > 100 and all(96 <= min(s) and max(s) <= 256 for s in sizes)
    assert {w > h for w, h in sizes} == {True, False}  # landscape and portrait
    big = make("ham10000", tmp_path / "big", n_images=3, image_size=(600, 450), progress=False)
    assert {Image.open(p).size for p in big.rglob("*.jpg")} == {(600, 450)}
    assert {Image.open(p).size for p in copies["pad_kaggle"].rglob("*.png")} == {(64, 48)}


def _features(path: str) -> np.ndarray:
    """White-balanced colours of the image centre: 8 x 8 pixels plus per-channel histograms."""
    pixels = np.asarray(Image.open(path).convert("RGB").resize((48, 48)), dtype=np.float32)
    border = np.concatenate([pixels[:4], pixels[-4:], pixels[:, :4].transpose(1, 0, 2),
                             pixels[:, -4:].transpose(1, 0, 2)]).reshape(-1, 3).mean(axis=0)
    centre = (pixels / border)[12:36, 12:36]
    small = centre.reshape(8, 3, 8, 3, 3).mean(axis=(1, 3)).ravel()
    histograms = [np.histogram(centre[..., c], bins=10, range=(0, 1.5))[0] / centre[..., c].size
                  for c in range(3)]
    return np.concatenate([small, *histograms])


@pytest.fixture(scope="module")
def pad_features(copies) -> tuple[pd.DataFrame, np.ndarray]:
    """The default-size PAD copy as loaded by casekit.datasets, and its image features."""
    df = datasets.load("pad_ufes_20", copies["pad_official"])
    return df, np.stack([_features(p) for p in df["image_path"]])


def test_images_are_separable_by_a_simple_classifier_on_held_out_lesions(pad_features):
    df, features = pad_features
    model = make_pipeline(StandardScaler(),
                          LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
    folds = StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=0)
    with threadpool_limits(1):  # many BLAS threads on a busy machine are far slower
        predicted = cross_val_predict(model, features, df["label"], groups=df["group_id"],
                                      cv=folds)
    score = balanced_accuracy_score(df["label"], predicted)
    # Six classes, chance 0.17: learnable, not trivial. Look-alike pairs (BCC/SCC, ACK/SEK,
    # casekit.synthetic.looks.LOOK_ALIKES) keep a colour classifier well below 0.98.
    assert 0.5 <= score < 0.9, score
    binary = df["target_binary"].to_numpy()
    cancer = np.isin(np.asarray(predicted), ["BCC", "SCC", "MEL"])
    assert balanced_accuracy_score(binary, cancer) >= 0.8  # look-alikes never cross that line


def test_images_of_one_lesion_look_alike(pad_features):
    df, features = pad_features
    features = features[:, 192:]  # the colour histograms: they do not depend on the pose
    groups = df.groupby("lesion_id").indices
    within = [np.abs(features[rows[0]] - features[rows[1]]).mean()
              for rows in groups.values() if len(rows) > 1]
    lesion = df["lesion_id"].to_numpy()
    pairs = np.random.default_rng(0).integers(0, len(df), (500, 2))
    pairs = pairs[lesion[pairs[:, 0]] != lesion[pairs[:, 1]]]
    between = [np.abs(features[i] - features[j]).mean() for i, j in pairs]
    assert len(within) > 20 and np.mean(within) < 0.7 * np.mean(between)


# ----------------------------------------------------------------------------- loaders
@pytest.mark.parametrize("key", ["ham_kaggle", "ham_dataverse", "pad_official", "pad_kaggle"])
def test_the_real_loaders_read_every_layout(copies, key):
    name = "ham10000" if key.startswith("ham") else "pad_ufes_20"
    root = copies[key]
    df = datasets.load(name, root)
    manifest = json.loads((root / "SYNTHETIC.json").read_text())
    assert len(df) == manifest["n_images"] and df["image_path"].map(os.path.isfile).all()
    assert set(df["label"]) <= set(get_spec(name).labels)
    assert df["image_id"].str.startswith("SYN_").all()
    result = datasets.verify(name, root)
    assert result.ok and result.synthetic
    if name == "pad_ufes_20":
        assert df["skin_type"].dropna().between(1, 6).all() and df["skin_type"].isna().any()
