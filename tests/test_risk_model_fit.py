"""The open risk model fit on a features table drawn from the generator's true coefficients: recovery,
versioning, reference period, and the refusals (too few episodes, a missing term, no FS data)."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.assets.risk_model import (
    COEFFICIENTS_TABLE,
    RiskModelError,
    ensure_coefficients_table,
    fit_risk_model,
    risk_model_coefficients,
)
from orchestration.resources import WarehouseResource
from orchestration.sample_data.truth import TRUE_FS_CHANGE_COEFFICIENTS, TRUE_FS_CHANGE_NOISE_SD
from orchestration.settings import SEEDS_DIR

TERMS = [t for t in TRUE_FS_CHANGE_COEFFICIENTS if t != "intercept"]


def _features(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age_band = rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])
    acuity = rng.choice(3, n)
    payer = rng.choice(5, n)
    frame = pd.DataFrame({
        "episode_id": [f"e{i}" for i in range(n)],
        "end_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D"),
        "is_reference": True,
        "intake_fs": rng.integers(10, 90, n).astype(float),
        "age_band_45_64": (age_band == 1).astype(int),
        "age_band_65_74": (age_band == 2).astype(int),
        "age_band_75_plus": (age_band == 3).astype(int),
        "sex_male": rng.integers(0, 2, n),
        "acuity_22_90": (acuity == 1).astype(int),
        "acuity_over_90": (acuity == 2).astype(int),
        "prior_lumbar_surgery": (rng.random(n) < 0.1).astype(int),
        "comorbidity_count": rng.poisson(1.0, n),
        "payer_medicare": (payer == 1).astype(int),
        "payer_medicare_advantage": (payer == 2).astype(int),
        "payer_medicaid": (payer == 3).astype(int),
        "payer_self_pay": (payer == 4).astype(int),
    })
    mean = TRUE_FS_CHANGE_COEFFICIENTS["intercept"] + sum(
        TRUE_FS_CHANGE_COEFFICIENTS[t] * frame[t] for t in TERMS)
    frame["actual_change"] = np.round(mean + rng.normal(0, TRUE_FS_CHANGE_NOISE_SD, n))
    return frame


def _warehouse(path, features: pd.DataFrame) -> None:
    """The dbt models the fit reads, from a wide frame: episode inputs, and the design matrix in long form (one
    value per episode and term, the intercept a constant 1), as int_rehab__episode_features holds it."""
    terms = [t for t in TERMS if t in features.columns]
    long = features.melt(id_vars=["episode_id"], value_vars=terms, var_name="term", value_name="value")
    long = pd.concat([long, features[["episode_id"]].assign(term="intercept", value=1.0)]).assign(measure_id="220")
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate; create schema reference")
        con.register("features", features.assign(measure_id="220"))
        con.execute("create table intermediate.int_rehab__episode_inputs as "
                    "select episode_id, measure_id, end_date, is_reference, actual_change, intake_fs from features")
        con.register("long", long)
        con.execute("create table intermediate.int_rehab__episode_features as "
                    "select episode_id, measure_id, term, value::decimal(18, 3) as value from long")
        con.execute(
            f"create table reference.risk_model_terms as select * from read_csv('{SEEDS_DIR / 'risk_model_terms.csv'}',"
            " types = {'measure_id': 'varchar'})"
        )


def test_fit_recovers_true_coefficients_and_keeps_versions(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse(path, _features(20_000))
    with duckdb.connect(str(path)) as con:
        [first] = fit_risk_model(con)
        [second] = fit_risk_model(con, reference_start=date(2025, 1, 1), reference_end=date(2025, 12, 31))
        versions = con.execute(
            f"select version, count(*), min(n), min(reference_end) from {COEFFICIENTS_TABLE} group by version order by version"
        ).fetchall()
    fitted = first.coefficients.set_index("term")
    # 20k episodes with noise SD 7: standard errors are about 0.2 points for the binary terms.
    for term, true in TRUE_FS_CHANGE_COEFFICIENTS.items():
        tolerance = 0.02 if term == "intake_fs" else 1.0
        assert abs(fitted.loc[term, "coefficient"] - true) < tolerance, term
        assert fitted.loc[term, "std_error"] < tolerance / 2, term
    assert first.n == 20_000 and 0.2 < first.r_squared < 0.9
    assert abs(first.mean_residual) < 1e-6
    assert (first.version, second.version) == (1, 2) and first.measure_id == "220"
    assert versions[0][:3] == (1, len(TRUE_FS_CHANGE_COEFFICIENTS), 20_000)
    assert versions[1][1] == len(TRUE_FS_CHANGE_COEFFICIENTS) and versions[1][2] < 20_000
    assert versions[1][3] == date(2025, 12, 31)


def test_too_few_reference_episodes_fail_clearly(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse(path, _features(len(TRUE_FS_CHANGE_COEFFICIENTS)))
    with duckdb.connect(str(path)) as con, pytest.raises(RiskModelError, match="220 has 14 terms but .* only 14"):
        fit_risk_model(con)


def test_missing_term_column_fails_clearly(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse(path, _features(200).drop(columns=["payer_self_pay"]))
    with duckdb.connect(str(path)) as con, pytest.raises(RiskModelError, match="payer_self_pay"):
        fit_risk_model(con)


def test_no_fs_data_writes_nothing(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse(path, _features(200).assign(intake_fs=None, actual_change=None, is_reference=False))
    with duckdb.connect(str(path)) as con:
        assert fit_risk_model(con) == []
        assert con.execute(f"select count(*) from {COEFFICIENTS_TABLE}").fetchall()[0][0] == 0


def test_asset_reports_fit_without_identifiers(tmp_path):
    _warehouse(tmp_path / "warehouse.duckdb", _features(500))
    result = dg.materialize(
        [risk_model_coefficients],
        resources={"warehouse": WarehouseResource(data_dir=str(tmp_path))},
        run_config={"ops": {"risk_model__coefficients": {"config": {"reference_end": "2026-12-31"}}}},
    )
    assert result.success
    metadata = result.asset_materializations_for_node("risk_model__coefficients")[0].metadata
    assert metadata["n"].value == 500 and metadata["version"].value == 1
    assert "intake_fs" in metadata["coefficients"].value
    assert not any("e1" in str(value.value) for value in metadata.values())

    (tmp_path / "too_few").mkdir()
    _warehouse(tmp_path / "too_few" / "warehouse.duckdb", _features(5))
    failed = dg.materialize(
        [risk_model_coefficients],
        resources={"warehouse": WarehouseResource(data_dir=str(tmp_path / "too_few"))},
        raise_on_error=False,
    )
    assert not failed.success


def test_a_coefficients_table_from_before_per_measure_models_gains_its_measure(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema risk_model")
        con.execute(f"create table {COEFFICIENTS_TABLE} (version integer, term varchar, coefficient double, "
                    "std_error double, reference_start date, reference_end date, n integer, r_squared double, "
                    "fitted_at timestamp)")
        con.execute(f"insert into {COEFFICIENTS_TABLE} values (1, 'intercept', 2.0, 0.1, null, null, 100, 0.5, now())")
        ensure_coefficients_table(con)
        assert con.execute(f"select measure_id, term from {COEFFICIENTS_TABLE}").fetchall() == [("220", "intercept")]
