"""The published figures the synthetic tables imitate (counts from the datasets' own files).

Counts are used as sampling weights, so any ``n_images`` gets the same proportions; at the
real size (HAM10000 10,015, PAD-UFES-20 2,298 images) the class counts come out exact.
Where the papers give only a total, the split shown here is a plausible choice that adds up
to the published totals; those entries say so.

Example:
    >>> sum(HAM_DX.values()), sum(PAD_DX.values())
    (10015, 2298)
"""

from __future__ import annotations

# ---------------------------------------------------------------- HAM10000 (dermoscopy)
HAM_DX = {"nv": 6705, "mel": 1113, "bkl": 1099, "bcc": 514, "akiec": 327, "vasc": 142, "df": 115}
#: The real CSV lists its rows class by class, in this order (a trap for unshuffled splits).
HAM_CSV_ORDER = ("bkl", "nv", "df", "mel", "vasc", "bcc", "akiec")
#: Median age by class; ages are multiples of 5 in 0-85. Within-class sd chosen so that the
#: overall sd is about 17 (the class medians alone spread ages by about 9 years).
HAM_AGE_MEDIAN = {"akiec": 70, "bcc": 70, "bkl": 65, "mel": 60, "vasc": 55, "df": 50, "nv": 45}
HAM_AGE_WITHIN_SD = 14.5
HAM_AGE_RANGE = (0, 85)
HAM_AGE_MISSING = 57 / 10015
HAM_SEX = {"male": 5406, "female": 4552, "unknown": 57}
HAM_SITE = {
    "back": 2192, "lower extremity": 2077, "trunk": 1404, "upper extremity": 1118,
    "abdomen": 1022, "face": 745, "chest": 407, "foot": 319, "unknown": 234, "neck": 168,
    "scalp": 128, "hand": 90, "ear": 56, "genital": 48, "acral": 7,
}
#: dx_type by class. Totals are the published ones (histo 5340, follow_up 3704, consensus 902,
#: confocal 69); the split by class is a plausible one. follow_up is (almost) only nv: the leak.
HAM_DX_TYPE = {
    "akiec": {"histo": 327},
    "bcc": {"histo": 514},
    "bkl": {"histo": 825, "consensus": 160, "confocal": 69, "follow_up": 45},
    "df": {"histo": 55, "consensus": 60},
    "mel": {"histo": 1063, "consensus": 50},
    "nv": {"histo": 2498, "follow_up": 3659, "consensus": 548},
    "vasc": {"histo": 58, "consensus": 84},
}
#: Dataverse's extra ``dataset`` column. Follow-up series come from the MoleMax clinic, the
#: other sources share the rest in proportion.
HAM_SOURCE = {"vidir_molemax": 3954, "vidir_modern": 3363, "rosendahl": 2259, "vienna_dias": 439}
HAM_FOLLOW_UP_SOURCE = "vidir_molemax"
#: Number of lesions with k images. Chosen so that 10,015 images give the published 7,470
#: lesions, 1,956 of them with 2+ images.
HAM_IMAGES_PER_LESION = {1: 5514, 2: 1478, 3: 387, 4: 75, 5: 12, 6: 4}
#: ISIC numbers of the real images run from ISIC_0024306 upwards; part_1 holds the first 5,000.
HAM_FIRST_ISIC = 24306
HAM_PART_1_SHARE = 5000 / 10015

