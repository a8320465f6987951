"""The open risk model of the rehab measures (220): OLS of the actual FS change on the risk_model_terms seed's terms.

FOTO's own model is proprietary, so episodes without a vendor prediction are scored with this one. Each fit
appends a new version to risk_model.coefficients (one row per measure and term; every rehab measure with FS data
is fitted in that version); dbt applies the measure's latest version, or the one pinned with var
risk_model_version, in int_rehab__predicted. The terms, bands and categories are data (risk_model_terms): the
design matrix is int_rehab__episode_features in long form, pivoted here on the seed's terms.
"""

from dataclasses import dataclass
from datetime import date, datetime, timezone

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.spark_warehouse import dialect, duckdb_extract, insert_arrow

INPUTS_TABLE = "intermediate.int_rehab__episode_inputs"
FEATURES_TABLE = "intermediate.int_rehab__episode_features"
TERMS_TABLE = "reference.risk_model_terms"
COEFFICIENTS_TABLE = "risk_model.coefficients"
COEFFICIENTS_DDL = f"""
create table if not exists {COEFFICIENTS_TABLE} (
    version integer not null,
    measure_id varchar,
    term varchar not null,
    coefficient double not null,
    std_error double,
    reference_start date,
    reference_end date,
    n integer not null,
    r_squared double,
    fitted_at timestamp not null
)
"""
# Versions fitted before the model was kept per measure (no measure_id column) were measure 220's, the only
# rehab measure then.
LEGACY_MEASURE_ID = "220"


class RiskModelError(Exception):
    """The fit cannot run on the data as it is (too few episodes, a feature model out of step with the terms)."""


@dataclass(frozen=True)
class FitResult:
    measure_id: str
    version: int
    n: int
    r_squared: float
    mean_residual: float
    reference_start: date
    reference_end: date
    coefficients: pd.DataFrame  # term, coefficient, std_error


def ensure_coefficients_table(con: duckdb.DuckDBPyConnection) -> None:
    """dbt's risk_model source must resolve before the first fit, so the empty table is created up front; a table
    from before per-measure models gets its measure_id column (Spark warehouses never had one without it)."""
    if dialect(con) == "spark":
        con.execute("create database if not exists risk_model")
        con.execute(COEFFICIENTS_DDL.replace(" not null", "").replace("varchar", "string") + " using parquet")
        return
    con.execute("create schema if not exists risk_model")
    con.execute(COEFFICIENTS_DDL)
    con.execute(f"alter table {COEFFICIENTS_TABLE} add column if not exists measure_id varchar")
    con.execute(f"update {COEFFICIENTS_TABLE} set measure_id = ? where measure_id is null", [LEGACY_MEASURE_ID])


def model_terms(con: duckdb.DuckDBPyConnection, measure_id: str) -> list[str]:
    """The measure's terms, the constant (intercept) first, then by name: the columns of the design matrix."""
    return [row[0] for row in con.execute(
        f"select term from {TERMS_TABLE} where measure_id = ? order by operator <> 'constant', term", [measure_id]
    ).fetchall()]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reference_episodes(
    con: duckdb.DuckDBPyConnection, measure_id: str, terms: list[str], start: date | None, end: date | None
) -> pd.DataFrame:
    present = {row[0] for row in con.execute(
        f"select distinct term from {FEATURES_TABLE} where measure_id = ?", [measure_id]).fetchall()}
    missing = [t for t in terms if t not in present]
    if missing:
        raise RiskModelError(
            f"{FEATURES_TABLE} lacks the term(s) {missing} listed in the risk_model_terms seed for measure "
            f"{measure_id}: rebuild the dbt models or correct the seed."
        )
    columns = ", ".join(f"max(case when f.term = {_literal(t)} then f.value end)::double as {_quoted(t)}"
                        for t in terms)
    return con.execute(
        f"""
        select i.actual_change::double as actual_change, i.end_date, {columns}
        from {INPUTS_TABLE} as i
        join {FEATURES_TABLE} as f on f.episode_id = i.episode_id
        where i.measure_id = $measure and i.is_reference
          and ($start is null or i.end_date >= $start)
          and ($end is null or i.end_date <= $end)
        group by i.episode_id, i.actual_change, i.end_date
        order by i.episode_id
        """,
        {"measure": measure_id, "start": start, "end": end},
    ).df()


def _measures_with_intake_scores(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(
        f"""
        select distinct i.measure_id from {INPUTS_TABLE} as i
        where i.intake_fs is not null and i.measure_id in (select measure_id from {TERMS_TABLE})
        order by 1
        """).fetchall()]


