"""The open risk model of measure 220: OLS of the actual FS change on the risk_model_terms seed's terms.

FOTO's own model is proprietary, so episodes without a vendor prediction are scored with this one. Each fit
appends a new version to risk_model.coefficients (one row per term); dbt applies the latest version, or the
one pinned with var risk_model_version, in int_measure_220__predicted.
"""

from dataclasses import dataclass
from datetime import date, datetime, timezone

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import statsmodels.api as sm

from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

FEATURES_TABLE = "intermediate.int_measure_220__episode_features"
TERMS_TABLE = "reference.risk_model_terms"
COEFFICIENTS_TABLE = "risk_model.coefficients"
INTERCEPT = "intercept"
COEFFICIENTS_DDL = f"""
create table if not exists {COEFFICIENTS_TABLE} (
    version integer not null,
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


class RiskModelError(Exception):
    """The fit cannot run on the data as it is (too few episodes, a feature model out of step with the terms)."""


@dataclass(frozen=True)
class FitResult:
    version: int
    n: int
    r_squared: float
    mean_residual: float
    reference_start: date
    reference_end: date
    coefficients: pd.DataFrame  # term, coefficient, std_error


def ensure_coefficients_table(con: duckdb.DuckDBPyConnection) -> None:
    """dbt's risk_model source must resolve before the first fit, so the empty table is created up front."""
    con.execute("create schema if not exists risk_model")
    con.execute(COEFFICIENTS_DDL)


def model_terms(con: duckdb.DuckDBPyConnection) -> list[str]:
    terms = [row[0] for row in con.execute(f"select term from {TERMS_TABLE} order by term").fetchall()]
    return [INTERCEPT] + [t for t in terms if t != INTERCEPT]


def _reference_episodes(
    con: duckdb.DuckDBPyConnection, terms: list[str], start: date | None, end: date | None
) -> pd.DataFrame:
    feature_columns = {row[0] for row in con.execute(f"describe {FEATURES_TABLE}").fetchall()}
    missing = [t for t in terms if t != INTERCEPT and t not in feature_columns]
    if missing:
        raise RiskModelError(
            f"{FEATURES_TABLE} lacks the term column(s) {missing} listed in the risk_model_terms seed: "
            "rebuild the dbt models or correct the seed."
        )
    columns = ", ".join(["actual_change", *(t for t in terms if t != INTERCEPT), "end_date"])
    return con.execute(
        f"""
        select {columns}
        from {FEATURES_TABLE}
        where is_reference
          and ($start is null or end_date >= $start)
          and ($end is null or end_date <= $end)
        """,
        {"start": start, "end": end},
    ).df()


def _has_intake_scores(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(f"select count(*) from {FEATURES_TABLE} where intake_fs is not null").fetchall()[0][0] > 0


def fit_risk_model(
    con: duckdb.DuckDBPyConnection,
    reference_start: date | None = None,
    reference_end: date | None = None,
    fitted_at: datetime | None = None,
) -> FitResult | None:
    """Fit on the reference episodes and append a new version; None (nothing written) when no FS data exist."""
    ensure_coefficients_table(con)
    if not _has_intake_scores(con):
        return None
    terms = model_terms(con)
    episodes = _reference_episodes(con, terms, reference_start, reference_end)
    if len(episodes) <= len(terms):
        raise RiskModelError(
            f"The open risk model has {len(terms)} terms but the reference period "
            f"({reference_start or 'first'} to {reference_end or 'last'} episode end) holds only {len(episodes)} "
            "closed, scored, non-excluded episodes: widen the period or load more FS data."
        )
    predictors = sm.add_constant(
        episodes[[t for t in terms if t != INTERCEPT]].astype(float), has_constant="add"
    ).rename(columns={"const": INTERCEPT})
    fit = sm.OLS(episodes["actual_change"].astype(float), predictors).fit()
    version = con.execute(f"select coalesce(max(version), 0) + 1 from {COEFFICIENTS_TABLE}").fetchall()[0][0]
    start = reference_start or episodes["end_date"].min()
    end = reference_end or episodes["end_date"].max()
    coefficients = pd.DataFrame(
        {"term": fit.params.index, "coefficient": fit.params.to_numpy(), "std_error": fit.bse.to_numpy()}
    )
    rows = coefficients.assign(
        version=version,
        reference_start=pd.Timestamp(start).date(),
        reference_end=pd.Timestamp(end).date(),
        n=int(fit.nobs),
        r_squared=float(fit.rsquared),
        fitted_at=fitted_at or datetime.now(timezone.utc).replace(tzinfo=None),
    )
    con.register("new_coefficients", rows)
    con.execute(
        f"""
        insert into {COEFFICIENTS_TABLE}
        select version, term, coefficient, std_error, reference_start, reference_end, n, r_squared, fitted_at
        from new_coefficients
        """
    )
    con.unregister("new_coefficients")
    return FitResult(
        version=int(version),
        n=int(fit.nobs),
        r_squared=float(fit.rsquared),
        mean_residual=float(np.mean(fit.resid)),
        reference_start=pd.Timestamp(start).date(),
        reference_end=pd.Timestamp(end).date(),
        coefficients=coefficients,
    )


class RiskModelConfig(dg.Config):
    reference_start: str | None = None  # ISO date: first episode end in the reference period (default: all)
    reference_end: str | None = None  # ISO date: last episode end in the reference period (default: all)


def _parse(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dg.asset(
    key=["risk_model", "coefficients"],
    group_name="risk_model",
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey("int_measure_220__episode_features"), dg.AssetKey("risk_model_terms")],
    description=(
        "Open risk model of measure 220 (OLS of the actual FS change on the risk_model_terms seed's terms), "
        "one new version per materialization, previous versions kept in risk_model.coefficients."
    ),
)
def risk_model_coefficients(
    context: dg.AssetExecutionContext, config: RiskModelConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        try:
            result = fit_risk_model(con, _parse(config.reference_start), _parse(config.reference_end))
        except RiskModelError as exc:
            raise dg.Failure(str(exc)) from exc
    if result is None:
        context.log.info("No FOTO low back FS scores in the data: no model fitted; measure 220 yields no cases.")
        return dg.MaterializeResult(metadata={"fitted": False, "reason": "no FS data"})
    table = result.coefficients.round(4).to_markdown(index=False)
    return dg.MaterializeResult(
        metadata={
            "fitted": True,
            "version": result.version,
            "n": result.n,
            "r_squared": dg.MetadataValue.float(result.r_squared),
            "mean_residual": dg.MetadataValue.float(result.mean_residual),
            "reference_start": result.reference_start.isoformat(),
            "reference_end": result.reference_end.isoformat(),
            "coefficients": dg.MetadataValue.md(table),
        }
    )


ASSETS = [risk_model_coefficients]
