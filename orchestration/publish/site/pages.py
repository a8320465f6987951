"""The site's pages: the index, one page per quality-data code that occurs, one page per measure.

Each render_* function writes one page from SiteData and nothing else, so that a caller can re-render the pages
a change touched and leave the rest (render_site in __init__.py renders them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2

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
from orchestration.publish.site.data import Record, SiteData

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


def _or_dash(value) -> str:
    return value if isinstance(value, str) and value else NO_VALUE


def _years(first, last) -> str:
    return f"{first} onward" if last is None else f"{first}-{last}"


def _with(rows: list[Record], **columns) -> list[Record]:
    """Rows with extra display columns, each computed from the row: _with(rows, year=lambda r: ...)."""
    return [{**row, **{name: make(row) for name, make in columns.items()}} for row in rows]


# ---------------------------------------------------------------------------------------------------- index


def render_index(data: SiteData, out_dir: Path) -> Path:
    pages = set(data.page_codes())
    rank = {role: i for i, role in enumerate(ROLE_ORDER)}
    codes = sorted(data.codes.values(), key=lambda r: (_or_dash(r["measure_note"]),
                                                       rank.get(r["role_note"], len(ROLE_ORDER)), r["code"]))
    rows = []
    for row in codes:
        labels = [row["code"], row["descriptor"], row["measure_note"], row["role_note"], row["qdc_status"]]
        rows.append({
            "code": row["code"], "descriptor": _or_dash(row["descriptor"]), "measure": _or_dash(row["measure_note"]),
            "role": _or_dash(row["role_note"]), "status": _or_dash(row["qdc_status"]),
            "claim_lines": cell(row, "claim_lines"), "cases_assigned": cell(row, "cases_assigned"),
            "href": code_href(row["code"]) if row["code"] in pages else None,
            "search": " ".join(v for v in labels if isinstance(v, str)).lower(),
        })
    roles = {row["role"] for row in rows}
    downloads = Table([("table", "Table"), ("rows", "Rows"), ("csv", "CSV"), ("parquet", "Parquet")])
    for name, count in data.tables:
        downloads.rows.append(Row(name, [text(name), Cell(fmt_count(count), "count"),
                                         text(f"{name}.csv", href=f"downloads/{name}.csv"),
                                         text(f"{name}.parquet", href=f"../{name}.parquet")]))
    return _write(
        out_dir / "index.html", "index.html", title="Index", root="", meta=data.meta, crumbs=[("Index", None)],
        measures=_measures_table(data), measure_list=", ".join(data.measure_ids()), codes=rows,
        measure_options=sorted({r["measure"] for r in rows}),
        role_options=[r for r in ROLE_ORDER if r in roles] + sorted(roles - set(ROLE_ORDER)), downloads=downloads,
    )


def _measures_table(data: SiteData) -> Table:
    """Each measure's latest performance year with results: a later year whose cases are all still pending (a
    fusion case's 9-15 month window ends up to two years after its surgery) or not yet eligible would otherwise
    head the index with an eligible population of 0 and no rate."""
    table = Table([("measure", "Measure"), ("title", "Title"), ("year", "Latest performance year with results"),
                   ("eligible_population", "Eligible"), ("performance_rate_pct", "Performance rate"),
                   ("pending", "Pending")],
                  empty="No measure in the registry.",
                  note="Pending: cases of that year whose outcome is not known yet at the as-of date. Later years, "
                       "with no result yet, are on each measure's page.")
    for measure_id, title in data.measures.items():
        overall = [r for r in data.performance.get(measure_id, [])
                   if r["entity_level"] == "all" and r["stratum"] == "all"]
        if overall:
            with_results = [r for r in overall if r["eligible_population_suppressed"] or r["eligible_population"]]
            latest = max(with_results or overall, key=lambda r: r["performance_year"])
            cells = [text(str(latest["performance_year"])), cell(latest, "eligible_population"),
                     cell(latest, "performance_rate_pct", "pct"), cell(latest, "pending")]
        else:
            cells = [text(NO_VALUE), Cell(NO_VALUE, "count"), Cell(NO_VALUE, "pct"), Cell(NO_VALUE, "count")]
        table.rows.append(Row(measure_id, [text(measure_id, href=measure_href(measure_id)), text(title), *cells]))
    return table


# ----------------------------------------------------------------------------------------------- code pages


def render_code_page(data: SiteData, code: str, out_dir: Path) -> Path:
    info = data.codes[code]
    memberships = [r for r in data.measure_codes if r["code"] == code]
    facts = [("Measure", _or_dash(info["measure_note"]), None)]
    facts += [("Measure page", f"{m} · {data.measures.get(m, m)}", measure_href(m, "../"))
              for m in dict.fromkeys(r["measure_id"] for r in memberships)]
    facts += [
        ("Role", _or_dash(info["role_note"]), None), ("Status", _or_dash(info["qdc_status"]), None),
        ("Claim lines", cell(info, "claim_lines").text, None), ("Claims", cell(info, "claims").text, None),
        ("Persons", cell(info, "persons").text, None),
        ("Cases assigned this code", cell(info, "cases_assigned").text, None),
        ("First billed", cell(info, "first_service_date", "date").text, None),
        ("Last billed", cell(info, "last_service_date", "date").text, None),
    ]
    sections = [_trend_section(data, code), _payer_section(data, code)]
    sections += [_breakdown_section(data, code, *spec) for spec in BREAKDOWN_SECTIONS]
    sections.append(_code_measure_section(data, code, memberships))
    return _write(
        out_dir / CODES_DIR / f"{code}.html", "page.html", title=code, root="../", meta=data.meta,
        crumbs=[("Index", "../index.html"), ("Codes", "../index.html#codes"), (code, None)],
        heading=f"{code} · {_or_dash(info['role_note'])}", intro=[_or_dash(info["descriptor"])], facts=facts,
        sections=sections,
    )


def _quarter_bars(data: SiteData, overview: list[Record]) -> tuple[list[charts.Bar], Table]:
    """A bar per quarter of the common axis; a hidden quarter carries what its year's total leaves for it."""
    quarters = {r["period"]: r for r in overview if r["period_type"] == "quarter"}
    years = {r["year"]: r for r in overview if r["period_type"] == "year"}
    bounds = {}
    for year, total in years.items():
        members = [r for r in quarters.values() if r["year"] == year]
        visible = [r["claim_lines"] for r in members if not r["claim_lines_suppressed"]]
        bounds[year] = hidden_range(total["claim_lines"], total["claim_lines_suppressed"], visible,
                                    len(members) - len(visible))
    bars, table = [], Table([("period", "Quarter"), ("claim_lines", "Claim lines"), ("claims", "Claims"),
                             ("persons", "Persons")], empty="Not on any claim line.")
    for period in data.quarters:
        row = quarters.get(period)
        if row is None:
            bars.append(charts.Bar(period, 0))
            continue
        if row["claim_lines_suppressed"]:
            bound = bounds.get(row["year"])
            bars.append(charts.Bar(period, None, bound))
            lines = Cell(f"{HIDDEN} ({bound[0]}-{bound[1]})" if bound else HIDDEN, "count", hidden=True)
        else:
            bars.append(charts.Bar(period, row["claim_lines"]))
            lines = cell(row, "claim_lines")
        table.rows.append(Row(period, [text(period), lines, cell(row, "claims"), cell(row, "persons")]))
    return bars, table


