"""Build dbt_project/seeds/exclusion_diagnoses_lumbar.csv: the lumbar-spine denominator exclusion of MIPS
459/461/471 (G9945) expanded from ICD-10-CM categories to billable codes.

The categories below are the project's reading of the G9945 descriptor ("cancer, acute fracture or infection
related to the lumbar spine, or neuromuscular, idiopathic or congenital lumbar scoliosis"); the expansion uses
the CMS code set shipped in simple_icd_10_cm so that every billable child of a category is listed. Run it again
after a new ICD-10-CM release (and commit the output):  .venv/bin/python scripts/build_value_sets.py
"""

from __future__ import annotations

import csv
from importlib.metadata import version
from pathlib import Path

import simple_icd_10_cm as icd

OUTPUT = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "exclusion_diagnoses_lumbar.csv"
VALUE_SET = "lumbar_spine_exclusion"
SOURCE = "G9945 descriptor (CMS HCPCS 2026) read as ICD-10-CM categories; project choice (2026)"
# The performance years the value set applies to (459's first performance year, open-ended): a new reading for
# a later year is a second run with other categories and these two set, its rows appended.
PERFORMANCE_YEAR_FROM = 2018
PERFORMANCE_YEAR_TO = ""

# (category, exclusion group, seventh characters to keep or None for all): lumbar (x6) and lumbosacral (x7)
# subcategories only, so that a cervical or thoracic condition does not exclude a lumbar case.
CATEGORIES: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("C41.2", "malignancy", None),       # malignant neoplasm of vertebral column
    ("C79.51", "malignancy", None),      # secondary malignant neoplasm of bone (metastasis)
    ("C72.0", "malignancy", None),       # spinal cord
    ("C72.1", "malignancy", None),       # cauda equina
    ("C70.1", "malignancy", None),       # spinal meninges
    # "acute" fracture: initial encounters only (A closed, B open); D/G/K/S are later encounters and sequelae
    ("S32.0", "fracture", ("A", "B")),   # fracture of lumbar vertebra
    ("M48.56", "fracture", ("A",)),      # collapsed vertebra NEC, lumbar
    ("M48.57", "fracture", ("A",)),      # collapsed vertebra NEC, lumbosacral
    ("M46.26", "infection", None),       # osteomyelitis of vertebra, lumbar
    ("M46.27", "infection", None),
    ("M46.36", "infection", None),       # infection of intervertebral disc (pyogenic), lumbar
    ("M46.37", "infection", None),
    ("M46.46", "infection", None),       # discitis, unspecified, lumbar
    ("M46.47", "infection", None),
    ("M46.56", "infection", None),       # other infective spondylopathies, lumbar
    ("M46.57", "infection", None),
    ("M41.06", "scoliosis", None),       # infantile idiopathic
    ("M41.07", "scoliosis", None),
    ("M41.116", "scoliosis", None),      # juvenile idiopathic
    ("M41.117", "scoliosis", None),
    ("M41.126", "scoliosis", None),      # adolescent idiopathic
    ("M41.127", "scoliosis", None),
    ("M41.26", "scoliosis", None),       # other idiopathic
    ("M41.27", "scoliosis", None),
    ("M41.46", "scoliosis", None),       # neuromuscular
    ("M41.47", "scoliosis", None),
    ("M41.56", "scoliosis", None),       # other secondary
    ("M41.57", "scoliosis", None),
    ("M41.86", "scoliosis", None),       # other forms
    ("M41.87", "scoliosis", None),
    ("Q76.3", "scoliosis", None),        # congenital scoliosis due to congenital bony malformation
    ("Q67.5", "scoliosis", None),        # congenital deformity of spine (congenital postural scoliosis)
)


def billable_codes(category: str, seventh: tuple[str, ...] | None) -> list[str]:
    if not icd.is_valid_item(category):
        raise ValueError(f"{category} is not in ICD-10-CM {version('simple_icd_10_cm')}")
    codes = [category] if icd.is_leaf(category) else [c for c in icd.get_descendants(category) if icd.is_leaf(c)]
    if seventh is not None:
        codes = [c for c in codes if len(icd.remove_dot(c)) == 7 and icd.remove_dot(c)[-1] in seventh]
    if not codes:
        raise ValueError(f"{category} expands to no billable code")
    return codes


def main() -> None:
    release = f"ICD-10-CM via simple_icd_10_cm {version('simple_icd_10_cm')}"
    rows = []
    for category, group, seventh in CATEGORIES:
        for code in billable_codes(category, seventh):
            rows.append((VALUE_SET, icd.remove_dot(code), category, group, icd.get_description(code),
                         PERFORMANCE_YEAR_FROM, PERFORMANCE_YEAR_TO, release, SOURCE))
    with OUTPUT.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("value_set", "diagnosis_code", "category", "exclusion_group", "description",
                         "performance_year_from", "performance_year_to", "icd10_release", "source"))
        writer.writerows(sorted(set(rows)))
    print(f"{len(rows)} codes -> {OUTPUT}")


if __name__ == "__main__":
    main()
