"""The site's pages: the index, one page per quality-data code that occurs, one page per measure.

Each render_* function writes one page from SiteData and nothing else, so that a caller can re-render the pages
a change touched and leave the rest (render_site in __init__.py renders them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from orchestration.publish.site import charts
from orchestration.publish.site.cells import (
    HIDDEN,
    HIDDEN_TITLE,
    NO_VALUE,
    Cell,
    Row,
    Table,
    cell,
    fmt_count,
    fmt_pct,
    hidden_range,
    table_of,
    text,
)
from orchestration.publish.site.data import SiteData

SITE_TITLE = "Spine outcome measures"
CODES_DIR, MEASURES_DIR = "codes", "measures"
ROLE_ORDER = ["Performance Met", "Performance Not Met", "Not measured", "Denominator exclusion", "Episode marker",
              "Process numerator", "Not used by the pipeline"]
OUTCOME_LABELS = {"met": "Performance Met", "not_met": "Performance Not Met", "not_measured": "Not measured",
                  "excluded": "Denominator exclusion"}
POSITION_STATUSES = {
    "positioned": "Positioned", "below_case_minimum": "Below the case minimum", "rate_suppressed": "Rate hidden",
    "no_benchmark": "No CMS benchmark", "not_computed": "Not computed",
}
TOP_PAYERS = 6

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)
TEMPLATES.globals.update(site_title=SITE_TITLE, hidden_title=HIDDEN_TITLE)


@dataclass
class Captioned:
    caption: str
    table: Table


@dataclass
class Section:
    id: str
    heading: str
    text: list[str] = field(default_factory=list)
    chart: str | None = None
    tables: list[Captioned] = field(default_factory=list)
    details: list[Captioned] = field(default_factory=list)


def code_href(code: str, root: str = "") -> str:
    return f"{root}{CODES_DIR}/{code}.html"


def measure_href(measure_id: str, root: str = "") -> str:
    return f"{root}{MEASURES_DIR}/{measure_id}.html"


def _write(path: Path, template: str, **context) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATES.get_template(template).render(**context))
    return path


def _year_label(value) -> str:
    return str(int(value))


# ---------------------------------------------------------------------------------------------------- index


def render_index(data: SiteData, out_dir: Path) -> Path:
    pages = set(data.page_codes())
    codes = data.codes.assign(
        _rank=data.codes["role_note"].map({r: i for i, r in enumerate(ROLE_ORDER)}).fillna(len(ROLE_ORDER))
    ).sort_values(["measure_note", "_rank", "code"])
    rows = []
    for _, row in codes.iterrows():
        values = [row["code"], row["descriptor"], row["measure_note"], row["role_note"], row["qdc_status"]]
        rows.append({
            "code": row["code"], "descriptor": _or_dash(row["descriptor"]), "measure": _or_dash(row["measure_note"]),
            "role": _or_dash(row["role_note"]), "status": _or_dash(row["qdc_status"]),
            "claim_lines": cell(row, "claim_lines"), "cases_assigned": cell(row, "cases_assigned"),
            "href": code_href(row["code"]) if row["code"] in pages else None,
            "search": " ".join(str(v) for v in values if isinstance(v, str)).lower(),
        })
    downloads = Table([("table", "Table"), ("rows", "Rows"), ("csv", "CSV"), ("parquet", "Parquet")])
    for name, count in data.tables:
        downloads.rows.append(Row(name, [text(name), Cell(fmt_count(count), "count"),
                                         text(f"{name}.csv", href=f"downloads/{name}.csv"),
                                         text(f"{name}.parquet", href=f"../{name}.parquet")]))
    return _write(
        out_dir / "index.html", "index.html", title="Index", root="", meta=data.meta, crumbs=[("Index", None)],
        measures=_measures_table(data), measure_list=", ".join(data.measure_ids()), codes=rows,
        measure_options=sorted({r["measure"] for r in rows}), role_options=[
            r for r in ROLE_ORDER if r in {row["role"] for row in rows}
        ] + sorted({row["role"] for row in rows} - set(ROLE_ORDER)),
        downloads=downloads,
    )


def _or_dash(value) -> str:
    return value if isinstance(value, str) and value else NO_VALUE


def _overall(data: SiteData, measure_id: str) -> pd.DataFrame:
    """A measure's whole-measure rows of measure_performance (entity all): stratum `all`."""
    perf = data.performance
    return perf[(perf["measure_id"] == measure_id) & (perf["entity_level"] == "all") & (perf["stratum"] == "all")]