def _trend_section(data: SiteData, code: str) -> Section:
    section = Section("trend", "Claim lines by quarter")
    overview = data.overview.get(code, [])
    years = [r for r in overview if r["period_type"] == "year"]
    if not years:
        section.text.append("This code is on no claim line in this data.")
        return section
    bars, quarters = _quarter_bars(data, overview)
    labels = [b.key if len(bars) <= 12 or b.key.endswith("Q1") else "" for b in bars]
    section.chart = charts.bars(f"trend-{code}", f"{code} claim lines per quarter", bars, "claim lines", labels)
    if any(b.value is None for b in bars):
        section.text.append("A hatched span is a hidden count: it covers the range the year's published total "
                            "leaves for it, which its label gives.")
    section.tables.append(Captioned("By year", table_of(years, "period", [
        ("period", "Year", "text"), ("claim_lines", "Claim lines", "count"), ("claims", "Claims", "count"),
        ("persons", "Persons", "count"), ("rendering_npis", "Rendering NPIs", "count"), ("units", "Units", "count"),
        ("allowed_amount", "Allowed", "money"), ("paid_amount", "Paid", "money"),
    ], "Not on any claim line.")))
    section.details.append(Captioned("Claim lines by quarter (the chart's figures)", quarters))
    return section


def _pivot(rows: list[Record], label: list[tuple[str, str]], value: str, share: str, empty: str,
           extra: list[tuple[str, str]] = ()) -> Table:
    """Categories down (keyed by the first label column), years across; each cell `count (share%)`. Categories
    hidden in every year they occur are named in a note instead of filling rows with `hidden`."""
    years = sorted({r["year"] for r in rows})
    table = Table([*label, *extra, *[(str(y), str(y)) for y in years]], empty=empty)
    groups: dict[object, list[Record]] = {}
    for row in rows:
        groups.setdefault(row[label[0][0]], []).append(row)
    hidden_only = []
    for key, members in sorted(groups.items(), key=lambda kv: (-sum(r[value] or 0 for r in kv[1]), str(kv[0]))):
        if all(r[f"{value}_suppressed"] for r in members):
            # a label such as a modifier's coding error is no count: it stays visible with the category
            labels = [f"{heading.lower()}: {members[0][c]}" for c, heading in extra if members[0][c]]
            hidden_only.append(f"{key} ({'; '.join(labels)})" if labels else str(key))
            continue
        by_year = {r["year"]: r for r in members}
        cells = [text(members[0][c]) for c, _ in (*label, *extra)]
        for year in years:
            row = by_year.get(year)
            if row is None:
                cells.append(Cell(NO_VALUE, "count"))
            elif row[f"{value}_suppressed"]:
                cells.append(Cell(HIDDEN, "count", hidden=True))
            else:
                pct = "share hidden" if row[f"{share}_suppressed"] else fmt_pct(row[share])
                cells.append(Cell(f"{fmt_count(row[value])} ({pct})", "count"))
        table.rows.append(Row(str(key), cells))
    if hidden_only:
        table.note = (f"{'Also seen' if table.rows else 'Seen'}, with hidden counts only: "
                      f"{', '.join(sorted(hidden_only))}.")
        table.empty = ""
    return table