# ---------------------------------------------------------- PAD-UFES-20 (smartphone photos)
PAD_DX = {"BCC": 845, "ACK": 730, "NEV": 244, "SEK": 235, "SCC": 192, "MEL": 52}
#: Number of lesions with k images / patients with k lesions. Chosen so that 2,298 images
#: give the published 1,641 lesions of 1,373 patients (1-10 images each, median 1).
PAD_IMAGES_PER_LESION = {1: 1184, 2: 309, 3: 107, 4: 30, 5: 11}
PAD_LESIONS_PER_PATIENT = {1: 1178, 2: 144, 3: 35, 4: 10, 5: 6}
PAD_MAX_IMAGES_PER_PATIENT = 10
#: Mean and sd of age by class (plausible; overall mean 60.5, range 6-94; naevi in the young).
PAD_AGE_MEAN = {"ACK": 63, "BCC": 62, "MEL": 58, "NEV": 38, "SCC": 69, "SEK": 64}
PAD_AGE_SD = {"ACK": 12, "BCC": 13, "MEL": 15, "NEV": 18, "SCC": 12, "SEK": 12}
PAD_AGE_RANGE = (6, 94)
#: Rows whose whole questionnaire (smoke ... fitspatrick, diameters) is empty: 804 of 2,298.
PAD_NO_QUESTIONNAIRE = 804 / 2298
PAD_QUESTIONNAIRE_COLUMNS = (
    "smoke", "drink", "background_father", "background_mother", "pesticide", "gender",
    "skin_cancer_history", "cancer_history", "has_piped_water", "has_sewage_system",
    "fitspatrick", "diameter_1", "diameter_2",
)
PAD_FITZPATRICK = {1: 153, 2: 876, 3: 392, 4: 62, 5: 10, 6: 1}
PAD_REGION = {
    "FACE": 570, "FOREARM": 392, "CHEST": 280, "BACK": 248, "ARM": 192, "NOSE": 158,
    "HAND": 126, "NECK": 93, "THIGH": 73, "EAR": 73, "ABDOMEN": 36, "LIP": 23, "SCALP": 18,
    "FOOT": 16,
}
PAD_GENDER = {"FEMALE": 1, "MALE": 1}
#: Family background (plausible shares; both spellings BRAZIL and BRASIL occur in the real file).
PAD_BACKGROUND = {
    "POMERANIA": 28, "BRAZIL": 25, "GERMANY": 16, "ITALY": 13, "UNK": 6, "BRASIL": 4,
    "PORTUGAL": 2.5, "NETHERLANDS": 2, "POLAND": 1, "SPAIN": 0.5, "AUSTRIA": 0.5,
    "FRANCE": 0.5, "ISRAEL": 0.5, "NORWAY": 0.3, "CZECH": 0.2,
}
#: Share of True among answered yes/no questions (plausible).
PAD_HABITS = {
    "smoke": 0.12, "drink": 0.30, "pesticide": 0.35, "cancer_history": 0.50,
    "has_piped_water": 0.80, "has_sewage_system": 0.60,
}
#: skin_cancer_history is more common in patients whose lesion is a cancer.
PAD_SKIN_CANCER_HISTORY = {"cancer": 0.55, "other": 0.30}
PAD_SYMPTOMS = ("itch", "grew", "hurt", "changed", "bleed", "elevation")
#: P(True) of each symptom by class; a further PAD_SYMPTOM_UNK of answers are "UNK". Rough,
#: rounded rates with the directions seen in the real questionnaire: BCC and SCC itch, grow,
#: bleed and are raised; BCC hurts; melanomas grew and changed; naevi and SEK rarely bleed
#: or hurt; ACK itches. With these, the questionnaire carries signal the image lacks
#: (assignment 05's image + clinical fusion).
PAD_SYMPTOM_TRUE = {
    "ACK": (0.65, 0.30, 0.07, 0.07, 0.15, 0.40),
    "BCC": (0.75, 0.60, 0.40, 0.15, 0.55, 0.75),
    "MEL": (0.15, 0.70, 0.03, 0.70, 0.05, 0.40),
    "NEV": (0.10, 0.50, 0.02, 0.12, 0.02, 0.55),
    "SCC": (0.75, 0.60, 0.25, 0.35, 0.25, 0.80),
    "SEK": (0.30, 0.40, 0.03, 0.03, 0.04, 0.75),
}
PAD_SYMPTOM_UNK = 0.05
#: Median lesion diameter (mm) by class; diameters are whole millimetres written as floats.
PAD_DIAMETER_MEDIAN = {"ACK": 6, "BCC": 9, "MEL": 10, "NEV": 5, "SCC": 12, "SEK": 8}
#: Share biopsied among non-cancers (every cancer is biopsied: the biopsed leak).
PAD_BIOPSY_BENIGN = {"ACK": 0.15, "NEV": 0.35, "SEK": 0.25}
