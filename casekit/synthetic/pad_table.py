"""A PAD-UFES-20-shaped metadata table: patients with lesions with images, published marginals.

Patients carry age, sex, habits, family background and skin type; lesions carry the
diagnosis, body region, diameters, symptoms and biopsy. A patient's lesions may have
different diagnoses; all images of a lesion share its row values. About 35 % of rows come
from patients who filled in no questionnaire (those columns are empty), as in the real file.

Example:
    >>> table = pad_table(200, seed=0)
    >>> table.columns[:3].tolist()
    ['patient_id', 'lesion_id', 'smoke']
    >>> bool(table["img_id"].str.match(r"SYN_PAT_\\d+_\\d+_\\d+\\.png").all())
    True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casekit.datasets.registry import PAD_UFES_20
from casekit.synthetic import marginals as m
from casekit.synthetic.sampling import allocate, bernoulli, draw, normal_by_group, partition

#: Seed-stream tag of this table (keeps its random numbers apart from the images').
STREAM = 20


def _patients_of(rng: np.random.Generator, images_per_lesion: np.ndarray) -> np.ndarray:
    """Patient index of each lesion: consecutive lesions grouped, at most 10 images a patient."""
    wanted = draw(rng, m.PAD_LESIONS_PER_PATIENT, len(images_per_lesion)).astype(int)
    patient_of = np.empty(len(images_per_lesion), dtype=int)
    patient, taken, images = 0, 0, 0
    for i, n in enumerate(images_per_lesion):
        full = taken == wanted[patient] or images + n > m.PAD_MAX_IMAGES_PER_PATIENT
        if taken and full:
            patient, taken, images = patient + 1, 0, 0
        patient_of[i] = patient
        taken, images = taken + 1, images + n
    return patient_of


def _without_questionnaire(rng: np.random.Generator, images_per_patient: np.ndarray) -> np.ndarray:
    """Mark whole patients as 'no questionnaire' until their rows reach the published share."""
    target = round(m.PAD_NO_QUESTIONNAIRE * images_per_patient.sum())
    blank = np.zeros(len(images_per_patient), dtype=bool)
    filled = 0
    for patient in rng.permutation(len(images_per_patient)):
        if filled + images_per_patient[patient] <= target:
            blank[patient] = True
            filled += images_per_patient[patient]
    return blank


def _patient_columns(rng: np.random.Generator, first_dx: np.ndarray) -> dict[str, object]:
    """Per-patient values of the questionnaire (and age, which every row has)."""
    n = len(first_dx)
    age = normal_by_group(rng, first_dx, m.PAD_AGE_MEAN, m.PAD_AGE_SD)
    father = draw(rng, m.PAD_BACKGROUND, n)
    mother = np.where(bernoulli(rng, 0.5, n), father, draw(rng, m.PAD_BACKGROUND, n))
    cancer = np.isin(first_dx, PAD_UFES_20.cancer_labels)
    history = np.where(cancer, m.PAD_SKIN_CANCER_HISTORY["cancer"],
                       m.PAD_SKIN_CANCER_HISTORY["other"])
    habits = {name: bernoulli(rng, p, n) for name, p in m.PAD_HABITS.items()}
    return {
        "smoke": habits["smoke"],
        "drink": habits["drink"],
        "background_father": father,
        "background_mother": mother,
        "age": np.clip(np.round(age), *m.PAD_AGE_RANGE).astype("int64"),
        "pesticide": habits["pesticide"],
        "gender": draw(rng, m.PAD_GENDER, n),
        "skin_cancer_history": bernoulli(rng, history, n),
        "cancer_history": habits["cancer_history"],
        "has_piped_water": habits["has_piped_water"],
        "has_sewage_system": habits["has_sewage_system"],
        "fitspatrick": draw(rng, m.PAD_FITZPATRICK, n).astype("float64"),
    }


def _lesion_columns(rng: np.random.Generator, dx: np.ndarray) -> dict[str, object]:
    """Per-lesion values: region, diameters, symptoms, diagnosis and biopsy."""
    n = len(dx)
    median = np.array([m.PAD_DIAMETER_MEDIAN[d] for d in dx], dtype=float)
    d1 = np.maximum(1.0, np.round(median * np.exp(rng.normal(0, 0.4, n))))
    d2 = np.maximum(1.0, np.round(d1 * rng.uniform(0.55, 1.0, n)))
    columns: dict[str, object] = {
        "region": draw(rng, m.PAD_REGION, n),
        "diameter_1": d1,
        "diameter_2": d2,
        "diagnostic": dx,
    }
    p_true = np.array([m.PAD_SYMPTOM_TRUE[d] for d in dx])
    for j, symptom in enumerate(m.PAD_SYMPTOMS):
        answer = np.where(bernoulli(rng, p_true[:, j], n), "True", "False").astype(object)
        answer[bernoulli(rng, m.PAD_SYMPTOM_UNK, n)] = "UNK"
        columns[symptom] = answer
    p_biopsy = np.array([m.PAD_BIOPSY_BENIGN.get(d, 1.0) for d in dx])
    columns["biopsed"] = bernoulli(rng, p_biopsy, n)  # p = 1 for every cancer
    return columns


def _blank(values: np.ndarray, blank: np.ndarray) -> pd.Series:
    """A column with the rows of ``blank`` empty; yes/no answers as nullable booleans."""
    if values.dtype == bool:
        column = pd.Series(pd.array(values, dtype="boolean"))
        column[blank] = pd.NA
        return column
    if values.dtype.kind == "f":
        return pd.Series(np.where(blank, np.nan, values))
    return pd.Series(np.where(blank, None, values.astype(object)), dtype=object)


def pad_table(n_images: int, seed: int) -> pd.DataFrame:
    """The raw PAD-UFES-20 table (26 columns, real order) for ``n_images`` synthetic images."""
    rng = np.random.default_rng([seed, STREAM])
    per_class = allocate(m.PAD_DX, n_images)
    sizes_by_class = [partition(rng, per_class[label], m.PAD_IMAGES_PER_LESION)
                      for label in m.PAD_DX]
    lesion_dx = np.repeat(np.array(list(m.PAD_DX)), [len(s) for s in sizes_by_class])
    lesion_size = np.concatenate(sizes_by_class)
    order = rng.permutation(len(lesion_dx))
    lesion_dx, lesion_size = lesion_dx[order], lesion_size[order]
    n_lesions = len(lesion_dx)

    patient_of = _patients_of(rng, lesion_size)
    n_patients = int(patient_of[-1]) + 1
    first_lesion = np.unique(patient_of, return_index=True)[1]
    patients = _patient_columns(rng, lesion_dx[first_lesion])
    lesions = _lesion_columns(rng, lesion_dx)
    blank_patient = _without_questionnaire(rng, np.bincount(patient_of, weights=lesion_size))

    patient_number = rng.choice(np.arange(1, max(2100, 2 * n_patients)), n_patients,
                                replace=False)
    lesion_number = rng.choice(np.arange(1, max(4100, 3 * n_lesions)), n_lesions, replace=False)

    # Expand to one row per image.
    lesion_of = np.repeat(np.arange(n_lesions), lesion_size)
    patient_of_row = patient_of[lesion_of]
    nth = np.arange(len(lesion_of)) - np.repeat(np.cumsum(lesion_size) - lesion_size, lesion_size)
    first_image = rng.integers(0, 1000, n_lesions)[lesion_of]
    stride = rng.integers(1, 100, n_lesions)[lesion_of]
    image_number = (first_image + nth * stride) % 1000  # distinct within a lesion
    blank = blank_patient[patient_of_row]
    patient_ids = np.array([f"SYN_PAT_{k}" for k in patient_number])[patient_of_row]

    columns: dict[str, object] = {
        "patient_id": patient_ids,
        "lesion_id": lesion_number[lesion_of].astype("int64"),
        "img_id": [f"{p}_{les}_{i}.png" for p, les, i in
                   zip(patient_ids, lesion_number[lesion_of], image_number, strict=True)],
    }
    for name, values in patients.items():
        values = np.asarray(values)[patient_of_row]
        columns[name] = values if name == "age" else _blank(values, blank)
    for name, values in lesions.items():
        values = np.asarray(values)[lesion_of]
        columns[name] = _blank(values, blank) if name in m.PAD_QUESTIONNAIRE_COLUMNS else values
    table = pd.DataFrame({name: columns[name] for name in PAD_UFES_20.required_columns})
    return table.iloc[rng.permutation(len(table))].reset_index(drop=True)