def _measures_table(data: SiteData) -> Table:
    table = Table([("measure", "Measure"), ("title", "Title"), ("year", "Latest performance year"),
                   ("eligible_population", "Eligible"), ("performance_rate_pct", "Performance rate")],
                  empty="No measure in the registry.")
    for _, measure in data.measures.iterrows():
        overall = _overall(data, measure["measure_id"]).sort_values("performance_year")
        if overall.empty:
            cells = [text(NO_VALUE), Cell(NO_VALUE, "count"), Cell(NO_VALUE, "pct")]
        else:
            latest = overall.iloc[-1]
            cells = [text(_year_label(latest["performance_year"])), cell(latest, "eligible_population"),
                     cell(latest, "performance_rate_pct", "pct")]
        table.rows.append(Row(measure["measure_id"], [
            text(measure["measure_id"], href=measure_href(measure["measure_id"])), text(measure["title"]), *cells]))
    return table


# ----------------------------------------------------------------------------------------------- code pages


def render_code_page(data: SiteData, code: str, out_dir: Path) -> Path:
    info = data.codes[data.codes["code"] == code].iloc[0]
    memberships = data.measure_codes[data.measure_codes["code"] == code]
    measure_ids = list(dict.fromkeys(memberships["measure_id"]))
    titles = dict(zip(data.measures["measure_id"], data.measures["title"]))
    facts = [("Measure", _or_dash(info["measure_note"]), None)]
    facts += [("Measure page", f"{m} · {titles.get(m, m)}", measure_href(m, "../")) for m in measure_ids]
    facts += [
        ("Role", _or_dash(info["role_note"]), None), ("Status", _or_dash(info["qdc_status"]), None),
        ("Claim lines", cell(info, "claim_lines").text, None), ("Claims", cell(info, "claims").text, None),
        ("Persons", cell(info, "persons").text, None),
        ("Cases assigned this code", cell(info, "cases_assigned").text, None),
        ("First billed", cell(info, "first_service_date", "date").text, None),
        ("Last billed", cell(info, "last_service_date", "date").text, None),
    ]
    overview = data.overview[data.overview["code"] == code]
    sections = [_trend_section(data, code, overview), _payer_section(data, code)]
    sections += [_breakdown_section(data, code, *spec) for spec in BREAKDOWN_SECTIONS]
    sections.append(_code_measure_section(data, code, memberships, titles))
    return _write(
        out_dir / CODES_DIR / f"{code}.html", "page.html", title=code, root="../", meta=data.meta,
        crumbs=[("Index", "../index.html"), ("Codes", "../index.html#codes"), (code, None)],
        heading=f"{code} · {_or_dash(info['role_note'])}", intro=[_or_dash(info["descriptor"])], facts=facts,
        sections=sections,
    )


def _quarter_bars(data: SiteData, overview: pd.DataFrame) -> tuple[list[charts.Bar], Table]:
    quarters = overview[overview["period_type"] == "quarter"].set_index("period")
    years = overview[overview["period_type"] == "year"].set_index("year")
    bars, table = [], Table([("period", "Quarter"), ("claim_lines", "Claim lines"), ("claims", "Claims"),
                             ("persons", "Persons")], empty="Not on any claim line.")
    for period in data.quarters:
        if period not in quarters.index:
            bars.append(charts.Bar(period, 0))
            continue
        row = quarters.loc[period]
        if not row["claim_lines_suppressed"]:
            bars.append(charts.Bar(period, int(row["claim_lines"])))
            lines = cell(row, "claim_lines")
        else:
            same_year = quarters[quarters["year"] == row["year"]]
            visible = [int(v) for v in same_year.loc[~same_year["claim_lines_suppressed"], "claim_lines"]]
            year = years.loc[row["year"]] if row["year"] in years.index else None
            bound = None if year is None else hidden_range(
                year["claim_lines"], bool(year["claim_lines_suppressed"]), visible,
                int(same_year["claim_lines_suppressed"].sum()))
            bars.append(charts.Bar(period, None, bound))
            lines = Cell(f"{HIDDEN} ({bound[0]}-{bound[1]})" if bound else HIDDEN, "count", hidden=True)
        table.rows.append(Row(period, [text(period), lines, cell(row, "claims"), cell(row, "persons")]))
    return bars, table


