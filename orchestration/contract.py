"""The raw-data contract: the Tuva Project input layer, narrowed to the columns this pipeline reads.

One source of truth for the ingestion assets (which columns are required, how each is typed and how severe a gap
in it is), the sample-data generator (which columns it writes) and docs/data_contract.md (whose column tables
`columns_markdown` writes). Extra columns in a delivery are allowed and reported; a missing required column fails
the load.

Severity per column follows Tuva's input layer (models/input_layer/input_layer__<table>.yml declares a dbt test
severity per column): a gap at ERROR makes the line unusable, so it is quarantined; a gap at WARN is loaded and
counted per rule (raw.<table>__warnings). Where this contract is stricter than Tuva, `note` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT_DOC = "docs/data_contract.md"
TABLES = ("medical_claim", "eligibility", "observation", "provider")
# delimited text (.csv comma, .tsv tab, .psv pipe, .txt comma, tab or pipe), plain or compressed (gzip, Zstandard)
DELIMITED_FORMATS = (".csv", ".tsv", ".psv", ".txt")
FILE_FORMATS = (*(f"{t}{z}" for t in DELIMITED_FORMATS for z in ("", ".gz", ".zst")), ".parquet")
FILE_FORMATS_TEXT = ".csv, .tsv, .psv, .txt (each also .gz, .zst), .parquet"
MAX_DIAGNOSES = 25
MAX_MODIFIERS = 5
ERROR, WARN = "error", "warn"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type the loader casts to: VARCHAR, INTEGER, DATE, DECIMAL(p,s)
    required: bool = False  # the header must carry it: a file without the column fails
    if_empty: str | None = None  # ERROR: an empty value quarantines the line; WARN: loaded, counted; None: fine
    if_malformed: str = WARN  # a value that is not of the type (or code shape): ERROR quarantines the line;
    #                            WARN loads the line with this value NULL and counts it
    stands_in_for: str | None = None  # used only when that column is empty: its ERROR checks apply only then
    code_shape: str | None = None  # "hcpcs" or "icd10": the shape a code must have (ingest/rules.py)
    identifier: bool = False  # loaded without surrounding blanks (' 123' is person 123), blank as NULL; case kept
    aliases: tuple[str, ...] = ()  # older Tuva releases' names, accepted on read
    description: str = ""
    tuva: str = ""  # the severity Tuva's input layer declares for the column's value tests
    note: str = ""  # why this contract differs from Tuva, or what a gap costs

    def __post_init__(self) -> None:
        if self.identifier and self.type != "VARCHAR":
            raise ValueError(f"{self.name}: an identifier is text (VARCHAR), loaded as delivered less its padding")

    @property
    def checked(self) -> bool:
        """Whether a value can be malformed: typed columns and codes with a shape."""
        return self.type != "VARCHAR" or self.code_shape is not None


@dataclass(frozen=True)
class TableContract:
    name: str
    grain: str
    columns: tuple[Column, ...]
    optional_table: bool = False
    key: tuple[str, ...] = field(default_factory=tuple)
    # key columns that may be empty: NULL is then one value of its own (compared null-safe: `IS NOT DISTINCT
    # FROM`, and GROUP BY's one NULL group), e.g. the data_source of a claim line
    nullable_key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def required_key(self) -> list[str]:
        """The key columns a row cannot load without."""
        return [k for k in self.key if k not in self.nullable_key]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_V, _I, _D = "VARCHAR", "INTEGER", "DATE"
_MONEY, _QTY = "DECIMAL(18,2)", "DECIMAL(12,3)"

_KEY = "not_null: error"
_UNATTRIBUTABLE = "a line that belongs to nobody counts for no measure and no person count"

MEDICAL_CLAIM = TableContract(
    name="medical_claim",
    grain="one row per claim line: claim_id + claim_line_number + data_source (Tuva's primary key; an empty "
          "data_source is one source of its own)",
    key=("claim_id", "claim_line_number", "data_source"),
    nullable_key=("data_source",),
    columns=(
        Column("claim_id", _V, True, if_empty=ERROR, identifier=True, description="claim identifier", tuva=_KEY),
        Column("claim_line_number", _I, True, if_empty=ERROR, if_malformed=ERROR,
               description="line number within the claim", tuva=_KEY),
        Column("claim_type", _V, description="professional / institutional / undetermined",
               tuva="not_null, accepted_values: warn"),
        Column("person_id", _V, True, if_empty=ERROR, aliases=("patient_id",), identifier=True,
               description="person identifier (never published)", tuva="not_null: warn", note=_UNATTRIBUTABLE),
        Column("member_id", _V, identifier=True, description="payer member id (never published)"),
        Column("payer", _V, description="payer name as delivered; normalized in staging"),
        Column("plan", _V),
        Column("claim_start_date", _D, True, if_empty=ERROR, if_malformed=ERROR,
               stands_in_for="claim_line_start_date", description="ISO date",
               tuva="not_null, of type date: warn",
               note="the service date when claim_line_start_date is empty: every window is dated by it"),
        Column("claim_end_date", _D, tuva="not_null, of type date: warn"),
        Column("claim_line_start_date", _D, if_malformed=ERROR,
               description="service date of the line; claim_start_date when empty", tuva="of type date: warn",
               note="a line date that is not a date would silently move the line to the claim's start date"),
        Column("claim_line_end_date", _D, tuva="of type date: warn"),
        Column("place_of_service_code", _V, description="CMS place of service, 2 digits",
               tuva="not_null, length 2: warn", note="not counted: published as (unknown)"),
        Column("service_unit_quantity", _QTY),
        Column("hcpcs_code", _V, True, if_empty=WARN, code_shape="hcpcs",
               description="CPT / HCPCS Level II code, including quality-data codes",
               tuva="not_null, length 5: warn",
               note="institutional and DME lines often have none: the line still brings its diagnoses"),
        *(Column(f"hcpcs_modifier_{i}", _V) for i in range(1, MAX_MODIFIERS + 1)),
        Column("rendering_npi", _V, identifier=True, description="10-digit NPI with Luhn check digit"),
        Column("rendering_tin", _V, identifier=True, description="9-digit TIN of the rendering clinician's group",
               tuva="warn when 100% null"),
        Column("billing_npi", _V, identifier=True),
        Column("billing_tin", _V, identifier=True),
        Column("paid_amount", _MONEY, tuva="numeric: warn"),
        Column("allowed_amount", _MONEY, tuva="numeric: warn"),
        Column("charge_amount", _MONEY, tuva="numeric: warn"),
        Column("diagnosis_code_type", _V, description="icd-10-cm", tuva="accepted_values: warn"),
        Column("diagnosis_code_1", _V, True, if_empty=WARN, code_shape="icd10", description="ICD-10-CM, with or without the dot",
               tuva="ICD-10 pattern: warn; warn when 100% null",
               note="a line without a diagnosis still counts for its code"),
        *(Column(f"diagnosis_code_{i}", _V, code_shape="icd10", tuva="ICD-10 pattern: warn")
          for i in range(2, MAX_DIAGNOSES + 1)),
        Column("data_source", _V, description="the source system the line comes from; part of the line's key",
               tuva="unique with claim_id, claim_line_number: error",
               note="two sources may number their claims alike: a claim is (data_source, claim_id)"),
    ),
)

ELIGIBILITY = TableContract(
    name="eligibility",
    grain="one row per person and enrollment span",
    key=("person_id", "enrollment_start_date", "payer", "plan"),
    columns=(
        Column("person_id", _V, True, if_empty=ERROR, aliases=("patient_id",), identifier=True, tuva=_KEY),
        Column("member_id", _V, identifier=True),
        Column("gender", _V, description="male / female / unknown", tuva="not_null, accepted_values: warn"),
        Column("birth_date", _D, True, if_empty=WARN, tuva="not_null, of type date: warn",
               note="the span still gives the payer type; the person's age comes from another span or is unknown"),
        Column("death_date", _D, tuva="of type date: warn"),
        Column("enrollment_start_date", _D, tuva="of type date: warn"),
        Column("enrollment_end_date", _D, tuva="of type date: warn"),
        Column("payer", _V),
        Column("payer_type", _V, description="medicare / medicaid / commercial / self-pay ...",
               tuva="relationships: warn"),
        Column("plan", _V),
        Column("data_source", _V, description="the source system the line comes from; part of the line's key",
               tuva="unique with claim_id, claim_line_number: error",
               note="two sources may number their claims alike: a claim is (data_source, claim_id)"),
    ),
)

OBSERVATION = TableContract(
    name="observation",
    grain="one row per observation (a score on a date)",
    key=("observation_id",),
    columns=(
        Column("observation_id", _V, identifier=True, tuva="not_null, unique: error",
               note="optional here: scores from a registry often carry no id; a repeated id keeps its latest version"),
        Column("person_id", _V, True, if_empty=ERROR, aliases=("patient_id",), identifier=True, tuva="not_null: warn",
               note="a score of nobody pairs with nothing"),
        Column("encounter_id", _V, identifier=True),
        Column("observation_date", _D, True, if_empty=ERROR, if_malformed=ERROR,
               tuva="of type date: warn; warn when 100% null", note="an undated score falls in no window"),
        Column("observation_type", _V),
        Column("source_code_type", _V, description="loinc / local"),
        Column("source_code", _V, True, if_empty=ERROR, stands_in_for="normalized_code",
               description="LOINC 72514-3, 38214-3, ODI, or local FOTO codes", tuva="warn when 100% null",
               note="the code when normalized_code is empty; a line with neither says nothing"),
        Column("source_description", _V),
        Column("normalized_code_type", _V),
        Column("normalized_code", _V, description="preferred over source_code when present"),
        Column("normalized_description", _V),
        Column("result", _V, True, if_empty=WARN,
               description="the score, as text; numeric for the instruments used", tuva="warn when 100% null",
               note="an instrument's result that is not a number, or outside the range, is quarantined"),
        Column("source_units", _V),
        Column("normalized_units", _V),
        Column("data_source", _V, description="the source system the line comes from; part of the line's key",
               tuva="unique with claim_id, claim_line_number: error",
               note="two sources may number their claims alike: a claim is (data_source, claim_id)"),
    ),
)

PROVIDER = TableContract(
    name="provider",
    grain="one row per NPI",
    key=("npi",),
    optional_table=True,
    columns=(
        Column("npi", _V, True, if_empty=ERROR, identifier=True),
        Column("primary_taxonomy_code", _V, True, if_empty=ERROR, aliases=("taxonomy_code",),
               description="NUCC code", note="the row's only use is the NPI's taxonomy"),
        Column("provider_organization_name", _V),
        Column("tin", _V, identifier=True),
    ),
)

CONTRACTS: dict[str, TableContract] = {
    t.name: t for t in (MEDICAL_CLAIM, ELIGIBILITY, OBSERVATION, PROVIDER)
}


def _severity(column: Column) -> str:
    parts = []
    if column.if_empty:
        parts.append(f"empty: {column.if_empty}")
    if column.checked:
        parts.append(f"malformed: {column.if_malformed}")
    text = ", ".join(parts) or "-"
    if column.stands_in_for:
        text += f" while `{column.stands_in_for}` is empty" + ("; else malformed: warn" if column.checked else "")
    return text


COLUMNS_INTRO = """## Columns

