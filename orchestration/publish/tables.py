"""The published tables and how each is suppressed.

The exact (unsuppressed) tables are dbt models of the warehouse schema `reporting` (dbt_project/models/reporting,
where every measurement rule lives); `SPECS` says which of their columns are counts, which rows and columns add
up to a published total (complementary suppression) and which figures derive from which counts. Two tables are
made by the publisher itself, from the suppressed measure_performance: measure_benchmarks (percentiles over the
entity rates) and measure_benchmark_position (the dbt model with the suppressed rates hidden).
"""

from __future__ import annotations

from orchestration.publish.suppression import Group, TableSpec

REPORTING_SCHEMA = "reporting"

PERIOD_KEY = ("code", "period_type", "period")
# A code's year: its quarter rows, its year row and their dimension cells are the additive sets of the code tables.
CODE_YEAR = ("code", "year")
QUARTERS_OF_A_YEAR = "period_type = 'quarter'"


def _by_period(*dims: str) -> tuple[Group, ...]:
    """A dimension's cells of one code-period sum to the code's overview row; its quarters sum to its year row."""
    return (
        Group(PERIOD_KEY),
        Group(("code", "year", *dims), QUARTERS_OF_A_YEAR),
    )


LINE_COUNTS = ("claim_lines", "claims", "persons")
ENTITY_GROUPS = (
    Group(("measure_id", "stratum", "performance_year"), "entity_level = 'tin'"),
    Group(("measure_id", "stratum", "performance_year", "tin"), "entity_level = 'tin_npi'"),
)

FOLLOW_UP_COUNTS = (
    "open_cases", "scored_in_window", "open_missing_score", "not_yet_due", "due_now", "closing_soon", "missed",
)

SPECS: dict[str, TableSpec] = {
    "code_catalog": TableSpec(
        name="code_catalog",
        unit=("code",),
        counts=("claim_lines", "claims", "persons", "cases_assigned"),
        derived={"first_service_date": ("claim_lines",), "last_service_date": ("claim_lines",)},
    ),
    "code_overview": TableSpec(
        name="code_overview",
        # the year rows of a code add up across years: all of a code's rows are one unit
        unit=("code",),
        counts=("claim_lines", "claims", "persons", "rendering_npis", "units"),
        groups=(Group(("code", "year"), QUARTERS_OF_A_YEAR), Group(("code",), "period_type = 'year'")),
        derived={
            "allowed_amount": ("claim_lines",),
            "paid_amount": ("claim_lines",),
            "first_service_date": ("claim_lines",),
            "last_service_date": ("claim_lines",),
        },
    ),
    "code_by_payer": TableSpec(
        name="code_by_payer",
        unit=CODE_YEAR,
        counts=LINE_COUNTS,
        groups=_by_period("payer", "payer_type"),
        derived={
            "allowed_amount": ("claim_lines",),
            "paid_amount": ("claim_lines",),
            "share_of_claim_lines_pct": ("claim_lines",),
        },
    ),
    "code_by_place_of_service": TableSpec(
        name="code_by_place_of_service",
        unit=CODE_YEAR,
        counts=LINE_COUNTS,
        groups=_by_period("place_of_service_code"),
        derived={"share_of_claim_lines_pct": ("claim_lines",)},
    ),
    "code_by_provider_taxonomy": TableSpec(
        name="code_by_provider_taxonomy",
        unit=CODE_YEAR,
        counts=(*LINE_COUNTS, "rendering_npis"),
        groups=_by_period("taxonomy_code"),
        derived={"share_of_claim_lines_pct": ("claim_lines",)},
    ),
    "code_modifiers": TableSpec(
        name="code_modifiers",
        unit=CODE_YEAR,
        counts=LINE_COUNTS,
        # A line carries several modifiers, so modifier cells do not add up to the code's total; quarters do.
        groups=(Group(("code", "year", "modifier"), QUARTERS_OF_A_YEAR),),
        derived={"share_of_claim_lines_pct": ("claim_lines",)},
    ),
    "code_related_diagnoses": TableSpec(
        name="code_related_diagnoses",
        unit=CODE_YEAR,
        counts=("claims", "persons"),
        groups=(Group(("code", "year", "diagnosis_code"), QUARTERS_OF_A_YEAR),),
        derived={"share_of_claims_pct": ("claims",)},
    ),
    "code_related_procedures": TableSpec(
        name="code_related_procedures",
        unit=CODE_YEAR,
        counts=("claims", "persons"),
        groups=(Group(("code", "year", "related_code"), QUARTERS_OF_A_YEAR),),
        derived={"share_of_claims_pct": ("claims",)},
    ),
    "measure_performance": TableSpec(
        name="measure_performance",
        unit=("measure_id", "performance_year"),
        counts=("cases", "pending", "not_eligible", "excluded", "eligible_population", "met", "not_met",
                "not_measured"),
        groups=(
            Group(("measure_id", "performance_year", "entity_level", "tin", "rendering_npi"), "stratum <> 'all'"),
            *ENTITY_GROUPS,
        ),
        row_sets=(
            ("eligible_population", "met", "not_met", "not_measured"),
            ("cases", "pending", "not_eligible", "excluded", "eligible_population"),
        ),
        derived={
            # met / eligible: it reveals no more than its two counts (the split of the rest is not in it)
            "performance_rate_pct": ("met", "eligible_population"),
            "reporting_rate_pct": ("met", "not_met", "not_measured", "eligible_population"),
        },
    ),
    "follow_up_worklist_counts": TableSpec(
        name="follow_up_worklist_counts",
        unit=("measure_id",),
        counts=FOLLOW_UP_COUNTS,
        # a measure's TIN rows add up to its 'all' row: together they are one additive set
        groups=(Group(("measure_id",)),),
        row_sets=(
            ("open_cases", "scored_in_window", "open_missing_score"),
            ("open_missing_score", "not_yet_due", "due_now", "closing_soon"),
        ),
        derived={"open_missing_score_pct": ("open_cases", "open_missing_score")},
    ),
    "reporting_accuracy": TableSpec(
        name="reporting_accuracy",
        unit=("code", "measure_id", "performance_year"),
        counts=("supported_cases", "agree", "conflicting", "supported_not_billed", "billed_without_support"),
        groups=(
            Group(("code", "measure_id", "performance_year"), "entity_level = 'tin'"),
            Group(("code", "measure_id", "performance_year", "tin"), "entity_level = 'tin_npi'"),
        ),
        row_sets=(("supported_cases", "agree", "conflicting", "supported_not_billed"),),
        derived={"agreement_rate_pct": ("agree", "supported_cases")},
    ),
}

# Built by the publisher from the suppressed measure_performance (orchestration/publish/benchmarks.py).
BENCHMARKS = TableSpec(name="measure_benchmarks", counts=("n_entities",))
BENCHMARK_POSITION = "measure_benchmark_position"
PUBLISHED_TABLES = (*SPECS, BENCHMARKS.name, BENCHMARK_POSITION)