def _trend_section(data: SiteData, code: str, overview: pd.DataFrame) -> Section:
    section = Section("trend", "Claim lines by quarter")
    years = overview[overview["period_type"] == "year"].sort_values("year")
    if years.empty:
        section.text.append("This code is on no claim line in this data.")
        return section
    bars, quarters = _quarter_bars(data, overview)
    labels = [b.key if len(bars) <= 12 or b.key.endswith("Q1") else "" for b in bars]
    section.chart = charts.bars(f"trend-{code}", f"{code} claim lines per quarter", bars, "claim lines", labels)
    if any(b.value is None for b in bars):
        section.text.append("A hatched bar is a hidden count, drawn up to the most it can be; its label is the range "
                            "the year's total leaves for it.")
    section.tables.append(Captioned("By year", table_of(years, "period", [
        ("period", "Year", "text"), ("claim_lines", "Claim lines", "count"), ("claims", "Claims", "count"),
        ("persons", "Persons", "count"), ("rendering_npis", "Rendering NPIs", "count"), ("units", "Units", "count"),
        ("allowed_amount", "Allowed", "money"), ("paid_amount", "Paid", "money"),
    ], "Not on any claim line.")))
    section.details.append(Captioned("Claim lines by quarter (the chart's figures)", quarters))
    return section


def _pivot(frame: pd.DataFrame, label: list[tuple[str, str]], value: str, share: str, empty: str,
           extra: list[tuple[str, str]] = ()) -> Table:
    """Categories down, years across; each cell `count (share%)`. Categories hidden in every year they occur
    are named in a note instead of filling rows with `hidden`."""
    years = sorted({int(y) for y in frame["year"]})
    table = Table([(c, h) for c, h in (*label, *extra)] + [(str(y), str(y)) for y in years], empty=empty)
    if frame.empty:
        return table
    keys = [c for c, _ in label]
    groups = {key if isinstance(key, tuple) else (key,): rows
              for key, rows in frame.groupby(keys, dropna=False, sort=False)}
    hidden_only = []
    for key in sorted(groups, key=lambda k: (-groups[k][value].fillna(0).sum(), [str(x) for x in k])):
        rows = groups[key]
        if rows[f"{value}_suppressed"].all():
            hidden_only.append(str(key[0]))
            continue
        by_year = {int(r["year"]): r for _, r in rows.iterrows()}
        first = rows.iloc[0]
        cells = [text(first[c]) for c, _ in (*label, *extra)]
        for year in years:
            row = by_year.get(year)
            if row is None:
                cells.append(Cell(NO_VALUE, "count"))
            elif row[f"{value}_suppressed"]:
                cells.append(Cell(HIDDEN, "count", hidden=True))
            else:
                pct = "share hidden" if row[f"{share}_suppressed"] else fmt_pct(row[share])
                cells.append(Cell(f"{fmt_count(row[value])} ({pct})", "count"))
        table.rows.append(Row(str(key[0]), cells))
    if hidden_only:
        table.note = (f"{'Also seen' if table.rows else 'Seen'}, with hidden counts only: "
                      f"{', '.join(sorted(hidden_only))}.")
        table.empty = ""
    return table


