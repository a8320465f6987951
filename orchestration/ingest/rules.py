"""Row rules: the SQL that decides, for every delivered row, whether it loads typed or is quarantined.

Each rule is a condition, a severity (the contract column's, orchestration/contract.py) and a readable reason.
A row breaking an ERROR rule goes to quarantine under its first such rule (the order below), with every reason
listed; a row breaking only WARN rules is loaded (a malformed value as NULL) and each gap is recorded in
raw.<table>__warnings. Rules run over the VARCHAR stage table, in DuckDB or in Spark SQL (WAREHOUSE=spark): the
same conditions, written once; `Dialect` says how each engine spells the few constructs they do not share
(identifier quotes, regular expressions, lists, structs and lambdas). `conflicting_versions` is judged last,
among the rows that break no ERROR rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.contract import ERROR, WARN, Column, TableContract
from orchestration.settings import SEEDS_DIR

INSTRUMENTS_SEED = SEEDS_DIR / "instruments.csv"
INSTRUMENTS_TABLE = "_ingest_instruments"

# Order = priority of the rule that names a quarantined row; WARN-level empties are `missing_<column>`, after these.
RULES = (
    "duplicate_line",
    "control_character",
    "missing_key",
    "bad_date",
    "bad_number",
    "unknown_code_format",
    "non_numeric_score",
    "score_out_of_range",
    "score_precision",
    "conflicting_versions",
)
# The rules of a value that is present but not of its column's type or shape: at WARN it loads as NULL.
MALFORMED_RULES = ("bad_date", "bad_number", "unknown_code_format")
# CSV rejects reported by DuckDB's reader, by its error type.
REJECT_RULES = {
    "MISSING COLUMNS": "too_few_columns",
    "TOO MANY COLUMNS": "too_many_columns",
    "INVALID ENCODING": "invalid_utf8",
    "UNQUOTED VALUE": "malformed_quoting",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}
MALFORMED_RULE = "malformed_line"

# A time part and a zone are allowed and dropped: Z, UTC or an offset, after a blank or not (PostgreSQL writes
# `+00`, BigQuery ` UTC`, Snowflake ` -0800`).
ISO_DATE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?(Z|UTC|[+-]\d{2}(:?\d{2})?)?)?$"
HCPCS_SHAPE = r"^[A-Za-z0-9]{5}$"
# ICD-10-CM: letter, digit, alphanumeric, then up to 4 alphanumerics after an optional dot.
ICD10_SHAPE = r"^[A-Za-z][0-9][A-Za-z0-9](\.?[A-Za-z0-9]{1,4})?$"
SCORE_DECIMALS = 3
SCORE_TYPE = f"DECIMAL(9,{SCORE_DECIMALS})"  # the type staging gives scores
# A number followed by a unit word or a percent sign ('7 points', '45%'): a score, as staging's parse_score macro
# (dbt_project/macros/parse_score.sql) reads it, so the quarantine judges the value the measures would use.
SCORE_WITH_UNIT = r"^\s*([+-]?[0-9]+(\.[0-9]+)?)\s*(%|[A-Za-z]+\.?)\s*$"
CODE_SHAPES = {"hcpcs": (HCPCS_SHAPE, "is not 5 alphanumerics"),
               "icd10": (ICD10_SHAPE, "does not have the ICD-10-CM shape")}
INTEGER_TYPES = ("INTEGER", "BIGINT", "SMALLINT")
# A whole number; a zero fraction (`2.0`, as spreadsheet and pandas exports write integers) is the same number.
# `1.5`, `1.4` and `1e3` are not, where a cast would round them or read them as exponents.
INTEGER_TEXT = r"^[+-]?[0-9]+(\.0*)?$"
# C0 control characters but tab, line feed and carriage return (legal inside quoted CSV values), and DEL.
CONTROL_CHARACTER = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"


@dataclass(frozen=True)
class Dialect:
    """How DuckDB and Spark SQL spell what the rules need. Regular expressions stick to the syntax both engines
    (RE2, Java) read; Spark gets them as raw literals (r'...') so that backslashes reach the engine."""

    name: str

    @property
    def spark(self) -> bool:
        return self.name == "spark"

    def q(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`" if self.spark else q(name)

    def regex(self, pattern: str) -> str:
        return f"r'{pattern}'" if self.spark else f"'{pattern}'"

    def full_match(self, value: str, pattern: str) -> str:
        """`pattern` is anchored (^...$): a partial match of an anchored pattern is a full match."""
        return f"({value} RLIKE {self.regex(pattern)})" if self.spark else f"regexp_full_match({value}, '{pattern}')"

    def contains_match(self, value: str, pattern: str) -> str:
        return f"({value} RLIKE {self.regex(pattern)})" if self.spark else f"regexp_matches({value}, '{pattern}')"

    def struct(self, fields: dict[str, str]) -> str:
        if self.spark:
            return "named_struct(" + ", ".join(f"'{k}', {v}" for k, v in fields.items()) + ")"
        return "{" + ", ".join(f"'{k}': {v}" for k, v in fields.items()) + "}"

    def array(self, items: list[str]) -> str:
        return f"array({', '.join(items)})" if self.spark else f"[{', '.join(items)}]"

    def filter(self, array: str, var: str, condition: str) -> str:
        return f"filter({array}, {var} -> {condition})" if self.spark else \
            f"list_filter({array}, lambda {var}: {condition})"

    def transform(self, array: str, var: str, expression: str) -> str:
        return f"transform({array}, {var} -> {expression})" if self.spark else \
            f"list_transform({array}, lambda {var}: {expression})"

    def join(self, array: str, separator: str) -> str:
        return f"array_join({array}, '{separator}')" if self.spark else f"array_to_string({array}, '{separator}')"

    def first(self, array: str) -> str:
        return f"{array}[0]" if self.spark else f"{array}[1]"

    def contains(self, array: str, value: str) -> str:
        return f"array_contains({array}, {value})" if self.spark else f"list_contains({array}, {value})"

    def row_hash(self, columns: str) -> str:
        return f"xxhash64({columns})" if self.spark else f"hash({columns})"

    def concat_skipping_nulls(self, values: list[str]) -> str:
        return f"concat_ws('', {', '.join(values)})" if self.spark else f"concat({', '.join(values)})"

    def record_json(self, names: list[str]) -> str:
        """The delivered row as JSON text, empty columns included."""
        if self.spark:
            pairs = ", ".join(f"'{n}', {self.q(n)}" for n in names)
            return f"to_json(named_struct({pairs}), map('ignoreNullFields', 'false'))"
        return f"CAST(to_json(struct_pack({', '.join(f'{q(n)} := {q(n)}' for n in names)})) AS VARCHAR)"

    @property
    def materialized(self) -> str:
        """A CTE computed once (Spark plans a CTE once per reference: the loader caches the findings instead)."""
        return "" if self.spark else "MATERIALIZED"

    @property
    def text(self) -> str:
        return "STRING" if self.spark else "VARCHAR"

    def type(self, duck_type: str) -> str:
        return {"VARCHAR": "STRING", "INTEGER": "INT"}.get(duck_type, duck_type) if self.spark else duck_type


DUCKDB, SPARK = Dialect("duckdb"), Dialect("spark")


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _present(col: str, d: Dialect = DUCKDB) -> str:
    return f"({d.q(col)} IS NOT NULL AND trim({d.q(col)}) <> '')"


# Each "breaks" condition tests the untrimmed value first: almost every value passes that cheap test, so the
# trim() and regular expressions of the slow path are only paid by the few that do not.
def _breaks_pattern(col: str, pattern: str, d: Dialect = DUCKDB) -> str:
    return (f"NOT coalesce({d.full_match(d.q(col), pattern)}, false) AND {_present(col, d)} "
            f"AND NOT {d.full_match(f'trim({d.q(col)})', pattern)}")


def _breaks_date(col: str, d: Dialect = DUCKDB) -> str:
    plain = f"coalesce({d.q(col)} LIKE '____-__-__' AND try_cast({d.q(col)} AS DATE) IS NOT NULL, false)"
    iso = f"{d.full_match(f'trim({d.q(col)})', ISO_DATE)} AND {typed_expr(col, 'DATE', d)} IS NOT NULL"
    return f"NOT {plain} AND {_present(col, d)} AND NOT ({iso})"


def _breaks_number(col: str, duck_type: str, d: Dialect = DUCKDB) -> str:
    return (f"try_cast({d.q(col)} AS {d.type(duck_type)}) IS NULL AND {_present(col, d)} "
            f"AND {typed_expr(col, duck_type, d)} IS NULL")


def _breaks_integer(col: str, duck_type: str, d: Dialect = DUCKDB) -> str:
    return (f"NOT coalesce({d.full_match(d.q(col), INTEGER_TEXT)} AND {typed_expr(col, duck_type, d, trim=False)} "
            f"IS NOT NULL, false) AND {_present(col, d)} AND NOT coalesce("
            f"{d.full_match(f'trim({d.q(col)})', INTEGER_TEXT)} AND {typed_expr(col, duck_type, d)} IS NOT NULL, false)")


def _strict_typed(c: Column, d: Dialect = DUCKDB) -> str:
    """The typed value a row loads with, NULL where the value breaks its rule (so it never joins a key)."""
    if c.type in INTEGER_TYPES:
        return (f"CASE WHEN {d.full_match(f'trim({d.q(c.name)})', INTEGER_TEXT)} "
                f"THEN {typed_expr(c.name, c.type, d)} END")
    return loaded_expr(c, d)


def loaded_expr(c: Column, d: Dialect = DUCKDB) -> str:
    """The value a column loads with: typed; an identifier without surrounding blanks (a CSV's padding is no part
    of it: ' 123' and '123' are one person), a blank one NULL (no id), its case kept."""
    return _compared(c, d) if c.identifier else typed_expr(c.name, c.type, d)


def _compared(c: Column, d: Dialect, alias: str = "") -> str:
    """A delivered value as rows are compared for exact copies and versions, and an identifier as it loads:
    without its padding."""
    value = f"{alias}{d.q(c.name)}"
    return f"nullif(trim({value}), '')" if c.identifier else value


def typed_expr(col: str, duck_type: str, d: Dialect = DUCKDB, trim: bool = True) -> str:
    """The typed value of a delivered VARCHAR (NULL when empty; rules have already rejected bad values)."""
    value = f"nullif(trim({d.q(col)}), '')" if trim else d.q(col)
    if duck_type == "VARCHAR":
        return d.q(col)
    if duck_type == "DATE":
        return f"try_cast(left({value}, 10) AS DATE)"
    if duck_type in INTEGER_TYPES and d.spark:
        # Spark's try_cast reads no fraction into an integer; a zero fraction (`2.0`) is the same whole number
        return f"try_cast(regexp_replace({value}, r'\\.0*$', '') AS {d.type(duck_type)})"
    return f"try_cast({value} AS {d.type(duck_type)})"


def _value_reason(col: str, message: str, d: Dialect = DUCKDB) -> str:
    return f"'{col} ' || chr(39) || {d.q(col)} || chr(39) || ' {message}'"


def _malformed(c: Column, d: Dialect = DUCKDB) -> tuple[str, str, str]:
    """(rule, condition, reason) of a value that is not of the column's type or code shape."""
    if c.type == "DATE":
        return "bad_date", _breaks_date(c.name, d), _value_reason(c.name, "is not an ISO date (YYYY-MM-DD)", d)
    if c.type in INTEGER_TYPES:
        return ("bad_number", _breaks_integer(c.name, c.type, d),
                _value_reason(c.name, f"is not a whole number fitting {c.type}", d))
    if c.type != "VARCHAR":
        return ("bad_number", _breaks_number(c.name, c.type, d),
                _value_reason(c.name, f"is not a number fitting {c.type}", d))
    pattern, message = CODE_SHAPES[c.code_shape]
    condition = _breaks_pattern(c.name, pattern, d)
    if c.code_shape == "icd10":
        # ICD-9 rows (older Tuva deliveries) are kept: the ICD-10 shape does not apply to them.
        condition += " AND coalesce(lower(trim(diagnosis_code_type)), 'icd-10-cm') NOT LIKE 'icd-9%'"
    return "unknown_code_format", condition, _value_reason(c.name, message, d)


