"""One publication page per quality-data code (Markdown + HTML, PNG charts), rendered from the SUPPRESSED tables.

Pages only ever read the published catalog, so they cannot show a value the tables hide.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import duckdb
import markdown
import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SUPPRESSED = "suppressed (1-10)"
NO_VALUE = "-"
HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}
img{{max-width:100%}}</style></head><body>
{body}
</body></html>
"""


@dataclass
class PublishedData:
    """The published tables, loaded once; each page filters them by code."""

    catalog: pd.DataFrame
    overview: pd.DataFrame
    payers: pd.DataFrame
    places: pd.DataFrame
    taxonomy: pd.DataFrame
    modifiers: pd.DataFrame
    diagnoses: pd.DataFrame
    procedures: pd.DataFrame
    performance: pd.DataFrame
    benchmarks: pd.DataFrame
    accuracy: pd.DataFrame
    measure_codes: pd.DataFrame
    positions: pd.DataFrame
    follow_up: pd.DataFrame

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, catalog: str) -> "PublishedData":
        def year_rows(table: str) -> pd.DataFrame:
            return con.execute(f"select * from {catalog}.{table} where period_type = 'year'").df()

        return cls(
            catalog=con.execute(f"select * from {catalog}.code_catalog where is_quality_data_code").df(),
            overview=con.execute(f"select * from {catalog}.code_overview").df(),
            payers=year_rows("code_by_payer"),
            places=year_rows("code_by_place_of_service"),
            taxonomy=year_rows("code_by_provider_taxonomy"),
            modifiers=year_rows("code_modifiers"),
            diagnoses=year_rows("code_related_diagnoses"),
            procedures=year_rows("code_related_procedures"),
            performance=con.execute(f"select * from {catalog}.measure_performance where entity_level = 'all'").df(),
            benchmarks=con.execute(f"select * from {catalog}.measure_benchmarks").df(),
            accuracy=con.execute(f"select * from {catalog}.reporting_accuracy where entity_level = 'all'").df(),
            measure_codes=con.execute(
                "select * from reference.measure_codes order by measure_id, stratum, outcome, code").df(),
            positions=con.execute(
                f"select * from {catalog}.measure_benchmark_position where entity_level = 'tin'").df(),
            follow_up=con.execute(
                f"select * from {catalog}.follow_up_worklist_counts where entity_level = 'all'").df(),
        )


LABEL_COLUMNS = {"year", "performance_year", "percentile"}


def _cell(row: pd.Series, column: str) -> str:
    hidden = row.get(f"{column}_suppressed")
    if hidden is not None and not pd.isna(hidden) and bool(hidden):
        return SUPPRESSED
    value = row[column]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NO_VALUE
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if column in LABEL_COLUMNS:
        return str(int(value))
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    return str(value).replace("|", "/")


def _table(df: pd.DataFrame, columns: dict[str, str], empty: str) -> str:
    if df.empty:
        return f"_{empty}_\n"
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row, c) for c in columns) + " |" for _, row in df.iterrows()]
    return "\n".join(lines) + "\n"


def _bar_chart(path: Path, labels: list[str], values: list[float], title: str, ylabel: str) -> None:
    figure = Figure(figsize=(7, 3.2))
    axes = figure.add_subplot()
    axes.bar(labels, values, color="#3b6ea5")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _figure(out_dir: Path, name: str, df: pd.DataFrame, label: str, value: str, title: str, ylabel: str,
            reason: str) -> str:
    """A chart of the visible values, or a sentence saying why the data cannot support one."""
    visible = df[~df[f"{value}_suppressed"].astype(bool) & df[value].notna()] if not df.empty else df
    if len(visible) < 1:
        return f"_No chart: {reason}._\n"
    path = out_dir / "figures" / f"{name}.png"
    _bar_chart(path, visible[label].astype(str).tolist(), visible[value].astype(float).tolist(), title, ylabel)
    hidden = len(df) - len(visible)
    note = f" {hidden} bar(s) left out because their values are suppressed." if hidden else ""
    return f"![{title}](figures/{name}.png)\n\n_{title}._{note}\n"


def _measure_of(data: PublishedData, code: str) -> tuple[str | None, str | None]:
    rows = data.measure_codes[data.measure_codes["code"] == code]
    if rows.empty:
        return None, None
    first = rows.iloc[0]
    # a code of several strata (an exclusion code) names the measure only
    of_measure = rows[rows["measure_id"] == first["measure_id"]]
    return first["measure_id"], first["stratum"] if of_measure["stratum"].nunique() == 1 else None


