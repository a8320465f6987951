"""WAREHOUSE=spark builds the same measure_cases as DuckDB: the boundary cases of the DuckDB tests (measure 459's
codes and strata, 461/471, measure 220's outcomes) plus an improvement of exactly 8.2 - 3.2 = 5.0, loaded into
both warehouses and built by the same dbt models, compared row for row (EXCEPT ALL both ways, typed values)."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest

import test_measure_220_cases as rehab
import test_measure_459_end_to_end as pairs
from conftest import DbtWarehouse
from crafted_claims import load_raw

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]

AS_OF = "2026-06-30"  # the 220 cases' as-of date; the 459 cases (2024 surgeries) are complete by then
RAW_TABLES = ("medical_claim", "eligibility", "observation")


def _boundary_raw(wh: DbtWarehouse) -> None:
    pairs._insert_raw(wh)
    # improvement exactly 5.0 from two one-decimal scores (DuckDB's double would give 4.999...; met by improvement)
    wh.execute("insert into raw.medical_claim (claim_id, claim_line_number, person_id, payer, claim_start_date, "
               "hcpcs_code, diagnosis_code_1, rendering_npi, rendering_tin, _delivery, _line_number) values "
               "('c_exact', 1, 'exact_five', 'Medicare', DATE '2024-01-10', '63030', 'M51.16', '1234567893', "
               "'123456789', 'd1', 90)")
    wh.execute("insert into raw.eligibility (person_id, gender, birth_date, enrollment_start_date, payer, payer_type) "
               "values ('exact_five', 'female', DATE '1960-01-01', DATE '2020-01-01', 'Medicare', 'medicare')")
    wh.execute("insert into raw.observation (person_id, observation_date, source_code, result) values "
               "('exact_five', DATE '2023-12-01', '72514-3', '8.2'), ('exact_five', DATE '2024-04-10', '72514-3', '3.2')")
    # Tuva's grain (session 10): two sources number a claim alike; each line is its own, each makes its case
    wh.execute("insert into raw.medical_claim (claim_id, claim_line_number, data_source, person_id, payer, "
               "claim_start_date, hcpcs_code, diagnosis_code_1, rendering_npi, rendering_tin, _delivery, _line_number) "
               "values ('c_two', 1, 'practice_a', 'source_a', 'Medicare', DATE '2024-02-10', '63030', 'M51.16', "
               "'1234567893', '123456789', 'd1', 91), ('c_two', 1, 'practice_b', 'source_b', 'Medicare', "
               "DATE '2024-02-11', '63030', 'M51.16', '1234567893', '123456789', 'd1', 92)")
    wh.execute("insert into raw.eligibility (person_id, gender, birth_date, enrollment_start_date, payer, payer_type) "
               "values ('source_a', 'female', DATE '1960-01-01', DATE '2020-01-01', 'Medicare', 'medicare'), "
               "('source_b', 'male', DATE '1961-01-01', DATE '2020-01-01', 'Medicare', 'medicare')")
    load_raw(wh.path, rehab.CLAIMS, rehab.PERSONS, rehab.SCORES)


def _copy_raw_to_spark(wh: DbtWarehouse, spark) -> None:
    """The same raw rows in the Spark warehouse (through Arrow; columns by name, Spark's partition column last)."""
    with duckdb.connect(str(wh.path), read_only=True) as con:
        for table in RAW_TABLES:
            arrow = con.sql(f"select * from raw.{table}").to_arrow_table()
            target = spark.table(f"raw.{table}")
            frame = spark.createDataFrame(arrow).select(*target.columns)
            frame.write.insertInto(f"raw.{table}", overwrite=True)


def test_boundary_cases_give_identical_measure_cases_on_both_warehouses(tmp_path, spark_warehouse):
    wh = DbtWarehouse(tmp_path)
    _boundary_raw(wh)
    dbt_vars = json.dumps({"as_of_date": AS_OF})
    build = ("build", "--select", "+measure_cases", "+score_pairs", "+rehab_episodes", "+measure_codes",
             "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test", "--vars", dbt_vars)
    wh.dbt(*build)

    spark_warehouse.reset()
    _copy_raw_to_spark(wh, spark_warehouse.spark)
    spark_warehouse.dbt(*build)

    spark_cases = spark_warehouse.spark.table("marts.measure_cases").toArrow()
    with duckdb.connect(str(wh.path), read_only=True) as con:
        con.register("spark_cases", spark_cases)
        duck_types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                      "where table_schema = 'marts' and table_name = 'measure_cases'").fetchall())
        spark_types = dict(con.execute("select column_name, column_type from (describe spark_cases)").fetchall())
        only_duckdb = con.execute("select * from marts.measure_cases except all select * from spark_cases").fetchall()
        only_spark = con.execute("select * from spark_cases except all select * from marts.measure_cases").fetchall()
        total = con.execute("select count(*) from marts.measure_cases").fetchone()[0]
        codes = dict(con.execute("select person_id || '/' || measure_id, coalesce(qdc_code, status) "
                                 "from spark_cases").fetchall())
        exact = con.execute("select improvement from spark_cases where person_id = 'exact_five' "
                            "and measure_id = '459'").fetchone()[0]
        residuals = dict(con.execute("select person_id, residual from spark_cases "
                                     "where measure_id = '220' and residual is not null").fetchall())

    # decimals stay decimals of the same scale (a DOUBLE on one side would hide 4.9999 behind a cast)
    decimals = {c: t for c, t in duck_types.items() if t.startswith("DECIMAL")}
    assert decimals and all(spark_types[c] == t for c, t in decimals.items()), (decimals, spark_types)
    assert only_duckdb == [] and only_spark == []
    two_sources = "select claim_key, person_id from staging.base_medical_claim where claim_id = 'c_two' order by 1"
    expected = [("10:practice_a|c_two", "source_a"), ("10:practice_b|c_two", "source_b")]
    assert wh.query(two_sources) == expected
    assert [tuple(r) for r in spark_warehouse.spark.sql(two_sources).collect()] == expected
    assert {r[0] for r in wh.query("select person_id from marts.measure_cases where measure_id = '459'")} >= {
        "source_a", "source_b"}
    assert total >= len(pairs.SURGERIES) * 3 + 6
    assert exact == Decimal("5.000") and codes["exact_five/459"] == "G2136"
    assert codes["not_met/459"] == "G2137" and codes["fusion_not_met/459"] == "G2139"
    assert codes["p_met/220"] == "G8659" and codes["p_parkinson/220"] == "M1122"
    assert residuals == {"p_met": Decimal("0.000"), "p_not_met": Decimal("-0.500")}

    # the blocking suites run on Spark's tables (bounded frames), pass on these cases, and fail on a bad row
    _suites_on_spark_block_bad_rows(spark_warehouse)


def _suites_on_spark_block_bad_rows(spark_warehouse) -> None:
    from pyspark.sql import functions as F

    from orchestration.checks.gx_checks import _parameters
    from orchestration.quality.frames import suite_frame
    from orchestration.quality.suites import load_suite
    from orchestration.quality.validate import run_suite
    from orchestration.spark_warehouse import insert_arrow

    con = spark_warehouse.con

    def outcome(name: str):
        suite = load_suite(name)
        return run_suite(suite_frame(con, name).df, suite, _parameters(suite, con))

    for name in ("measure_cases", "score_pairs", "rehab_episodes"):
        assert outcome(name).severity is None, name
    bad = spark_warehouse.spark.table("marts.measure_cases").where("measure_id = '459' and qdc_code is not null")
    bad = bad.limit(1).withColumn("qdc_code", F.lit("G9999")).toArrow()  # collected before the table is appended to
    insert_arrow(con, "marts.measure_cases", bad)
    assert outcome("measure_cases").severity == "error"