def _payer_section(data: SiteData, code: str) -> Section:
    rows = data.breakdowns["code_by_payer"].get(code, [])
    section = Section("payers", "Payer mix", ["Claim lines by payer and year, with each payer's share of the "
                                               "code's claim lines in that year."])
    section.tables.append(Captioned("", _pivot(rows, [("payer", "Payer")], "claim_lines", "share_of_claim_lines_pct",
                                               "No payer on its claims.", extra=[("payer_type", "Payer type")])))
    visible = [r for r in rows if not r["share_of_claim_lines_pct_suppressed"]]
    if visible:
        years = sorted({r["year"] for r in rows})
        totals: dict[str, int] = {}
        for r in visible:
            totals[r["payer"]] = totals.get(r["payer"], 0) + r["claim_lines"]
        top = sorted(totals, key=lambda p: (-totals[p], p))[:TOP_PAYERS]
        shares = {(r["payer"], r["year"]): float(r["share_of_claim_lines_pct"]) for r in visible}
        series = {payer: [shares.get((payer, y)) for y in years] for payer in top}
        rest = [sum(v for (p, y2), v in shares.items() if y2 == y and p not in top) for y in years]
        if any(rest):
            series["other payers"] = rest
        shown = [sum(s[i] or 0.0 for s in series.values()) for i in range(len(years))]
        hidden = [100.0 - v if 100.0 - v >= 0.05 else 0.0 for v in shown]
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
     "claim_lines", "share_of_claim_lines_pct", "No modifier on its claim lines.",
     [("invalid_reason", "Invalid because")]),
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
    rows = data.breakdowns[table].get(code, [])
    return Section(section_id, heading, [BREAKDOWN_TEXT[value]] if rows else [],
                   tables=[Captioned("", _pivot(rows, label, value, share, empty, extra))])