def _column_checks(contract: TableContract, d: Dialect = DUCKDB) -> list[tuple[str, str, str, str, str]]:
    """(rule, severity, column, condition that breaks it, reason) for the contract's columns.

    A column standing in for another (claim_start_date for an empty claim_line_start_date) is held to its own
    severity only while the other is empty; otherwise its empty value is fine and a malformed one is a warning.
    """
    out = []
    for c in contract.columns:
        alone = f"NOT {_present(c.stands_in_for, d)} AND " if c.stands_in_for else ""
        if c.if_empty == ERROR:
            empty_reason = (f"'required column {c.name} is empty'" if not c.stands_in_for else
                            f"'required column {c.name} is empty and so is {c.stands_in_for}'")
            out.append(("missing_key", ERROR, c.name, f"{alone}NOT {_present(c.name, d)}", empty_reason))
        elif c.if_empty == WARN:
            out.append((f"missing_{c.name}", WARN, c.name, f"{alone}NOT {_present(c.name, d)}",
                        f"'{c.name} is empty'"))
        if not c.checked:
            continue
        rule, condition, reason = _malformed(c, d)
        if c.stands_in_for and c.if_malformed == ERROR:
            out.append((rule, ERROR, c.name, f"{alone}{condition}", reason))
            out.append((rule, WARN, c.name, f"{_present(c.stands_in_for, d)} AND {condition}", reason))
        else:
            out.append((rule, c.if_malformed, c.name, condition, reason))
    return out


