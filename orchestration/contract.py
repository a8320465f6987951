"""The raw-data contract: the Tuva Project input layer, narrowed to the columns this pipeline reads.

One source of truth for the ingestion assets (which columns are required, how each is typed), the
sample-data generator (which columns it writes) and docs/data_contract.md (which describes them).
Extra columns in a delivery are allowed and reported; a missing required column fails the load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT_DOC = "docs/data_contract.md"
TABLES = ("medical_claim", "eligibility", "observation", "provider")
FILE_FORMATS = (".csv", ".csv.gz", ".csv.zst", ".parquet")  # compressed CSV: gzip, Zstandard
MAX_DIAGNOSES = 25
MAX_MODIFIERS = 5


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type the loader casts to: VARCHAR, INTEGER, DATE, DECIMAL(p,s)
    required: bool = False
    aliases: tuple[str, ...] = ()  # older Tuva releases' names, accepted on read
    description: str = ""


@dataclass(frozen=True)
class TableContract:
    name: str
    grain: str
    columns: tuple[Column, ...]
    optional_table: bool = False
    key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_V, _I, _D = "VARCHAR", "INTEGER", "DATE"
_MONEY, _QTY = "DECIMAL(18,2)", "DECIMAL(12,3)"

MEDICAL_CLAIM = TableContract(
    name="medical_claim",
    grain="one row per claim line: claim_id + claim_line_number (+ data_source)",
    key=("claim_id", "claim_line_number"),
    columns=(
        Column("claim_id", _V, True, description="claim identifier"),
        Column("claim_line_number", _I, True, description="line number within the claim"),
        Column("claim_type", _V, description="professional / institutional / undetermined"),
        Column("person_id", _V, True, aliases=("patient_id",), description="person identifier (never published)"),
        Column("member_id", _V, description="payer member id (never published)"),
        Column("payer", _V, description="payer name as delivered; normalized in staging"),
        Column("plan", _V),
        Column("claim_start_date", _D, True, description="ISO date"),
        Column("claim_end_date", _D),
        Column("claim_line_start_date", _D, description="service date of the line; claim_start_date when empty"),
        Column("claim_line_end_date", _D),
        Column("place_of_service_code", _V, description="CMS place of service, 2 digits"),
        Column("service_unit_quantity", _QTY),
        Column("hcpcs_code", _V, True, description="CPT / HCPCS Level II code, including quality-data codes"),
        *(Column(f"hcpcs_modifier_{i}", _V) for i in range(1, MAX_MODIFIERS + 1)),
        Column("rendering_npi", _V, description="10-digit NPI with Luhn check digit"),
        Column("rendering_tin", _V, description="9-digit TIN of the rendering clinician's group"),
        Column("billing_npi", _V),
        Column("billing_tin", _V),
        Column("paid_amount", _MONEY),
        Column("allowed_amount", _MONEY),
        Column("charge_amount", _MONEY),
        Column("diagnosis_code_type", _V, description="icd-10-cm"),
        Column("diagnosis_code_1", _V, True, description="ICD-10-CM, with or without the dot"),
        *(Column(f"diagnosis_code_{i}", _V) for i in range(2, MAX_DIAGNOSES + 1)),
        Column("data_source", _V),
    ),
)

ELIGIBILITY = TableContract(
    name="eligibility",
    grain="one row per person and enrollment span",
    key=("person_id", "enrollment_start_date", "payer", "plan"),
    columns=(
        Column("person_id", _V, True, aliases=("patient_id",)),
        Column("member_id", _V),
        Column("gender", _V, description="male / female / unknown"),
        Column("birth_date", _D, True),
        Column("death_date", _D),
        Column("enrollment_start_date", _D),
        Column("enrollment_end_date", _D),
        Column("payer", _V),
        Column("payer_type", _V, description="medicare / medicaid / commercial / self-pay ..."),
        Column("plan", _V),
        Column("data_source", _V),
    ),
)

OBSERVATION = TableContract(
    name="observation",
    grain="one row per observation (a score on a date)",
    key=("observation_id",),
    columns=(
        Column("observation_id", _V),
        Column("person_id", _V, True, aliases=("patient_id",)),
        Column("encounter_id", _V),
        Column("observation_date", _D, True),
        Column("observation_type", _V),
        Column("source_code_type", _V, description="loinc / local"),
        Column("source_code", _V, True, description="LOINC 72514-3, 38214-3, ODI, or local FOTO codes"),
        Column("source_description", _V),
        Column("normalized_code_type", _V),
        Column("normalized_code", _V, description="preferred over source_code when present"),
        Column("normalized_description", _V),
        Column("result", _V, True, description="the score, as text; numeric for the instruments used"),
        Column("source_units", _V),
        Column("normalized_units", _V),
        Column("data_source", _V),
    ),
)

PROVIDER = TableContract(
    name="provider",
    grain="one row per NPI",
    key=("npi",),
    optional_table=True,
    columns=(
        Column("npi", _V, True),
        Column("primary_taxonomy_code", _V, True, aliases=("taxonomy_code",), description="NUCC code"),
        Column("provider_organization_name", _V),
        Column("tin", _V),
    ),
)

CONTRACTS: dict[str, TableContract] = {
    t.name: t for t in (MEDICAL_CLAIM, ELIGIBILITY, OBSERVATION, PROVIDER)
}