def _code_measure_section(data: SiteData, code: str, memberships: list[Record]) -> Section:
    section = Section("measure", "In its measure")
    if not memberships:
        section.text.append("The pipeline assigns this code in no measure it computes; it is counted on the claims "
                            "only.")
        return section
    for m in memberships:
        section.text.append(f"Measure {m['measure_id']} ({data.measures.get(m['measure_id'], '')}), stratum "
                            f"{m['stratum']}: {OUTCOME_LABELS.get(m['outcome'], m['outcome'])}, performance years "
                            f"{_years(m['year_from'], m['year_to'])}.")
    section.text.append("Performance, the distribution across TINs, the CMS benchmark position and the follow-up "
                        "worklist are on the measure's page.")
    section.tables.append(Captioned(
        "Reporting accuracy: the code the clinical data supports vs the code billed",
        table_of(data.accuracy_by_code.get(code, []), ("measure_id", "performance_year"), [
            ("measure_id", "Measure", "text"), ("performance_year", "Performance year", "text"), *ACCURACY_COLUMNS,
        ], "Neither supported by the clinical data nor billed in a case's window.")))
    return section


ACCURACY_COLUMNS = [
    ("supported_cases", "Supported cases", "count"), ("agree", "Billed as supported", "count"),
    ("conflicting", "Another code billed", "count"), ("supported_not_billed", "Not billed", "count"),
    ("billed_without_support", "Billed without support", "count"), ("agreement_rate_pct", "Agreement", "pct"),
]


# -------------------------------------------------------------------------------------------- measure pages


def render_measure_page(data: SiteData, measure_id: str, out_dir: Path) -> Path:
    performance = data.performance.get(measure_id, [])
    sections = [
        _codes_of_measure(data, measure_id),
        _performance_section(measure_id, [r for r in performance if r["entity_level"] == "all"]),
        _tin_section(data, measure_id, [r for r in performance if r["entity_level"] == "tin" and r["stratum"] == "all"]),
        _position_section(data, measure_id),
        _follow_up_section(data, measure_id),
        Section("accuracy", "Reporting accuracy", [
            "Per code and year: the code the clinical data supports beside the code(s) of the measure billed in the "
            "case's window."], tables=[Captioned("", table_of(
                data.accuracy.get(measure_id, []), ("performance_year", "code"), [
                    ("performance_year", "Year", "text"), ("code", "Code", "text"), *ACCURACY_COLUMNS,
                ], "No supported or billed code of this measure."))]),
    ]
    return _write(
        out_dir / MEASURES_DIR / f"{measure_id}.html", "page.html", title=f"Measure {measure_id}", root="../",
        meta=data.meta,
        crumbs=[("Index", "../index.html"), ("Measures", "../index.html#measures"), (f"Measure {measure_id}", None)],
        heading=f"Measure {measure_id} · {data.measures[measure_id]}", intro=[], facts=[], sections=sections,
    )


def _codes_of_measure(data: SiteData, measure_id: str) -> Section:
    pages = set(data.page_codes())
    table = Table([("stratum", "Stratum"), ("outcome", "Outcome"), ("code", "Code"), ("years", "Performance years")],
                  empty="The registry assigns no code for this measure.")
    for r in (r for r in data.measure_codes if r["measure_id"] == measure_id):
        href = code_href(r["code"], "../") if r["code"] in pages else None
        table.rows.append(Row(f"{r['stratum']}|{r['outcome']}|{r['code']}", [
            text(r["stratum"]), text(OUTCOME_LABELS.get(r["outcome"], r["outcome"])),
            text(r["code"] if href else f"{r['code']} (does not occur)", href=href),
            text(_years(r["year_from"], r["year_to"]))]))
    return Section("codes", "Codes", ["The quality-data codes the pipeline assigns for this measure (the registry)."],
                   tables=[Captioned("", table)])


