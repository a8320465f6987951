"""Code lists the generator draws from. They describe the synthetic world, not the measure rules: the
pipeline's value sets live in dbt seeds, and the tests compare the two only through the outcomes."""

from __future__ import annotations

import numpy as np

# Low back impairment diagnoses (ICD-10-CM FY2026, billable leaves, without the dot).
LOW_BACK_DX = np.array([
    "M5450", "M5451", "M5459", "M5126", "M5127", "M51369", "M51370", "M48061", "M48062",
    "M47816", "M47817", "M5416", "M5417", "M4316", "M5441", "M5442",
])
# Weights favour non-specific low back pain, as in primary care.
LOW_BACK_DX_P = np.array([18, 4, 8, 10, 6, 5, 3, 8, 5, 7, 4, 6, 3, 2, 5, 6], dtype=float)

# Comorbidity categories of the risk model (truth.py) with one or two billable codes each.
COMORBIDITY_DX = {
    "diabetes": ("E119", "E1165"),
    "hypertension": ("I10", "I119"),
    "obesity": ("E669", "E6601"),
    "depression": ("F32A", "F331"),
    "anxiety": ("F411", "F419"),
    "copd": ("J449",),
    "osteoarthritis": ("M1711", "M1990"),
    "osteoporosis": ("M810",),
    "heart_failure": ("I509",),
}
COMORBIDITY_PREVALENCE = np.array([0.14, 0.30, 0.12, 0.09, 0.09, 0.05, 0.12, 0.05, 0.03])

# Diagnoses of routine care that are neither low back nor a comorbidity category.
OTHER_DX = np.array(["Z0000", "J069", "K219", "E785", "R059", "N390", "M25561", "L309", "H109", "Z23", "M542"])

# Lumbar exclusions of measure 459: fracture, osteomyelitis / discitis, scoliosis, metastasis.
LUMBAR_EXCLUSION_DX = np.array(["S32010A", "S32001A", "M4626", "M4646", "M4126", "M4186", "C7951"])
# Degenerative neurological conditions (measure 220 exclusion M1122).
NEURO_DX = np.array(["G35", "G20A1", "G1221", "G35A"])
# Secondary diagnoses a therapist adds to low back visits.
PT_SECONDARY_DX = np.array(["M6281", "R2689"])

DECOMPRESSION_CPT = np.array(["63030", "63047", "63042", "63005", "63056"])
DECOMPRESSION_ADDON = {"63047": "63048", "63030": "63035"}
FUSION_CPT = np.array(["22612", "22630", "22633", "22558"])
FUSION_ADDON = {"22612": "22614", "22633": "22634"}

PT_EVAL_CPT = np.array(["97161", "97162", "97163"])
PT_EVAL_P = np.array([0.4, 0.4, 0.2])
PT_TREATMENT_CPT = np.array(["97110", "97140", "97530", "97112"])
NEW_EM = np.array(["99202", "99203", "99204", "99205"])
EST_EM = np.array(["99212", "99213", "99214", "99215"])
EST_EM_P = np.array([0.1, 0.5, 0.35, 0.05])
LAB_CPT = np.array(["36415", "80053", "85025", "83036", "80061"])
IMAGING_CPT = np.array(["72100", "72148"])
INJECTION_CPT = np.array(["62323", "64483"])
CHIRO_CPT = np.array(["98940", "98941"])

# Typical charges (USD per unit) of a mid-size practice; quality-data codes are billed at zero.
FEE = {
    "99202": 150, "99203": 210, "99204": 320, "99205": 420, "99212": 110, "99213": 160, "99214": 235,
    "99215": 320, "99024": 0, "97161": 180, "97162": 185, "97163": 205, "97164": 120, "97110": 62,
    "97140": 58, "97530": 66, "97112": 63, "72100": 120, "72148": 1150, "63030": 5200, "63035": 1300,
    "63047": 6800, "63048": 1400, "63042": 6100, "63005": 5600, "63056": 7200, "22612": 9800,
    "22614": 2600, "22630": 10500, "22633": 12800, "22634": 3300, "22558": 9900, "62323": 950,
    "64483": 1100, "98940": 60, "98941": 78, "36415": 12, "80053": 48, "85025": 27, "83036": 42,
    "80061": 52, "90686": 42, "G0008": 30,
}
DEFAULT_FEE = 100.0

PAYER_TYPES = np.array(["medicare", "medicare_advantage", "commercial", "medicaid", "self_pay"])
# Eligibility payer per payer type (commercial splits over four carriers).
COMMERCIAL_PAYERS = np.array(["Aetna", "Blue Cross Blue Shield", "Cigna", "UnitedHealthcare"])
COMMERCIAL_P = np.array([0.22, 0.34, 0.16, 0.28])
ELIGIBILITY_PAYER = {
    "medicare": "Medicare", "medicare_advantage": "Medicare Advantage", "medicaid": "Medicaid",
    "self_pay": "Self-Pay",
}
PLANS = {
    "Medicare": ("Medicare Part B",), "Medicare Advantage": ("Aetna Medicare Advantage PPO", "UHC Medicare Advantage HMO"),
    "Medicaid": ("State Medicaid Managed Care",), "Self-Pay": ("Self-Pay",),
    "Aetna": ("Aetna Choice POS II", "Aetna HMO"), "Blue Cross Blue Shield": ("BCBS PPO", "Blue Choice HMO"),
    "Cigna": ("Cigna Open Access Plus",), "UnitedHealthcare": ("UHC Choice Plus", "UHC Navigate HMO"),
}
# How the same payer is spelt on claims from different clearinghouses.
CLAIM_PAYER_SPELLINGS = {
    "Medicare": ("Medicare", "MEDICARE", "Medicare Part B", "CMS Medicare"),
    "Medicare Advantage": ("Medicare Advantage", "MEDICARE ADVANTAGE", "Medicare Adv"),
    "Medicaid": ("Medicaid", "MEDICAID", "State Medicaid"),
    "Self-Pay": ("Self-Pay", "Self Pay", "SELF PAY"),
    "Aetna": ("Aetna", "AETNA", "Aetna Inc."),
    "Blue Cross Blue Shield": ("Blue Cross Blue Shield", "BCBS", "Blue Cross & Blue Shield", "BLUE CROSS BLUE SHIELD"),
    "Cigna": ("Cigna", "CIGNA", "Cigna Healthcare"),
    "UnitedHealthcare": ("UnitedHealthcare", "UHC", "United Healthcare", "UNITED HEALTHCARE"),
}
# allowed / charge and paid / allowed by payer type
ALLOWED_RATIO = {"medicare": 0.42, "medicare_advantage": 0.45, "commercial": 0.62, "medicaid": 0.33, "self_pay": 0.55}
PAID_RATIO = {"medicare": 0.80, "medicare_advantage": 0.85, "commercial": 0.78, "medicaid": 0.95, "self_pay": 0.0}

# Instruments (codes as in dbt_project/seeds/instruments.csv).
BACK_PAIN_NRS, BACK_PAIN_VAS = "72514-3", "38214-3"
LEG_PAIN, ODI = "LEG-PAIN-NRS", "97909-6"
FS, FS_PREDICTED = "FOTO-LUMBAR-FS", "FOTO-LUMBAR-FS-PRED"