def _control_character_check(contract: TableContract, d: Dialect = DUCKDB) -> tuple[str, str, str, str, str]:
    """Any column, always ERROR. One pass over the row's values joined together; the columns are named only for
    the rows that fail."""
    cond = d.contains_match(d.concat_skipping_nulls([d.q(n) for n in contract.names]), CONTROL_CHARACTER)
    named = [f"CASE WHEN {d.contains_match(d.q(n), CONTROL_CHARACTER)} THEN '{n}' END" for n in contract.names]
    reason = (f"'control character (NUL or another non-printing byte) in ' || "
              f"{d.join(d.filter(d.array(named), 'c', 'c IS NOT NULL'), ', ')}")
    return ("control_character", ERROR, "", cond, reason)


def _score(d: Dialect, duck_type: str) -> str:
    """The result as staging parses it (parse_score): a number, else a number with a unit word."""
    return (f"coalesce(try_cast(trim(result) AS {duck_type}), "
            f"try_cast(regexp_extract(result, {d.regex(SCORE_WITH_UNIT)}, 1) AS {duck_type}))")


def _score_checks(d: Dialect = DUCKDB) -> list[tuple[str, str, str, str, str]]:
    score, exact = _score(d, SCORE_TYPE), _score(d, "DECIMAL(38,10)")
    instrument_row = "_instr.instrument IS NOT NULL AND nullif(trim(result), '') IS NOT NULL"
    return [
        ("non_numeric_score", ERROR, "result", f"{instrument_row} AND {score} IS NULL",
         "'result ' || chr(39) || result || chr(39) || ' is not a numeric ' || _instr.instrument || ' score'"),
        ("score_out_of_range", ERROR, "result",
         f"{instrument_row} AND ({score} < _instr.min_score OR {score} > _instr.max_score)",
         "'result ' || trim(result) || ' is outside the ' || _instr.instrument || ' range ' "
         "|| _instr.min_score || '..' || _instr.max_score"),
        # 3.0004 kept as 3.000 would meet "post-op <= 3.0": a score is kept exactly or not at all
        ("score_precision", ERROR, "result", f"{instrument_row} AND {exact} <> {score}",
         f"'result ' || chr(39) || trim(result) || chr(39) || ' has more decimals than the {SCORE_DECIMALS} a ' "
         "|| _instr.instrument || ' score keeps: it would be rounded'"),
    ]