def _performance_section(measure_id: str, overall: list[Record]) -> Section:
    section = Section("performance", "Performance by year and stratum",
                      ["Performance rate = met / eligible population: a case whose outcome was not measured counts "
                       "as not met. Reporting rate = (met + not met) / eligible population."])
    strata = sorted({r["stratum"] for r in overall} - {"all"})
    strata = (["all"] if len(strata) != 1 else []) + strata  # `all` would repeat a measure's only stratum
    rows = sorted((r for r in overall if r["stratum"] in strata), key=lambda r: (r["performance_year"], r["stratum"]))
    years = sorted({r["performance_year"] for r in rows})
    if years:
        rates = {(r["stratum"], r["performance_year"]): _rate(r) for r in rows}
        section.chart = charts.rates(f"performance-{measure_id}", f"Measure {measure_id} performance rate",
                                     [str(y) for y in years],
                                     {s: [rates.get((s, y)) for y in years] for s in strata})
    section.tables.append(Captioned("", table_of(rows, ("performance_year", "stratum"), [
        ("performance_year", "Year", "text"), ("stratum", "Stratum", "text"), ("cases", "Cases", "count"),
        ("pending", "Pending", "count"), ("not_eligible", "Not eligible", "count"), ("excluded", "Excluded", "count"),
        ("eligible_population", "Eligible", "count"), ("met", "Met", "count"), ("not_met", "Not met", "count"),
        ("not_measured", "Not measured", "count"), ("performance_rate_pct", "Performance rate", "pct"),
        ("reporting_rate_pct", "Reporting rate", "pct"),
    ], "No case of this measure in this data.")))
    return section


def _rate(row: Record) -> float | str | None:
    if row["performance_rate_pct_suppressed"]:
        return HIDDEN
    return None if row["performance_rate_pct"] is None else float(row["performance_rate_pct"])


def _tin_section(data: SiteData, measure_id: str, tins: list[Record]) -> Section:
    section = Section("tins", "Distribution across TINs",
                      ["Each TIN's performance rate (all strata) per year; the lines are the published percentiles "
                       "(10th, median in colour, 90th) of TINs with enough eligible cases.",
                       "TIN counts count providers, not patients, and follow from the published rows of "
                       "measure_performance: they are not suppressed."])
    bench = {(r["performance_year"], r["percentile"]): r
             for r in data.benchmarks.get(measure_id, []) if r["stratum"] == "all"}
    years = sorted({r["performance_year"] for r in tins})
    table = Table([("year", "Year"), ("tins", "TINs"), ("with_rate", "With a published rate"),
                   ("rate_hidden", "Rate hidden"), ("no_eligible", "No eligible case"),
                   ("benchmarked", "TINs in the percentiles"), ("p10", "10th pct"), ("p50", "Median"),
                   ("p90", "90th pct")], empty="No TIN has a case of this measure.")
    points, percentiles = {}, {}
    for year in years:
        of_year = [r for r in tins if r["performance_year"] == year]
        rated = [float(r["performance_rate_pct"]) for r in of_year
                 if not r["performance_rate_pct_suppressed"] and r["performance_rate_pct"] is not None]
        hidden = sum(bool(r["performance_rate_pct_suppressed"]) for r in of_year)
        points[str(year)] = rated
        percentiles[str(year)] = {p: float(bench[year, p]["performance_rate_pct"]) for p in (10, 50, 90)
                                  if (year, p) in bench and not bench[year, p]["performance_rate_pct_suppressed"]}
        any_percentile = next((bench[year, p] for p in (10, 50, 90) if (year, p) in bench), None)
        table.rows.append(Row(str(year), [
            text(str(year)), Cell(fmt_count(len(of_year)), "count"), Cell(fmt_count(len(rated)), "count"),
            Cell(fmt_count(hidden), "count"), Cell(fmt_count(len(of_year) - len(rated) - hidden), "count"),
            cell(any_percentile, "n_entities") if any_percentile else Cell(NO_VALUE, "count"),
            *[cell(bench[year, p], "performance_rate_pct", "pct") if (year, p) in bench else Cell(NO_VALUE, "pct")
              for p in (10, 50, 90)],
        ]))
    if any(points.values()):
        section.chart = charts.strip(f"tins-{measure_id}", f"Measure {measure_id}: TIN performance rates",
                                     [str(y) for y in years], points, percentiles)
    section.tables.append(Captioned("", table))
    return section