def render_page(data: PublishedData, code: str, out_dir: Path) -> Path:
    info = data.catalog[data.catalog["code"] == code].iloc[0]
    of_code = lambda df: df[df["code"] == code].sort_values(  # noqa: E731
        [c for c in ("year", "claims", "claim_lines") if c in df.columns], ascending=False
    )
    overview = data.overview[data.overview["code"] == code]
    years = overview[overview["period_type"] == "year"].sort_values("year")
    quarters = overview[overview["period_type"] == "quarter"].sort_values("period")
    measure_id, stratum = _measure_of(data, code)
    sections = [
        f"# {code}: quality-data code page\n",
        "## Summary and overview\n",
        f"**Descriptor** (CMS HCPCS Level II): {info['descriptor'] or NO_VALUE}\n",
        _table(info.to_frame().T, {
            "measure_note": "Measure", "role_note": "Role", "qdc_status": "Status", "claim_lines": "Claim lines",
            "claims": "Claims", "persons": "Persons", "cases_assigned": "Cases assigned this code",
            "first_service_date": "First billed", "last_service_date": "Last billed",
        }, "no data"),
        "## Billing code overview\n",
        _table(years, {
            "period": "Year", "claim_lines": "Claim lines", "claims": "Claims", "persons": "Persons",
            "rendering_npis": "Rendering NPIs", "units": "Units", "allowed_amount": "Allowed $", "paid_amount": "Paid $",
        }, "This code does not appear on the claims."),
        _figure(out_dir, f"{code}_volume", quarters, "period", "claim_lines", f"{code} claim lines per quarter",
                "claim lines", "the code does not appear on the claims, or every quarter's count is suppressed"),
        "## Clinical and coding specifications\n",
        "### Modifiers\n",
        _table(of_code(data.modifiers), {
            "period": "Year", "modifier": "Modifier", "claim_lines": "Claim lines",
            "share_of_claim_lines_pct": "Share of lines %", "is_invalid": "Invalid", "invalid_reason": "Why",
        }, "No modifiers observed."),
        "### Rendering provider taxonomy\n",
        _table(of_code(data.taxonomy), {
            "period": "Year", "taxonomy_code": "NUCC code", "taxonomy_description": "Description",
            "claim_lines": "Claim lines", "share_of_claim_lines_pct": "Share %",
        }, "No provider taxonomy observed."),
        "### Related diagnoses (same claim)\n",
        _table(of_code(data.diagnoses), {
            "period": "Year", "diagnosis_code": "ICD-10-CM", "diagnosis_description": "Description",
            "claims": "Claims", "share_of_claims_pct": "Share of claims %",
        }, "No diagnoses observed on claims with this code."),
        "### Related procedures (same claim)\n",
        _table(of_code(data.procedures), {
            "period": "Year", "related_code": "Code", "related_descriptor": "Descriptor", "claims": "Claims",
            "share_of_claims_pct": "Share of claims %",
        }, "No other procedures observed on claims with this code."),
        "### Place of service\n",
        _table(of_code(data.places), {
            "period": "Year", "place_of_service_code": "POS", "place_of_service_description": "Description",
            "claim_lines": "Claim lines", "share_of_claim_lines_pct": "Share %",
        }, "No place of service observed."),
        "## Payers\n",
        _table(of_code(data.payers), {
            "period": "Year", "payer": "Payer", "payer_type": "Payer type", "claim_lines": "Claim lines",
            "share_of_claim_lines_pct": "Share %",
        }, "No payer observed."),
    ]
    payers = of_code(data.payers)
    if not payers.empty:
        latest = payers[payers["year"] == payers["year"].max()]
        sections.append(_figure(out_dir, f"{code}_payers", latest, "payer", "share_of_claim_lines_pct",
                                f"{code} payer mix {int(latest['year'].iloc[0])} (share of claim lines)", "%",
                                "every payer's share is suppressed"))
    else:
        sections.append("_No chart: the code does not appear on the claims._\n")
    sections += _performance_sections(data, code, measure_id, stratum, out_dir)
    text = "\n".join(sections)
    md_path = out_dir / f"{code}.md"
    md_path.write_text(text)
    body = markdown.markdown(text, extensions=["tables"])
    (out_dir / f"{code}.html").write_text(HTML_TEMPLATE.format(title=html.escape(f"{code} page"), body=body))
    return md_path