def _fit_one(con: duckdb.DuckDBPyConnection, measure_id: str, version: int, reference_start: date | None,
             reference_end: date | None, fitted_at: datetime) -> FitResult:
    terms = model_terms(con, measure_id)
    episodes = _reference_episodes(con, measure_id, terms, reference_start, reference_end)
    if len(episodes) <= len(terms):
        raise RiskModelError(
            f"The open risk model of measure {measure_id} has {len(terms)} terms but the reference period "
            f"({reference_start or 'first'} to {reference_end or 'last'} episode end) holds only {len(episodes)} "
            "closed, scored, non-excluded episodes: widen the period or load more FS data."
        )
    import statsmodels.api as sm  # here, not at the top: its import (scipy) is ~2 s of every start-up otherwise

    fit = sm.OLS(episodes["actual_change"], episodes[terms]).fit()
    start = reference_start or episodes["end_date"].min()
    end = reference_end or episodes["end_date"].max()
    coefficients = pd.DataFrame(
        {"term": fit.params.index, "coefficient": fit.params.to_numpy(), "std_error": fit.bse.to_numpy()}
    )
    rows = coefficients.assign(
        version=version,
        measure_id=measure_id,
        reference_start=pd.Timestamp(start).date(),
        reference_end=pd.Timestamp(end).date(),
        n=int(fit.nobs),
        r_squared=float(fit.rsquared),
        fitted_at=fitted_at,
    )
    con.register("new_coefficients", rows)
    con.execute(
        f"""
        insert into {COEFFICIENTS_TABLE} (version, measure_id, term, coefficient, std_error, reference_start,
                                          reference_end, n, r_squared, fitted_at)
        select version, measure_id, term, coefficient, std_error, reference_start, reference_end, n, r_squared,
               fitted_at
        from new_coefficients
        """
    )
    con.unregister("new_coefficients")
    return FitResult(
        measure_id=measure_id,
        version=int(version),
        n=int(fit.nobs),
        r_squared=float(fit.rsquared),
        mean_residual=float(np.mean(fit.resid)),
        reference_start=pd.Timestamp(start).date(),
        reference_end=pd.Timestamp(end).date(),
        coefficients=coefficients,
    )


def fit_risk_model(
    con: duckdb.DuckDBPyConnection,
    reference_start: date | None = None,
    reference_end: date | None = None,
    fitted_at: datetime | None = None,
) -> list[FitResult]:
    """Fit every rehab measure that has FS data on its reference episodes, as one new version; [] (nothing
    written) when no measure has any. A refusal of one measure writes nothing for any."""
    ensure_coefficients_table(con)
    measures = _measures_with_intake_scores(con)
    if not measures:
        return []
    version = con.execute(f"select coalesce(max(version), 0) + 1 from {COEFFICIENTS_TABLE}").fetchall()[0][0]
    fitted_at = fitted_at or datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        results = [_fit_one(con, m, version, reference_start, reference_end, fitted_at) for m in measures]
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    return results


def fit_risk_model_on_spark(con, reference_start: date | None = None, reference_end: date | None = None,
                            fitted_at: datetime | None = None) -> list[FitResult]:
    """WAREHOUSE=spark: the same fit on an in-memory extract of its (small) inputs, one row per reference episode
    and term; the new version's coefficients are then appended to the Spark table."""
    ensure_coefficients_table(con)
    with duckdb_extract(con, [INPUTS_TABLE, FEATURES_TABLE, TERMS_TABLE, COEFFICIENTS_TABLE]) as local:
        results = fit_risk_model(local, reference_start, reference_end, fitted_at)
        if results:
            insert_arrow(con, COEFFICIENTS_TABLE, local.sql(
                f"select * from {COEFFICIENTS_TABLE} where version = {results[0].version}").to_arrow_table())
    return results


def _parse(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class RiskModelConfig(dg.Config):
    reference_start: str | None = None  # ISO date: first episode end in the reference period (default: all)
    reference_end: str | None = None  # ISO date: last episode end in the reference period (default: all)


@dg.asset(
    key=["risk_model", "coefficients"],
    group_name="risk_model",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey("int_rehab__episode_inputs"), dg.AssetKey("int_rehab__episode_features"),
          dg.AssetKey("risk_model_terms")],
    description=(
        "Open risk model of the rehab measures (OLS of the actual FS change on the risk_model_terms seed's terms), "
        "one new version per materialization, previous versions kept in risk_model.coefficients."
    ),
)
def risk_model_coefficients(
    context: dg.AssetExecutionContext, config: RiskModelConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        fit = fit_risk_model_on_spark if dialect(con) == "spark" else fit_risk_model
        try:
            results = fit(con, _parse(config.reference_start), _parse(config.reference_end))
        except RiskModelError as exc:
            raise dg.Failure(str(exc)) from exc
    if not results:
        context.log.info("No FS scores of a rehab measure in the data: no model fitted; those measures yield no cases.")
        return dg.MaterializeResult(metadata={"fitted": False, "reason": "no FS data"})
    fits = pd.DataFrame([
        {"measure_id": r.measure_id, "n": r.n, "r_squared": round(r.r_squared, 4),
         "mean_residual": round(r.mean_residual, 6), "reference_start": r.reference_start.isoformat(),
         "reference_end": r.reference_end.isoformat()} for r in results
    ])
    coefficients = pd.concat([r.coefficients.assign(measure_id=r.measure_id) for r in results])
    return dg.MaterializeResult(
        metadata={
            "fitted": True,
            "version": results[0].version,
            "measures": dg.MetadataValue.text(", ".join(r.measure_id for r in results)),
            "n": int(fits["n"].sum()),
            "fits": dg.MetadataValue.md(fits.to_markdown(index=False)),
            "coefficients": dg.MetadataValue.md(
                coefficients[["measure_id", "term", "coefficient", "std_error"]].round(4).to_markdown(index=False)),
        }
    )


ASSETS = [risk_model_coefficients]