def _payer_section(data: SiteData, code: str) -> Section:
    frame = data.breakdowns["code_by_payer"]
    frame = frame[frame["code"] == code]
    section = Section("payers", "Payer mix", ["Claim lines by payer and year, with each payer's share of the "
                                               "code's claim lines in that year."])
    table = _pivot(frame, [("payer", "Payer")], "claim_lines", "share_of_claim_lines_pct", "No payer on its claims.",
                   extra=[("payer_type", "Payer type")])
    section.tables.append(Captioned("", table))
    visible = frame[~frame["share_of_claim_lines_pct_suppressed"]]
    if not visible.empty:
        years = sorted({int(y) for y in frame["year"]})
        top = (visible.groupby("payer")["claim_lines"].sum().sort_values(ascending=False, kind="stable")
               .index[:TOP_PAYERS].tolist())
        series: dict[str, list[float | None]] = {}
        for payer in top:
            shares = visible[visible["payer"] == payer].set_index("year")["share_of_claim_lines_pct"]
            series[payer] = [float(shares[y]) if y in shares.index else None for y in years]
        rest = visible[~visible["payer"].isin(top)].groupby("year")["share_of_claim_lines_pct"].sum()
        if not rest.empty:
            series["other payers"] = [float(rest.get(y, 0.0)) for y in years]
        shown = [sum(s[i] or 0.0 for s in series.values()) for i in range(len(years))]
        hidden = [max(0.0, 100.0 - v) if 100.0 - v >= 0.05 else 0.0 for v in shown]
        section.chart = charts.stacked_shares(f"payers-{code}", f"{code} payer mix by year (share of claim lines)",
                                              [str(y) for y in years], series, hidden)
    return section


# (table, section id, heading, label columns, value, share, empty sentence, extra columns)
BREAKDOWN_SECTIONS = [
    ("code_by_place_of_service", "places", "Place of service",
     [("place_of_service_code", "POS"), ("place_of_service_description", "Description")],
     "claim_lines", "share_of_claim_lines_pct", "No place of service on its claim lines.", []),
    ("code_by_provider_taxonomy", "taxonomy", "Rendering provider taxonomy",
     [("taxonomy_code", "NUCC code"), ("taxonomy_description", "Description")],
     "claim_lines", "share_of_claim_lines_pct", "No rendering provider taxonomy on its claim lines.", []),
    ("code_modifiers", "modifiers", "Modifiers", [("modifier", "Modifier")],
     "claim_lines", "share_of_claim_lines_pct", "No modifier on its claim lines.", [("invalid_reason", "Invalid because")]),
    ("code_related_diagnoses", "diagnoses", "Related diagnoses (same claim)",
     [("diagnosis_code", "ICD-10-CM"), ("diagnosis_description", "Description")],
     "claims", "share_of_claims_pct", "No diagnosis on claims with this code.", []),
    ("code_related_procedures", "procedures", "Related procedures (same claim)",
     [("related_code", "Code"), ("related_descriptor", "Descriptor")],
     "claims", "share_of_claims_pct", "No other procedure on claims with this code.", []),
]
BREAKDOWN_TEXT = {
    "claim_lines": "Claim lines per year, with the share of the code's claim lines in that year.",
    "claims": "Claims carrying both codes per year, with the share of the code's claims (the most frequent per year).",
}


def _breakdown_section(data: SiteData, code: str, table: str, section_id: str, heading: str,
                       label: list[tuple[str, str]], value: str, share: str, empty: str,
                       extra: list[tuple[str, str]]) -> Section:
    frame = data.breakdowns[table]
    frame = frame[frame["code"] == code]
    pivot = _pivot(frame, label, value, share, empty, extra)
    return Section(section_id, heading, [BREAKDOWN_TEXT[value]] if not frame.empty else [],
                   tables=[Captioned("", pivot)])