def _code_key(column: str) -> str:
    """An observation code as staging matches it (macro normalize_observation_code): upper case, without blanks
    or hyphens, so that 72514-3 and 725143 are one code."""
    return f"upper(replace(replace(trim({column}), '-', ''), ' ', ''))"


def instruments_sql(source: str) -> str:
    """The instrument ranges (the dbt seed's columns, as text in `source`): the quarantine and the models share one
    source. One row per code key staging recognises (stg_observation): the code without hyphens or blanks, and
    for a LOINC code also its number without the check digit."""
    columns = f"instrument, CAST(min_score AS {SCORE_TYPE}) AS min_score, CAST(max_score AS {SCORE_TYPE}) AS max_score"
    loinc_number = _code_key("regexp_replace(code, '-.*$', '')")
    return (f"SELECT DISTINCT * FROM (SELECT {_code_key('code')} AS code, {columns} FROM {source} UNION ALL "
            f"SELECT {loinc_number} AS code, {columns} FROM {source} "
            "WHERE lower(code_system) = 'loinc') AS _codes")


def _instrument_join() -> str:
    """The instrument of an observation row, as staging resolves it: by normalized_code when that code is an
    instrument's, else by source_code (a normalized code the seed does not know hides nothing)."""
    return (f"LEFT JOIN {INSTRUMENTS_TABLE} AS _instr_n ON _instr_n.code = {_code_key('normalized_code')} "
            f"LEFT JOIN {INSTRUMENTS_TABLE} AS _instr ON _instr.code = "
            f"coalesce(_instr_n.code, {_code_key('source_code')})")


