"""What the site shows, read once per publication: the published (suppressed) tables and the registry's labels.

Everything a page prints comes from here, so the site cannot show a value the published tables hide. The only
warehouse tables read are the registry's (measure titles and which codes each measure assigns): labels, no counts.
Rows are plain dicts grouped by the code or measure a page is about: a page reads its own rows and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

Record = dict[str, object]

# The code tables a code page breaks its claim lines down by (year rows; their quarter rows are in the CSVs).
BREAKDOWNS = (
    "code_by_payer", "code_by_place_of_service", "code_by_provider_taxonomy", "code_modifiers",
    "code_related_diagnoses", "code_related_procedures",
)


@dataclass(frozen=True)
class Meta:
    version: str
    as_of_date: str | None


@dataclass
class SiteData:
    meta: Meta
    codes: dict[str, Record]  # code_catalog rows of the quality-data codes, by code
    overview: dict[str, list[Record]]  # code_overview rows (quarters and years), by code
    breakdowns: dict[str, dict[str, list[Record]]]  # BREAKDOWNS: year rows by table, then by code
    accuracy_by_code: dict[str, list[Record]]  # reporting_accuracy, entity level all
    performance: dict[str, list[Record]]  # measure_performance, entity levels all and tin, by measure
    benchmarks: dict[str, list[Record]]  # measure_benchmarks of TINs, by measure
    positions: dict[str, list[Record]]  # measure_benchmark_position of TINs, by measure
    follow_up: dict[str, list[Record]]  # follow_up_worklist_counts, by measure
    accuracy: dict[str, list[Record]]  # reporting_accuracy, entity level all, by measure
    measures: dict[str, str]  # registry: measure_id -> title
    measure_codes: list[Record]  # registry: measure_id, stratum, outcome, code, year_from, year_to
    tables: list[tuple[str, int]]  # every published table and its row count
    quarters: list[str]  # every quarter from the first to the last in code_overview: one time axis for all

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, catalog: str, meta: Meta) -> "SiteData":
        def rows(sql: str) -> list[Record]:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

        qdc = f"code in (select code from {catalog}.code_catalog where is_quality_data_code)"
        tables = [name for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and not starts_with(table_name, '_')"
            " order by 1", [catalog]).fetchall()]
        accuracy = rows(f"select * from {catalog}.reporting_accuracy where entity_level = 'all'"
                        " order by measure_id, performance_year, code")
        return cls(
            meta=meta,
            codes={r["code"]: r for r in rows(
                f"select * from {catalog}.code_catalog where is_quality_data_code order by code")},
            overview=_by(rows(f"select * from {catalog}.code_overview where {qdc} order by period"), "code"),
            breakdowns={name: _by(rows(f"select * from {catalog}.{name} where period_type = 'year' and {qdc}"
                                       " order by year"), "code") for name in BREAKDOWNS},
            accuracy_by_code=_by(accuracy, "code"),
            performance=_by(rows(f"select * from {catalog}.measure_performance where entity_level in ('all', 'tin')"
                                 " order by performance_year, stratum, tin"), "measure_id"),
            benchmarks=_by(rows(f"select * from {catalog}.measure_benchmarks where entity_level = 'tin'"),
                           "measure_id"),
            positions=_by(rows(f"select * from {catalog}.measure_benchmark_position where entity_level = 'tin'"
                               " order by performance_year, decile, tin"), "measure_id"),
            follow_up=_by(rows(f"select * from {catalog}.follow_up_worklist_counts order by tin nulls last"),
                          "measure_id"),
            accuracy=_by(accuracy, "measure_id"),
            measures=dict(con.execute("select measure_id, title from reference.measures order by 1").fetchall()),
            measure_codes=rows(
                "select measure_id, stratum, outcome, code, min(performance_year_from) as year_from,"
                " if(count(*) > count(performance_year_to), null, max(performance_year_to)) as year_to"
                " from reference.measure_codes group by all order by all"),
            tables=[(name, con.execute(f"select count(*) from {catalog}.{name}").fetchone()[0]) for name in tables],
            quarters=_quarters(con, catalog),
        )

    def code_has_page(self, code: str) -> bool:
        """A code gets a page when it occurs: on a claim line, or assigned to a case (a hidden count is 1 or more)."""
        row = self.codes[code]
        return any(row[f"{c}_suppressed"] or row[c] != 0 for c in ("claim_lines", "cases_assigned"))

    def page_codes(self) -> list[str]:
        return [code for code in self.codes if self.code_has_page(code)]

    def measure_ids(self) -> list[str]:
        return list(self.measures)

    def code_page_inputs(self, code: str) -> tuple:
        """Everything render_code_page reads besides the meta (the page's digest is taken over it)."""
        return ("code", code, self.codes[code], [r for r in self.measure_codes if r["code"] == code], self.measures,
                self.quarters, self.overview.get(code), [(t, rows.get(code)) for t, rows in self.breakdowns.items()],
                self.accuracy_by_code.get(code))

    def measure_page_inputs(self, measure_id: str) -> tuple:
        """Everything render_measure_page reads besides the meta."""
        return ("measure", measure_id, self.measures, self.page_codes(),
                [r for r in self.measure_codes if r["measure_id"] == measure_id],
                *(rows.get(measure_id) for rows in (self.performance, self.accuracy, self.benchmarks, self.positions,
                                                    self.follow_up)))


def _by(rows: list[Record], key: str) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return dict(grouped)


def _quarters(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    first, last = con.execute(
        f"select min(year * 4 + quarter - 1), max(year * 4 + quarter - 1) from {catalog}.code_overview"
        " where period_type = 'quarter'"
    ).fetchone()
    if first is None:
        return []
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(first, last + 1)]