def _code_measure_section(data: SiteData, code: str, memberships: pd.DataFrame, titles: dict[str, str]) -> Section:
    section = Section("measure", "In its measure")
    if memberships.empty:
        section.text.append("The pipeline assigns this code in no measure it computes; it is counted on the claims "
                            "only.")
        return section
    for _, m in memberships.iterrows():
        section.text.append(f"Measure {m['measure_id']} ({titles.get(m['measure_id'], '')}), stratum {m['stratum']}: "
                            f"{OUTCOME_LABELS.get(m['outcome'], m['outcome'])}, performance years "
                            f"{_years(m['year_from'], m['year_to'])}.")
    section.text.append("Performance, the distribution across TINs, the CMS benchmark position and the follow-up "
                        "worklist are on the measure's page.")
    accuracy = data.accuracy[data.accuracy["code"] == code].sort_values(["measure_id", "performance_year"])
    section.tables.append(Captioned("Reporting accuracy: the code the clinical data supports vs the code billed",
                                    table_of(accuracy.assign(year=accuracy["performance_year"].map(_year_label)),
                                             ("measure_id", "year"), [
        ("measure_id", "Measure", "text"), ("year", "Performance year", "text"),
        ("supported_cases", "Supported cases", "count"), ("agree", "Billed as supported", "count"),
        ("conflicting", "Another code billed", "count"), ("supported_not_billed", "Not billed", "count"),
        ("billed_without_support", "Billed without support", "count"),
        ("agreement_rate_pct", "Agreement", "pct"),
    ], "Neither supported by the clinical data nor billed in a case's window.")))
    return section


# -------------------------------------------------------------------------------------------- measure pages


def render_measure_page(data: SiteData, measure_id: str, out_dir: Path) -> Path:
    title = data.measures.set_index("measure_id").loc[measure_id, "title"]
    perf = data.performance[data.performance["measure_id"] == measure_id]
    sections = [
        _codes_of_measure(data, measure_id),
        _performance_section(measure_id, perf),
        _tin_section(data, measure_id, perf),
        _position_section(data, measure_id),
        _follow_up_section(data, measure_id),
        _accuracy_section(data, measure_id),
    ]
    return _write(
        out_dir / MEASURES_DIR / f"{measure_id}.html", "page.html", title=f"Measure {measure_id}", root="../",
        meta=data.meta,
        crumbs=[("Index", "../index.html"), ("Measures", "../index.html#measures"), (f"Measure {measure_id}", None)],
        heading=f"Measure {measure_id} · {title}", intro=[], facts=[], sections=sections,
    )


def _codes_of_measure(data: SiteData, measure_id: str) -> Section:
    pages = set(data.page_codes())
    rows = data.measure_codes[data.measure_codes["measure_id"] == measure_id]
    table = Table([("stratum", "Stratum"), ("outcome", "Outcome"), ("code", "Code"), ("years", "Performance years")],
                  empty="The registry assigns no code for this measure.")
    for _, r in rows.iterrows():
        years = _years(r["year_from"], r["year_to"])
        href = code_href(r["code"], "../") if r["code"] in pages else None
        table.rows.append(Row(f"{r['stratum']}|{r['outcome']}|{r['code']}", [
            text(r["stratum"]), text(OUTCOME_LABELS.get(r["outcome"], r["outcome"])),
            text(r["code"] if href else f"{r['code']} (does not occur)", href=href), text(years)]))
    return Section("codes", "Codes", ["The quality-data codes the pipeline assigns for this measure (the registry)."],
                   tables=[Captioned("", table)])


def _years(first, last) -> str:
    return f"{int(first)} onward" if pd.isna(last) else f"{int(first)}-{int(last)}"


def _strata(perf: pd.DataFrame) -> list[str]:
    """The strata to show: each stratum, and `all` only when there are several (else it repeats the one)."""
    strata = sorted(s for s in perf["stratum"].unique() if s != "all")
    return (["all"] if len(strata) != 1 else []) + strata


def _performance_section(measure_id: str, perf: pd.DataFrame) -> Section:
    section = Section("performance", "Performance by year and stratum",
                      ["Performance rate = met / eligible population: a case whose outcome was not measured counts "
                       "as not met. Reporting rate = (met + not met) / eligible population."])
    overall = perf[perf["entity_level"] == "all"]
    strata = _strata(overall)
    overall = overall[overall["stratum"].isin(strata)].sort_values(["performance_year", "stratum"])
    years = sorted({int(y) for y in overall["performance_year"]})
    if years:
        series = {}
        for stratum in strata:
            rows = overall[overall["stratum"] == stratum].set_index("performance_year")
            series[stratum] = [_rate(rows.loc[y]) if y in rows.index else None for y in years]
        section.chart = charts.rates(f"performance-{measure_id}", f"Measure {measure_id} performance rate",
                                     [str(y) for y in years], series)
    section.tables.append(Captioned("", table_of(
        overall.assign(year=overall["performance_year"].map(_year_label)), ("year", "stratum"), [
            ("year", "Year", "text"), ("stratum", "Stratum", "text"), ("cases", "Cases", "count"),
            ("pending", "Pending", "count"), ("not_eligible", "Not eligible", "count"),
            ("excluded", "Excluded", "count"), ("eligible_population", "Eligible", "count"), ("met", "Met", "count"),
            ("not_met", "Not met", "count"), ("not_measured", "Not measured", "count"),
            ("performance_rate_pct", "Performance rate", "pct"), ("reporting_rate_pct", "Reporting rate", "pct"),
        ], "No case of this measure in this data.")))
    return section


