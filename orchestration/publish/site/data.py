"""What the site shows, read once per publication: the published (suppressed) tables and the registry's labels.

Everything a page prints comes from here, so the site cannot show a value the published tables hide. The only
warehouse tables read are the registry's (measure titles and which codes each measure assigns): labels, no counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

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
    codes: pd.DataFrame  # code_catalog, quality-data codes
    overview: pd.DataFrame  # code_overview of those codes, quarters and years
    breakdowns: dict[str, pd.DataFrame]  # BREAKDOWNS, year rows of those codes
    performance: pd.DataFrame  # measure_performance, entity levels all and tin
    benchmarks: pd.DataFrame  # measure_benchmarks, TIN percentiles
    positions: pd.DataFrame  # measure_benchmark_position, TINs
    follow_up: pd.DataFrame  # follow_up_worklist_counts
    accuracy: pd.DataFrame  # reporting_accuracy, entity level all
    measures: pd.DataFrame  # registry: measure_id, title
    measure_codes: pd.DataFrame  # registry: measure_id, stratum, outcome, code, years
    tables: list[tuple[str, int]]  # every published table and its row count
    quarters: list[str]  # every quarter from the first to the last in code_overview, for a common time axis

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, catalog: str, meta: Meta) -> "SiteData":
        def df(sql: str) -> pd.DataFrame:
            return con.execute(sql).df()

        qdc = f"code in (select code from {catalog}.code_catalog where is_quality_data_code)"
        tables = [name for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and not starts_with(table_name, '_')"
            " order by 1", [catalog]).fetchall()]
        return cls(
            meta=meta,
            codes=df(f"select * from {catalog}.code_catalog where is_quality_data_code order by code"),
            overview=df(f"select * from {catalog}.code_overview where {qdc} order by code, period_type, period"),
            breakdowns={
                name: df(f"select * from {catalog}.{name} where period_type = 'year' and {qdc}")
                for name in BREAKDOWNS
            },
            performance=df(f"select * from {catalog}.measure_performance where entity_level in ('all', 'tin')"),
            benchmarks=df(f"select * from {catalog}.measure_benchmarks where entity_level = 'tin'"),
            positions=df(f"select * from {catalog}.measure_benchmark_position where entity_level = 'tin'"),
            follow_up=df(f"select * from {catalog}.follow_up_worklist_counts"),
            accuracy=df(f"select * from {catalog}.reporting_accuracy where entity_level = 'all'"),
            measures=df("select measure_id, title from reference.measures order by measure_id"),
            measure_codes=df(
                "select measure_id, stratum, outcome, code, min(performance_year_from) as year_from,"
                " if(count(*) > count(performance_year_to), null, max(performance_year_to)) as year_to"
                " from reference.measure_codes group by all order by all"
            ),
            tables=[(name, con.execute(f"select count(*) from {catalog}.{name}").fetchone()[0]) for name in tables],
            quarters=_quarters(con, catalog),
        )

    def code_has_page(self, row: pd.Series) -> bool:
        """A code gets a page when it occurs: on a claim line, or assigned to a case (a hidden count is 1 or more)."""
        return any(row[f"{c}_suppressed"] or row[c] != 0 for c in ("claim_lines", "cases_assigned"))

    def page_codes(self) -> list[str]:
        return [row["code"] for _, row in self.codes.iterrows() if self.code_has_page(row)]

    def measure_ids(self) -> list[str]:
        return self.measures["measure_id"].tolist()


def _quarters(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    first, last = con.execute(
        f"select min(year * 4 + quarter - 1), max(year * 4 + quarter - 1) from {catalog}.code_overview"
        " where period_type = 'quarter'"
    ).fetchone()
    if first is None:
        return []
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(first, last + 1)]