`severity`: what an empty or a malformed value (not of the type, or not of the code's shape) does: `error`
quarantines the line, `warn` loads it (a malformed value as NULL) and records the gap; `-` means no rule.
`Tuva declares`: the severity of the column's value tests in Tuva's input layer."""


def columns_section() -> str:
    """The "## Columns" section of docs/data_contract.md (tests/test_data_contract_doc.py keeps them equal)."""
    parts = [COLUMNS_INTRO]
    for contract in CONTRACTS.values():
        optional = " (optional table)" if contract.optional_table else ""
        parts.append(f"### `{contract.name}`{optional}\n\nGrain: {contract.grain}. Key: {', '.join(contract.key)}."
                     f"\n\n{columns_markdown(contract)}")
    return "\n\n".join(parts) + "\n"


def columns_markdown(contract: TableContract) -> str:
    """The column table of one table."""
    lines = [
        "| column | type | in header | severity | Tuva declares | also accepted as | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in contract.columns:
        text = "; ".join(t for t in (c.description, c.note) if t)
        aliases = ", ".join(f"`{a}`" for a in c.aliases)
        lines.append(f"| `{c.name}` | {c.type} | {'required' if c.required else ''} | {_severity(c)} "
                     f"| {c.tuva} | {aliases} | {text} |")
    return "\n".join(lines)