def _rate(row: pd.Series) -> float | str | None:
    if row["performance_rate_pct_suppressed"]:
        return HIDDEN
    return None if pd.isna(row["performance_rate_pct"]) else float(row["performance_rate_pct"])


def _tin_section(data: SiteData, measure_id: str, perf: pd.DataFrame) -> Section:
    section = Section("tins", "Distribution across TINs",
                      ["Each TIN's performance rate (all strata) per year; the lines are the published percentiles "
                       "(10th, median in colour, 90th) of TINs with enough eligible cases."])
    tins = perf[(perf["entity_level"] == "tin") & (perf["stratum"] == "all")]
    bench = data.benchmarks[(data.benchmarks["measure_id"] == measure_id) & (data.benchmarks["stratum"] == "all")]
    years = sorted({int(y) for y in tins["performance_year"]})
    table = Table([("year", "Year"), ("tins", "TINs"), ("with_rate", "With a published rate"),
                   ("rate_hidden", "Rate hidden"), ("no_eligible", "No eligible case"),
                   ("benchmarked", "TINs in the percentiles"), ("p10", "10th pct"), ("p50", "Median"),
                   ("p90", "90th pct")], empty="No TIN has a case of this measure.")
    points, percentiles = {}, {}
    for year in years:
        of_year = tins[tins["performance_year"] == year]
        rated = of_year[~of_year["performance_rate_pct_suppressed"] & of_year["performance_rate_pct"].notna()]
        hidden = int(of_year["performance_rate_pct_suppressed"].sum())
        points[str(year)] = [float(v) for v in rated["performance_rate_pct"]]
        pct = bench[bench["performance_year"] == year].set_index("percentile")
        percentiles[str(year)] = {int(p): float(r["performance_rate_pct"]) for p, r in pct.iterrows()
                                  if p in (10, 50, 90) and not r["performance_rate_pct_suppressed"]}
        cells = [text(str(year)), Cell(fmt_count(len(of_year)), "count"), Cell(fmt_count(len(rated)), "count"),
                 Cell(fmt_count(hidden), "count"), Cell(fmt_count(len(of_year) - len(rated) - hidden), "count")]
        cells.append(cell(pct.iloc[0], "n_entities") if not pct.empty else Cell(NO_VALUE, "count"))
        for p in (10, 50, 90):
            cells.append(cell(pct.loc[p], "performance_rate_pct", "pct") if p in pct.index else Cell(NO_VALUE, "pct"))
        table.rows.append(Row(str(year), cells))
    if any(points.values()):
        section.chart = charts.strip(f"tins-{measure_id}", f"Measure {measure_id}: TIN performance rates",
                                     [str(y) for y in years], points, percentiles)
    section.tables.append(Captioned("", table))
    section.text.append("TIN counts here count providers, not patients: they are not suppressed (each TIN's row is "
                        "in measure_performance).")
    return section