def _performance_sections(data: PublishedData, code: str, measure_id: str | None, stratum: str | None,
                          out_dir: Path) -> list[str]:
    sections = ["## Performance and benchmarks\n"]
    if measure_id is None:
        return sections + ["_This code is not an outcome of a measure the pipeline computes._\n"]
    perf_stratum = stratum or "all"
    performance = data.performance[
        (data.performance["measure_id"] == measure_id) & (data.performance["stratum"] == perf_stratum)
    ].sort_values("performance_year")
    sections += [
        f"Measure {measure_id}, stratum {perf_stratum}; not measured counts as not met.\n",
        _table(performance, {
            "performance_year": "Performance year", "eligible_population": "Eligible", "excluded": "Excluded",
            "met": "Met", "not_met": "Not met", "not_measured": "Not measured", "pending": "Pending",
            "not_eligible": "Not eligible",
            "performance_rate_pct": "Performance rate %", "reporting_rate_pct": "Reporting rate %",
        }, "No cases for this measure."),
        _figure(out_dir, f"{code}_performance", performance.assign(year=performance["performance_year"].astype(str)),
                "year", "performance_rate_pct", f"Measure {measure_id} ({perf_stratum}) performance rate", "%",
                "no performance rate can be shown (no cases, or the rate derives from suppressed counts)"),
        _follow_up_line(data, measure_id),
        "### Benchmarks (TIN performance-rate percentiles)\n",
    ]
    benchmarks = data.benchmarks[
        (data.benchmarks["measure_id"] == measure_id) & (data.benchmarks["stratum"] == perf_stratum)
        & (data.benchmarks["entity_level"] == "tin")
    ]
    if benchmarks.empty:
        sections.append("_No benchmark: no TIN has enough cases (see the benchmark minimum in docs)._\n")
    else:
        latest = benchmarks[benchmarks["performance_year"] == benchmarks["performance_year"].max()]
        sections += [
            _table(latest.sort_values("percentile"), {
                "performance_year": "Year", "percentile": "Percentile", "performance_rate_pct": "Rate %",
                "n_entities": "TINs benchmarked",
            }, "No benchmark."),
            _figure(out_dir, f"{code}_benchmarks", latest.assign(p=latest["percentile"].astype(str)), "p",
                    "performance_rate_pct", f"Measure {measure_id} ({perf_stratum}) TIN rate percentiles", "%",
                    "every percentile is suppressed"),
        ]
    sections += _position_section(data, measure_id)
    sections += [
        "### Reporting accuracy (code supported by clinical data vs code billed)\n",
        _table(data.accuracy[data.accuracy["code"] == code].sort_values("performance_year"), {
            "performance_year": "Year", "supported_cases": "Supported cases", "agree": "Agree",
            "conflicting": "Conflicting", "supported_not_billed": "Supported, not billed",
            "billed_without_support": "Billed without support", "agreement_rate_pct": "Agreement %",
        }, "No supported or billed occurrences of this code."),
    ]
    return sections


def _position_section(data: PublishedData, measure_id: str) -> list[str]:
    """Per performance year: CMS's benchmark (or why there is none), how many TINs it positions and their median
    achievement points (table measure_benchmark_position has each TIN's rate, decile and points)."""
    positions = data.positions[data.positions["measure_id"] == measure_id]
    rows = []
    for year, group in positions.groupby("performance_year"):
        placed = group[group["position_status"] == "positioned"]
        n = len(placed)
        rows.append({
            "performance_year": year,
            "benchmark": group["benchmark"].iloc[0],
            "tins": n, "tins_suppressed": 1 <= n <= 10,
            "median_points": placed["achievement_points"].astype(float).median() if n else None,
        })
    table = pd.DataFrame(rows, columns=["performance_year", "benchmark", "tins", "tins_suppressed", "median_points"])
    return [
        "### Position against the CMS benchmark (TINs)\n",
        "The measure's overall rate per TIN placed in CMS's benchmark deciles for its year; TINs below the benchmark "
        "case minimum are not positioned (table `measure_benchmark_position`, docs/benchmark_position.md).\n",
        _table(table.sort_values("performance_year") if not table.empty else table, {
            "performance_year": "Year", "benchmark": "CMS benchmark", "tins": "TINs positioned",
            "median_points": "Median achievement points",
        }, "No TIN has cases of this measure."),
    ]


def _follow_up_line(data: PublishedData, measure_id: str) -> str:
    rows = data.follow_up[data.follow_up["measure_id"] == measure_id]
    if rows.empty or (not rows.iloc[0]["open_cases_suppressed"] and rows.iloc[0]["open_cases"] == 0):
        return "Follow-up: no case of this measure has an open window on the as-of date.\n"
    row = rows.iloc[0]
    share = _cell(row, "open_missing_score_pct")
    share = share if row["open_missing_score_pct_suppressed"] else f"{share} %"
    return (f"Follow-up as of {_cell(row, 'as_of_date')}: {share} of the {_cell(row, 'open_cases')} cases whose "
            "window is still open miss a score (counts per TIN and status: table follow_up_worklist_counts).\n")


def render_pages(con: duckdb.DuckDBPyConnection, catalog: str, out_dir: Path) -> list[Path]:
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    data = PublishedData.load(con, catalog)
    codes = sorted(data.catalog["code"].tolist())
    pages = [render_page(data, code, out_dir) for code in codes]
    index = "# Quality-data code pages\n\n" + "\n".join(f"- [{c}]({c}.html)" for c in codes) + "\n"
    (out_dir / "index.md").write_text(index)
    (out_dir / "index.html").write_text(
        HTML_TEMPLATE.format(title="Quality-data code pages", body=markdown.markdown(index))
    )
    return pages