def _position_section(data: SiteData, measure_id: str) -> Section:
    section = Section("benchmark", "Position against the CMS benchmark",
                      ["Each TIN's overall rate placed in CMS's benchmark deciles for its year and submission method, "
                       "with the achievement points it would earn; a TIN below the case minimum, or whose rate is "
                       "hidden, is not positioned."])
    positions = data.positions.get(measure_id, [])
    if not positions:
        section.text.append("No TIN has cases of this measure, so there is nothing to position.")
        return section
    table = Table([("year", "Year"), ("benchmark", "CMS benchmark"), *POSITION_STATUSES.items(),
                   ("median_points", "Median points"), ("deciles", "TINs by decile")])
    for year in sorted({r["performance_year"] for r in positions}):
        of_year = [r for r in positions if r["performance_year"] == year]
        placed = [r for r in of_year if r["position_status"] == "positioned"]
        points = sorted(float(r["achievement_points"]) for r in placed)
        median = (points[(len(points) - 1) // 2] + points[len(points) // 2]) / 2 if points else None
        deciles: dict[int, int] = {}
        for r in placed:
            deciles[r["decile"]] = deciles.get(r["decile"], 0) + 1
        table.rows.append(Row(str(year), [
            text(str(year)), text(of_year[0]["benchmark"]),
            *[Cell(fmt_count(sum(r["position_status"] == s for r in of_year)), "count") for s in POSITION_STATUSES],
            Cell(NO_VALUE if median is None else f"{median:.2f}", "count"),
            text(", ".join(f"{d}: {n}" for d, n in sorted(deciles.items())) or NO_VALUE),
        ]))
        if placed:
            section.details.append(Captioned(f"{year}: the {len(placed)} positioned TINs", table_of(placed, "tin", [
                ("tin", "TIN", "text"), ("performance_rate_pct", "Performance rate", "pct"),
                ("decile", "Decile", "text"), ("achievement_points", "Achievement points", "text"),
            ], "")))
    if all(r["position_status"] == "no_benchmark" for r in positions):
        section.text.append(f"CMS publishes no benchmark for measure {measure_id} in any year shown: the table "
                            "gives CMS's reason for each year.")
    section.tables.append(Captioned("", table))
    return section


def _follow_up_section(data: SiteData, measure_id: str) -> Section:
    section = Section("follow-up", "Follow-up worklist")
    rows = data.follow_up.get(measure_id, [])
    overall = [r for r in rows if r["entity_level"] == "all"]
    if not overall:
        section.text.append("No case of this measure has an open window on the as-of date.")
        return section
    row = overall[0]
    section.text.append(
        f"On {cell(row, 'as_of_date', 'date').text}, {cell(row, 'open_missing_score_pct', 'pct').text} of the "
        f"{cell(row, 'open_cases').text} cases whose window is still open miss a score (they are on the worklist).")
    columns = [
        ("tin", "TIN", "text"), ("open_cases", "Open cases", "count"), ("scored_in_window", "Scored", "count"),
        ("open_missing_score", "Missing a score", "count"), ("not_yet_due", "Not yet due", "count"),
        ("due_now", "Due now", "count"), ("closing_soon", "Closing within 14 days", "count"),
        ("missed", "Missed (last 30 days)", "count"), ("open_missing_score_pct", "Share missing", "pct"),
    ]
    section.tables.append(Captioned("", table_of(_with(overall, tin=lambda r: "all TINs"), "entity_level", columns,
                                                 "")))
    tins = [r for r in rows if r["entity_level"] == "tin"]
    section.details.append(Captioned(f"By TIN ({len(tins)})", table_of(
        _with(tins, tin=lambda r: r["tin"] or "(no TIN)"), "tin", columns, "No TIN.")))
    return section
