"""What casekit knows about each dataset: sources, files, schema, labels, licence.

Every other module reads dataset facts from here, never from string literals of its
own. The facts come from the datasets' own files and papers (see the case-study notes).

Example:
    >>> from casekit.datasets.registry import get_spec
    >>> spec = get_spec("pad_ufes_20")
    >>> spec.cancer_labels
    ('BCC', 'MEL', 'SCC')
    >>> spec.label_to_index["SEK"]
    5
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset's official (non-Kaggle) source.

    ``sha256`` is optional: official hosts repackage files, so the download is verified
    by content (label fingerprint and image count) after extraction in any case.
    """

    url: str
    filename: str
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """Facts about one dataset. Field names say which raw column plays which role."""

    name: str
    title: str
    modality: str
    kaggle_handle: str
    official_doi: str
    official_files: tuple[RemoteFile, ...]
    metadata_file: str
    image_column: str
    image_extension: str
    label_column: str
    group_column: str
    age_column: str
    sex_column: str
    site_column: str
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...]
    labels: tuple[str, ...]
    label_names: Mapping[str, str]
    cancer_labels: tuple[str, ...]
    leaky_columns: tuple[str, ...]
    n_images: int
    fingerprint: str
    licence: str
    licence_url: str
    citation: str
    #: Images per Fitzpatrick skin type (1-6) where the dataset records one; empty if never.
    skin_type_counts: Mapping[int, int] = field(default_factory=dict)
    #: Facts of the real data a results document on it must state (sources in CASE_STUDY).
    caveats: tuple[str, ...] = ()
    #: Published results to compare with, per task (``"binary"``, ``"multiclass"``).
    published_results: Mapping[str, str] = field(default_factory=dict)
    label_to_index: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        mapping = MappingProxyType({label: i for i, label in enumerate(self.labels)})
        object.__setattr__(self, "label_to_index", mapping)

    def attribution(self) -> str:
        """One paragraph to print wherever the data are used."""
        return f"{self.title}, licence {self.licence} ({self.licence_url}). Cite: {self.citation}"


HAM10000 = DatasetSpec(
    name="ham10000",
    title="HAM10000 (dermoscopic images)",
    modality="dermoscopy",
    kaggle_handle="kmader/skin-cancer-mnist-ham10000",
    official_doi="doi:10.7910/DVN/DBW86T",
    official_files=(),
    metadata_file="HAM10000_metadata.csv",
    image_column="image_id",
    image_extension=".jpg",
    label_column="dx",
    group_column="lesion_id",
    age_column="age",
    sex_column="sex",
    site_column="localization",
    required_columns=("lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"),
    optional_columns=("dataset",),
    labels=("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"),
    label_names=MappingProxyType(
        {
            "akiec": "actinic keratosis / intraepithelial carcinoma (Bowen's disease)",
            "bcc": "basal cell carcinoma",
            "bkl": "benign keratosis-like lesion",
            "df": "dermatofibroma",
            "mel": "melanoma",
            "nv": "melanocytic nevus",
            "vasc": "vascular lesion",
        }
    ),
    cancer_labels=("akiec", "bcc", "mel"),
    leaky_columns=("dx_type",),
    n_images=10015,
    fingerprint="aaee39f0ca003f3e1daeae85db3b9fba75f872cc766e73426836e813135c8c35",
    licence="CC BY-NC 4.0",
    licence_url="https://creativecommons.org/licenses/by-nc/4.0/",
    citation=(
        "Tschandl P, Rosendahl C, Kittler H. The HAM10000 dataset, a large collection of "
        "multi-source dermatoscopic images of common pigmented skin lesions. "
        "Sci Data 5, 180161 (2018). doi:10.1038/sdata.2018.161"
    ),
    caveats=(
        "About half the labels are histopathology (5,340 images); the rest come from "
        "follow-up (3,704, almost all nevi), expert consensus (902) or confocal microscopy "
        "(69). `dx_type` leaks the label: never use it as a feature.",
        "No skin type is recorded; the images come from clinics in Austria and Australia and "
        "show mostly light skin. Nothing here tells how a model works on darker skin.",
    ),
    published_results=MappingProxyType({
        "multiclass": "The best published balanced multiclass accuracy on HAM10000 / ISIC "
                      "2018 is 0.885, from ensembles trained with extra data.",
    }),
)