def load_instruments(con: duckdb.DuckDBPyConnection) -> None:
    """The instrument ranges come from the dbt seed, so the quarantine and the models share one source."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {INSTRUMENTS_TABLE} AS "
                + instruments_sql("read_csv($seed, header = true, all_varchar = true)"), {"seed": str(INSTRUMENTS_SEED)})


def _priority(check: tuple[str, str, str, str, str]) -> tuple[int, int]:
    rule, severity = check[0], check[1]
    return (severity != ERROR, RULES.index(rule) if rule in RULES else len(RULES))


def _version_key(contract: TableContract) -> list[str]:
    """The key whose versions must agree within a delivery: the contract key, when all its columns are required
    or compared null-safe (a claim line's data_source: empty is one source of its own)."""
    return list(contract.key) if contract.key and set(contract.required_key) <= set(contract.required) else []


def _same_key(contract: TableContract, key: list[str], alias: str, other: str) -> str:
    """The join condition of two rows' typed key columns `_k<i>`: null-safe for the nullable key columns."""
    return " AND ".join(f"{alias}.{k} {'IS NOT DISTINCT FROM' if name in contract.nullable_key else '='} {other}.{k}"
                        for k, name in zip(key, _version_key(contract)))


def _failure(d: Dialect, rule: str, severity: str, column: str, reason: str) -> str:
    return d.struct({"rule": f"'{rule}'", "severity": f"'{severity}'", "column": f"'{column}'", "reason": reason})


def _conflicting_versions(contract: TableContract, stage: str, record: str,
                          d: Dialect = DUCKDB, partition: str | None = None) -> tuple[str, str]:
    """(CTEs, rows) for the rows of a key delivered more than once with different values within the delivery.

    Within one delivery nothing says which version is the correction, so none is loaded: every version is
    quarantined, with the count, rather than one kept silently. Only rows that break no ERROR rule count (an
    exact duplicate line or a bad value does not make a second version); the key is compared typed, as loaded.
    """
    key = _version_key(contract)
    if not key:
        return "", "SELECT * FROM _failing"
    keys = [f"_k{i}" for i in range(len(key))]
    required = [f"_k{i}" for i, k in enumerate(key) if k not in contract.nullable_key]
    versions = [partition, *keys] if partition else keys  # a key's versions are compared within its delivery
    clean = ("NOT EXISTS (SELECT 1 FROM _failing AS _f WHERE _f._source_file = _h._source_file "
             f"AND _f._line_number = _h._line_number AND {d.first('_f.failures')}.severity = '{ERROR}')")
    shown = " || ', ' || ".join(f"coalesce(CAST(_v.{k} AS {d.text}), 'NULL')" for k in keys)
    reason = (f"'{' + '.join(key)} (' || {shown} || ') is delivered ' || _v._n || ' times with different values "
              "in this delivery: no version is loaded'")
    ctes = f""", _versions AS (
            SELECT {', '.join(versions)}, count(*) AS _n
            FROM _hashed AS _h
            WHERE {' AND '.join(f'{k} IS NOT NULL' for k in required)} AND {clean}
            GROUP BY ALL
            HAVING min(_row_hash) <> max(_row_hash)
        ), _conflicting AS (
            SELECT _s._source_file, _s._file_hash, _s._line_number, {record} AS raw_record,
                   {d.array([_failure(d, 'conflicting_versions', ERROR, '', reason)])} AS failures
            FROM _hashed AS _h
            JOIN _versions AS _v ON {f'_v.{partition} = _h.{partition} AND ' if partition else ''}{_same_key(contract, keys, '_v', '_h')}
            JOIN {stage} AS _s ON _s._source_file = _h._source_file AND _s._line_number = _h._line_number
            WHERE {clean}
        )"""
    rows = ("SELECT * FROM _failing AS _f WHERE NOT EXISTS (SELECT 1 FROM _conflicting AS _c "
            "WHERE _c._source_file = _f._source_file AND _c._line_number = _f._line_number) "
            "UNION ALL SELECT * FROM _conflicting")
    return ctes, rows


def _failing(checks: list[tuple[str, str, str, str, str]], stage: str, join: str, record: str, d: Dialect) -> str:
    """The stage rows that break a rule, with the rules they break (`failures`, first the one that names them).

    DuckDB evaluates the conditions where they are written. Spark's optimizer would take the three copies of a
    few hundred conditions (filter, failures, error test) as one expression tree and spend tens of seconds on
    each delivery planning it: there each condition is a flag computed once, in a subquery named `_instr` so that
    the reasons' references to the instrument range still resolve."""
    if not d.spark:
        failures = d.array([f"CASE WHEN {cond} THEN {_failure(d, rule, severity, column, reason)} END"
                            for rule, severity, column, cond, reason in checks])
        any_error = " OR ".join(f"({cond})" for _, severity, _, cond, _ in checks if severity == ERROR)
        return f"""
            SELECT _s._source_file, _s._file_hash, _s._line_number,
                   CASE WHEN {any_error} THEN {record} END AS raw_record,
                   {d.filter(failures, 'f', 'f IS NOT NULL')} AS failures
            FROM {stage} AS _s
            LEFT JOIN _dup ON _dup._source_file = _s._source_file AND _dup._line_number = _s._line_number
            {join}
            WHERE {' OR '.join(f'({cond})' for _, _, _, cond, _ in checks)}"""
    flags = ", ".join(f"({cond}) AS _c{i}" for i, (_, _, _, cond, _) in enumerate(checks))
    instrument = ", _instr.instrument, _instr.min_score, _instr.max_score" if join else ""
    failures = d.array([f"CASE WHEN _c{i} THEN {_failure(d, rule, severity, column, reason)} END"
                        for i, (rule, severity, column, _, reason) in enumerate(checks)])
    any_error = " OR ".join(f"_c{i}" for i, (_, severity, _, _, _) in enumerate(checks) if severity == ERROR)
    return f"""
            SELECT _source_file, _file_hash, _line_number,
                   CASE WHEN {any_error} THEN {record} END AS raw_record,
                   {d.filter(failures, 'f', 'f IS NOT NULL')} AS failures
            FROM (
                SELECT _s.*{instrument}, {flags}
                FROM {stage} AS _s
                LEFT JOIN _dup ON _dup._source_file = _s._source_file AND _dup._line_number = _s._line_number
                {join}
            ) AS _instr
            WHERE {' OR '.join(f'_c{i}' for i in range(len(checks)))}"""


def violations_query(contract: TableContract, stage: str, d: Dialect = DUCKDB, partition: str | None = None) -> str:
    """One row per stage row that breaks a rule: lineage, and either its first ERROR rule (with the delivered
    values and every reason: a quarantine row), or a NULL rule and its WARN-level gaps (a loaded row).

    `partition`: a column of the stage naming each row's delivery, when the stage holds several deliveries
    (orchestration/ingest/loader.py load_deliveries): duplicates and versions are then judged within each
    delivery, as they are when the stage holds one. Without it the query is the one the rules' fingerprint hashes.

    Rows are first filtered on the cheap conditions, so reasons are only built for the few that fail. Each row's
    64-bit hash of all columns is computed once: exact duplicates are found among rows sharing it (then compared
    column by column), and versions of a key are told apart by it.
    """
    # rows are compared as they would load: an identifier without its padding (' C1' repeats 'C1')
    cols = ", ".join(_compared(c, d) for c in contract.columns)
    checks = [("duplicate_line", ERROR, "", "_dup._line_number IS NOT NULL",
               "'exact duplicate of an earlier line of this delivery'"),
              _control_character_check(contract, d), *_column_checks(contract, d)]
    join = ""
    if contract.name == "observation":
        checks += _score_checks(d)
        join = _instrument_join()
    checks.sort(key=_priority)
    record = d.record_json(contract.names)
    version_ctes, rows = _conflicting_versions(contract, stage, record, d, partition)
    key = [f", {_strict_typed(contract.column(k), d)} AS _k{i}" for i, k in enumerate(_version_key(contract))]
    first = d.first("failures")
    part = f"{partition}, " if partition else ""  # an exact duplicate is one of the same delivery
    same_part = f" AND _dup_hash.{partition} = _h.{partition}" if partition else ""
    same_line = ", ".join([*([f"_s.{d.q(partition)}"] if partition else []),
                           *(_compared(c, d, "_s.") for c in contract.columns)])
    return f"""
        WITH _hashed AS {d.materialized} (
            SELECT _source_file, _line_number, {part}{d.row_hash(cols)} AS _row_hash{''.join(key)} FROM {stage}
        ), _dup_hash AS (
            SELECT {part}_row_hash FROM _hashed GROUP BY {part}_row_hash HAVING count(*) > 1
        ), _dup AS (
            SELECT _source_file, _line_number FROM (
                SELECT _s._source_file, _s._line_number,
                       row_number() OVER (PARTITION BY {same_line}
                                          ORDER BY _s._source_file, _s._line_number) AS _rank
                FROM _hashed AS _h
                JOIN _dup_hash ON _dup_hash._row_hash = _h._row_hash{same_part}
                JOIN {stage} AS _s ON _s._source_file = _h._source_file AND _s._line_number = _h._line_number
            ) AS _ranked WHERE _rank > 1
        ), _failing AS {d.materialized} ({_failing(checks, stage, join, record, d)}
        ){version_ctes}
        SELECT _source_file, _file_hash, _line_number, raw_record,
               CASE WHEN {first}.severity = '{ERROR}' THEN {first}.rule END AS rule,
               {d.join(d.transform('failures', 'f', 'f.reason'), '; ')} AS reason,
               {d.transform(d.filter('failures', 'f', f"f.severity = '{WARN}'"), 'f',
                            d.struct({'rule': 'f.rule', 'column': 'f.column', 'reason': 'f.reason'}))} AS warnings
        FROM ({rows}) AS _rows
    """