def _position_section(data: SiteData, measure_id: str) -> Section:
    section = Section("benchmark", "Position against the CMS benchmark",
                      ["Each TIN's overall rate placed in CMS's benchmark deciles for its year and submission method, "
                       "with the achievement points it would earn; a TIN below the case minimum, or whose rate is "
                       "hidden, is not positioned."])
    positions = data.positions[data.positions["measure_id"] == measure_id]
    if positions.empty:
        section.text.append("No TIN has cases of this measure, so there is nothing to position.")
        return section
    table = Table([("year", "Year"), ("benchmark", "CMS benchmark"), *[(s, label) for s, label in
                   POSITION_STATUSES.items()], ("median_points", "Median points"), ("deciles", "TINs by decile")])
    for year, group in positions.groupby("performance_year", sort=True):
        statuses = group["position_status"].value_counts()
        placed = group[group["position_status"] == "positioned"]
        median = placed["achievement_points"].astype(float).median() if not placed.empty else None
        deciles = placed["decile"].astype(int).value_counts().sort_index()
        table.rows.append(Row(str(year), [
            text(str(year)), text(group["benchmark"].iloc[0]),
            *[Cell(fmt_count(statuses.get(s, 0)), "count") for s in POSITION_STATUSES],
            Cell(NO_VALUE if median is None else f"{median:.2f}", "count"),
            text(", ".join(f"{d}: {n}" for d, n in deciles.items()) or NO_VALUE),
        ]))
        if not placed.empty:
            section.details.append(Captioned(f"{year}: the {len(placed)} positioned TINs", table_of(
                placed.sort_values(["decile", "tin"]), "tin", [
                    ("tin", "TIN", "text"), ("performance_rate_pct", "Performance rate", "pct"),
                    ("decile", "Decile", "text"), ("achievement_points", "Achievement points", "text"),
                ], "")))
    if (positions["position_status"] == "no_benchmark").all():
        section.text.append(f"CMS publishes no benchmark for measure {measure_id} in any year shown: the table "
                            "gives CMS's reason for each year.")
    section.tables.append(Captioned("", table))
    return section


def _follow_up_section(data: SiteData, measure_id: str) -> Section:
    section = Section("follow-up", "Follow-up worklist")
    rows = data.follow_up[data.follow_up["measure_id"] == measure_id]
    overall = rows[rows["entity_level"] == "all"]
    if overall.empty:
        section.text.append("No case of this measure has an open window on the as-of date.")
        return section
    row = overall.iloc[0]
    share = cell(row, "open_missing_score_pct", "pct")
    section.text.append(
        f"On {cell(row, 'as_of_date', 'date').text}, {share.text} of the {cell(row, 'open_cases').text} cases whose "
        "window is still open miss a score (they are on the worklist).")
    columns = [
        ("tin", "TIN", "text"), ("open_cases", "Open cases", "count"), ("scored_in_window", "Scored", "count"),
        ("open_missing_score", "Missing a score", "count"), ("not_yet_due", "Not yet due", "count"),
        ("due_now", "Due now", "count"), ("closing_soon", "Closing within 14 days", "count"),
        ("missed", "Missed (last 30 days)", "count"), ("open_missing_score_pct", "Share missing", "pct"),
    ]
    section.tables.append(Captioned("", table_of(overall.assign(tin="all TINs"), "entity_level", columns, "")))
    tins = rows[rows["entity_level"] == "tin"].sort_values("tin", na_position="last")
    section.details.append(Captioned(f"By TIN ({len(tins)})", table_of(
        tins.assign(tin=tins["tin"].fillna("(no TIN)")), "tin", columns, "No TIN.")))
    return section


def _accuracy_section(data: SiteData, measure_id: str) -> Section:
    accuracy = data.accuracy[data.accuracy["measure_id"] == measure_id].sort_values(["performance_year", "code"])
    return Section("accuracy", "Reporting accuracy", [
        "Per code and year: the code the clinical data supports beside the code(s) of the measure billed in the "
        "case's window."], tables=[Captioned("", table_of(
            accuracy.assign(year=accuracy["performance_year"].map(_year_label)), ("year", "code"), [
                ("year", "Year", "text"), ("code", "Code", "text"), ("supported_cases", "Supported cases", "count"),
                ("agree", "Billed as supported", "count"), ("conflicting", "Another code billed", "count"),
                ("supported_not_billed", "Not billed", "count"),
                ("billed_without_support", "Billed without support", "count"),
                ("agreement_rate_pct", "Agreement", "pct"),
            ], "No supported or billed code of this measure."))])
