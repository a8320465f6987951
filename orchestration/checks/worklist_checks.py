"""The follow-up worklist's check: it agrees with the case outcomes, and its counts (no identifiers) are metadata.

Blocking: published_tables publishes the worklist counts, so a worklist that disagrees with measure_cases keeps
the previous publication.
"""

import dagster as dg

from orchestration.exports.worklist import COUNTS, WORKLIST, status_counts
from orchestration.resources import WarehouseResource

# open cases with no score that the worklist misses, and listed cases the case model has already decided
AGREEMENT_SQL = f"""
    select
        (select count(*) from marts.measure_cases as cases
         where cases.status = 'pending' and cases.post_score is null
           and cases.case_id not in (select case_id from {WORKLIST})) as unlisted_open_cases,
        (select count(*) from {WORKLIST} as worklist
         left join marts.measure_cases as cases on cases.case_id = worklist.case_id
         where cases.status is distinct from worklist.case_status
            or worklist.case_status not in ('pending', 'not_measured')) as listed_decided_cases
"""


@dg.asset_check(
    asset=dg.AssetKey("follow_up_worklist"),
    name="worklist_agrees_with_cases",
    blocking=True,
    additional_deps=[dg.AssetKey("measure_cases"), dg.AssetKey("follow_up_counts")],
    description=(
        "Every pending case without a score is on the follow-up worklist and every listed case is pending or not "
        "measured in measure_cases; metadata: the worklist's counts per measure and status (no identifiers)."
    ),
)
def worklist_agrees_with_cases(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        ((unlisted, decided),) = con.execute(AGREEMENT_SQL).fetchall()
        counts = status_counts(con)
        ((open_cases, as_of),) = con.execute(f"select sum(open_cases), max(as_of_date) from {COUNTS}").fetchall()
    by_measure: dict[str, dict[str, int]] = {}
    for measure, status, cases in counts:
        by_measure.setdefault(str(measure), {})[status] = int(cases)
    passed = unlisted == 0 and decided == 0
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if passed else (
            f"{unlisted} pending case(s) without a score are not on the worklist; {decided} listed case(s) are "
            "decided or disagree with measure_cases"),
        metadata={
            "as_of_date": str(as_of) if as_of else "",
            "cases_by_measure_and_status": dg.MetadataValue.json(by_measure),
            "listed_cases": sum(n for _, _, n in counts),
            "open_cases": int(open_cases or 0),
            "unlisted_open_cases": int(unlisted),
            "listed_decided_cases": int(decided),
        },
    )


CHECKS = [worklist_agrees_with_cases]