PAD_UFES_20 = DatasetSpec(
    name="pad_ufes_20",
    title="PAD-UFES-20 (smartphone images)",
    modality="smartphone",
    kaggle_handle="mahdavi1202/skin-cancer",
    official_doi="doi:10.17632/zr7vgbcyr2.1",
    official_files=(
        RemoteFile(
            url="https://data.mendeley.com/public-files/datasets/zr7vgbcyr2/files/"
            "fa850265-57da-48f0-ba3e-998b3e44b1f6/file_downloaded",
            filename="metadata.csv",
        ),
        RemoteFile(
            url="https://data.mendeley.com/public-files/datasets/zr7vgbcyr2/files/"
            "1cc2f71f-20a2-412d-b746-a9b9bc20c966/file_downloaded",
            filename="images/imgs_part_1.zip",
        ),
        RemoteFile(
            url="https://data.mendeley.com/public-files/datasets/zr7vgbcyr2/files/"
            "559a60ed-5504-475d-996c-6a8bc253b5e7/file_downloaded",
            filename="images/imgs_part_2.zip",
        ),
        RemoteFile(
            url="https://data.mendeley.com/public-files/datasets/zr7vgbcyr2/files/"
            "34dcdf8e-e5f1-4b35-aa0b-5135051ff852/file_downloaded",
            filename="images/imgs_part_3.zip",
        ),
    ),
    metadata_file="metadata.csv",
    image_column="img_id",
    image_extension=".png",
    label_column="diagnostic",
    group_column="patient_id",
    age_column="age",
    sex_column="gender",
    site_column="region",
    required_columns=(
        "patient_id", "lesion_id", "smoke", "drink", "background_father",
        "background_mother", "age", "pesticide", "gender", "skin_cancer_history",
        "cancer_history", "has_piped_water", "has_sewage_system", "fitspatrick", "region",
        "diameter_1", "diameter_2", "diagnostic", "itch", "grew", "hurt", "changed",
        "bleed", "elevation", "img_id", "biopsed",
    ),
    optional_columns=(),
    labels=("ACK", "BCC", "MEL", "NEV", "SCC", "SEK"),
    label_names=MappingProxyType(
        {
            "ACK": "actinic keratosis",
            "BCC": "basal cell carcinoma",
            "MEL": "melanoma",
            "NEV": "nevus",
            "SCC": "squamous cell carcinoma (includes Bowen's disease)",
            "SEK": "seborrheic keratosis",
        }
    ),
    cancer_labels=("BCC", "MEL", "SCC"),
    leaky_columns=("biopsed",),
    n_images=2298,
    fingerprint="665f973419c683bfb5d437be8d4167676c834eb3f4195841748ff3181a68657d",
    licence="CC BY 4.0",
    licence_url="https://creativecommons.org/licenses/by/4.0/",
    citation=(
        "Pacheco AGC, Lima GR, Salomão AS, et al. PAD-UFES-20: a skin lesion dataset "
        "composed of patient data and clinical images collected from smartphones. "
        "Data in Brief 32, 106221 (2020). doi:10.1016/j.dib.2020.106221"
    ),
    skin_type_counts=MappingProxyType({1: 153, 2: 876, 3: 392, 4: 62, 5: 10, 6: 1}),
    caveats=(
        "Every cancer (BCC, SCC, MEL) is biopsy-proven, while the non-cancer labels (ACK, NEV, "
        "SEK) are partly clinical consensus: the two sides are labelled differently, and "
        "`biopsed` leaks the label (never use it as a feature).",
        "804 of the 2,298 images have no patient questionnaire (smoking, skin type, "
        "diameters … all empty).",
    ),
    published_results=MappingProxyType({
        "multiclass": "Published PAD-UFES-20 six-class results reach balanced accuracy "
                      "0.77–0.80 with images plus clinical metadata and image-level 5-fold "
                      "splits; clinical data adds 7–10 points. A run on images only with a "
                      "patient-grouped split, the stricter protocol, should expect lower "
                      "numbers.",
    }),
)

REGISTRY: Mapping[str, DatasetSpec] = MappingProxyType(
    {spec.name: spec for spec in (HAM10000, PAD_UFES_20)}
)

#: Normalised columns every loader returns, in this order, before the dataset's own.
NORMALISED_COLUMNS: tuple[str, ...] = (
    "image_id", "image_path", "label", "label_idx", "target_binary",
    "group_id", "age", "sex", "site", "skin_type",
)


def get_spec(name: str) -> DatasetSpec:
    """Return the spec for ``name`` (``"ham10000"`` or ``"pad_ufes_20"``).

    Raises ``KeyError`` listing the known names when ``name`` is unknown.
    """
    key = name.lower().replace("-", "_")
    if key not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown dataset {name!r}; known datasets: {known}")
    return REGISTRY[key]
