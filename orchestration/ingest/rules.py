"""Row rules: the SQL that decides, for every delivered row, whether it loads typed or is quarantined.

Each rule yields a (rule, reason) struct when a row breaks it; a row with any failure goes to quarantine under
its first rule (the order below), with every reason listed. Rules run in DuckDB over the VARCHAR stage table.
"""

from __future__ import annotations

import duckdb

from orchestration.contract import TableContract
from orchestration.settings import SEEDS_DIR

INSTRUMENTS_SEED = SEEDS_DIR / "instruments.csv"
INSTRUMENTS_TABLE = "_ingest_instruments"

# Order = priority of the rule that names a quarantined row.
RULES = (
    "duplicate_line",
    "missing_key",
    "bad_date",
    "bad_number",
    "unknown_code_format",
    "non_numeric_score",
    "score_out_of_range",
)
# CSV rejects reported by DuckDB's reader, by its error type.
REJECT_RULES = {
    "MISSING COLUMNS": "too_few_columns",
    "TOO MANY COLUMNS": "too_many_columns",
    "INVALID ENCODING": "invalid_utf8",
    "UNQUOTED VALUE": "malformed_quoting",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}
MALFORMED_RULE = "malformed_line"

ISO_DATE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
HCPCS_SHAPE = r"^[A-Za-z0-9]{5}$"
# ICD-10-CM: letter, digit, alphanumeric, then up to 4 alphanumerics after an optional dot.
ICD10_SHAPE = r"^[A-Za-z][0-9][A-Za-z0-9](\.?[A-Za-z0-9]{1,4})?$"
SCORE_TYPE = "DECIMAL(9,3)"  # the type staging gives scores


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _present(col: str) -> str:
    return f"nullif(trim({q(col)}), '') IS NOT NULL"


def typed_expr(col: str, duck_type: str) -> str:
    """The typed value of a delivered VARCHAR (NULL when empty; rules have already rejected bad values)."""
    value = f"nullif(trim({q(col)}), '')"
    if duck_type == "VARCHAR":
        return q(col)
    if duck_type == "DATE":
        return f"try_cast(left({value}, 10) AS DATE)"
    return f"try_cast({value} AS {duck_type})"


def _failure(rule: str, condition: str, reason_sql: str) -> str:
    return f"CASE WHEN {condition} THEN {{'rule': '{rule}', 'reason': {reason_sql}}} END"


def _value_reason(col: str, message: str) -> str:
    return f"'{col} ' || chr(39) || {q(col)} || chr(39) || ' {message}'"


def _column_failures(contract: TableContract) -> list[str]:
    out: list[str] = []
    for col in contract.required:
        out.append(_failure("missing_key", f"NOT ({_present(col)})", f"'required column {col} is empty'"))
    for c in contract.columns:
        if c.type == "DATE":
            bad = f"{_present(c.name)} AND NOT (regexp_full_match(trim({q(c.name)}), '{ISO_DATE}') " \
                  f"AND {typed_expr(c.name, 'DATE')} IS NOT NULL)"
            out.append(_failure("bad_date", bad, _value_reason(c.name, "is not an ISO date (YYYY-MM-DD)")))
        elif c.type != "VARCHAR":
            bad = f"{_present(c.name)} AND {typed_expr(c.name, c.type)} IS NULL"
            out.append(_failure("bad_number", bad, _value_reason(c.name, f"is not a number fitting {c.type}")))
    out += _code_failures(contract)
    return out


def _code_failures(contract: TableContract) -> list[str]:
    out: list[str] = []
    names = set(contract.names)
    if "hcpcs_code" in names:
        bad = f"{_present('hcpcs_code')} AND NOT regexp_full_match(trim(hcpcs_code), '{HCPCS_SHAPE}')"
        out.append(_failure("unknown_code_format", bad, _value_reason("hcpcs_code", "is not 5 alphanumerics")))
    dx_cols = [n for n in contract.names if n.startswith("diagnosis_code_") and n != "diagnosis_code_type"]
    # ICD-9 rows (older Tuva deliveries) are kept: the ICD-10 shape does not apply to them.
    icd10_row = "coalesce(lower(trim(diagnosis_code_type)), 'icd-10-cm') NOT LIKE 'icd-9%'"
    for col in dx_cols:
        bad = f"{icd10_row} AND {_present(col)} AND NOT regexp_full_match(trim({q(col)}), '{ICD10_SHAPE}')"
        out.append(_failure("unknown_code_format", bad, _value_reason(col, "does not have the ICD-10-CM shape")))
    return out


def _score_failures() -> list[str]:
    score = f"try_cast(trim(result) AS {SCORE_TYPE})"
    instrument_row = "_instr.instrument IS NOT NULL AND nullif(trim(result), '') IS NOT NULL"
    return [
        _failure("non_numeric_score", f"{instrument_row} AND {score} IS NULL",
                 "'result ' || chr(39) || result || chr(39) || ' is not a numeric ' || _instr.instrument || ' score'"),
        _failure("score_out_of_range",
                 f"{instrument_row} AND ({score} < _instr.min_score OR {score} > _instr.max_score)",
                 "'result ' || trim(result) || ' is outside ' || _instr.instrument || ' range ' "
                 "|| _instr.min_score || '..' || _instr.max_score"),
    ]


def load_instruments(con: duckdb.DuckDBPyConnection) -> None:
    """The instrument ranges come from the dbt seed, so the quarantine and the models share one source."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {INSTRUMENTS_TABLE} AS "
        f"SELECT upper(trim(code)) AS code, instrument, min_score::{SCORE_TYPE} AS min_score, "
        f"max_score::{SCORE_TYPE} AS max_score FROM read_csv(?, header = true, all_varchar = true)",
        [str(INSTRUMENTS_SEED)],
    )


def failures_query(contract: TableContract, stage: str) -> str:
    """SELECT lineage, raw_record and the list of failures of every stage row."""
    cols = ", ".join(q(n) for n in contract.names)
    failures = [
        _failure("duplicate_line", "_dup_rank > 1", "'exact duplicate of an earlier line of this delivery'"),
        *_column_failures(contract),
    ]
    join = ""
    if contract.name == "observation":
        failures += _score_failures()
        join = (f"LEFT JOIN {INSTRUMENTS_TABLE} AS _instr ON _instr.code = "
                "upper(trim(coalesce(nullif(trim(normalized_code), ''), source_code)))")
    ordered = [f for rule in RULES for f in failures if f"'rule': '{rule}'" in f]
    return f"""
        SELECT _s._source_file, _s._file_hash, _s._line_number, _s.raw_record,
               list_filter([{', '.join(ordered)}], lambda f: f IS NOT NULL) AS failures
        FROM (
            SELECT *, row_number() OVER (PARTITION BY {cols} ORDER BY _source_file, _line_number) AS _dup_rank
            FROM {stage}
        ) AS _s
        {join}
    """
