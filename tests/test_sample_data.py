"""The sample-data generator: determinism, the raw-data contract, defects on demand, the truth's terms."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.contract import CONTRACTS
from orchestration.sample_data.cli import generate
from orchestration.sample_data.defects import LATIN1_E_ACUTE, STRAY_FIELD
from orchestration.sample_data.providers import luhn_valid_npi, npi_check_digit
from orchestration.sample_data.truth import TRUE_FS_CHANGE_COEFFICIENTS, TRUE_FS_CHANGE_NOISE_SD

PERSONS = 300


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(PERSONS, 7, out)
    return out


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("damaged")
    generate(PERSONS, 7, out, defect_rate=0.02)
    return out


def _read(root: Path, table: str):
    con = duckdb.connect()
    return con.execute(f"select * from read_csv('{root}/{table}/*', all_varchar=true, header=true)").df()


def test_same_seed_same_bytes_other_seed_other_bytes(clean, tmp_path):
    generate(PERSONS, 7, tmp_path / "again")
    generate(PERSONS, 8, tmp_path / "other")
    assert _digest(clean) == _digest(tmp_path / "again")
    other = _digest(tmp_path / "other")
    assert other.keys() & _digest(clean).keys()
    assert other["medical_claim/2024-06.csv"] != _digest(clean)["medical_claim/2024-06.csv"]


def test_landing_layout_monthly_files(clean):
    months = sorted(p.stem for p in (clean / "medical_claim").glob("*.csv"))
    assert months[0] == "2023-07" and months[-1] == "2025-12" and len(months) == 30
    assert (clean / "provider" / "providers.csv").exists()
    for table in ("observation", "eligibility"):
        assert list((clean / table).glob("20??-??.csv"))


@pytest.mark.parametrize("table", list(CONTRACTS))
def test_output_satisfies_contract(clean, table):
    df = _read(clean, table)
    contract = CONTRACTS[table]
    assert list(df.columns) == contract.names
    for column in contract.required:
        assert df[column].notna().all(), f"{table}.{column} has empty values"
    con = duckdb.connect()
    con.register("t", df)
    for c in contract.columns:
        if c.type != "VARCHAR":
            bad = con.execute(f'select count(*) from t where "{c.name}" is not null '
                          f'and try_cast("{c.name}" as {c.type}) is null').fetchone()[0]
            assert bad == 0, f"{table}.{c.name} does not parse as {c.type}"


def test_npis_pass_luhn_and_tins_have_nine_digits(clean):
    providers = _read(clean, "provider")
    claims = _read(clean, "medical_claim")
    assert luhn_valid_npi(providers["npi"].to_numpy(dtype=str)).all()
    assert luhn_valid_npi(claims["rendering_npi"].to_numpy(dtype=str)).all()
    assert claims["rendering_tin"].str.fullmatch(r"\d{9}").all()


def test_npi_check_digit_matches_cms_example():
    # CMS "NPI check digit" example: 123456789 -> 1234567893
    assert npi_check_digit(np.array([123456789]))[0] == 3
    assert not luhn_valid_npi(np.array(["1234567890"]))[0]


def test_every_quality_code_and_instrument_appears_at_small_scale(clean):
    claims = _read(clean, "medical_claim")
    billed = set(claims["hcpcs_code"])
    for code in ("G2136", "G2137", "G8659", "G8660", "G8662", "M1012", "M1121"):
        assert code in billed, code
    obs = _read(clean, "observation")
    codes = set(obs["source_code"]) | set(obs["normalized_code"].dropna())
    assert {"72514-3", "38214-3", "FOTO-LUMBAR-FS", "FOTO-LUMBAR-FS-PRED", "97909-6", "LEG-PAIN-NRS"} <= codes


def test_each_defect_kind_is_produced(damaged):
    claims_raw = b"".join(p.read_bytes() for p in (damaged / "medical_claim").glob("*.csv"))
    obs_raw = b"".join(p.read_bytes() for p in (damaged / "observation").glob("*.csv"))
    elig_raw = b"".join(p.read_bytes() for p in (damaged / "eligibility").glob("*.csv"))
    for raw in (claims_raw, obs_raw, elig_raw):
        assert STRAY_FIELD + b"\n" in raw
        assert LATIN1_E_ACUTE in raw
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    con = duckdb.connect()

    def count(table: str, where: str) -> int:
        return con.execute(f"select count(*) from read_csv('{damaged}/{table}/*', all_varchar=true, header=true, "
                       f"ignore_errors=true, encoding='latin-1') where {where}").fetchone()[0]

    assert count("medical_claim", "claim_start_date is not null and try_cast(claim_start_date as date) is null")
    assert count("medical_claim", "hcpcs_code in ('ZZ999', '9999X', 'G99999')")
    assert count("medical_claim", "diagnosis_code_1 in ('XX999', 'M99999Z', 'Q')")
    assert count("medical_claim", "person_id is null")
    assert count("medical_claim", "paid_amount is not null and try_cast(paid_amount as decimal(18,2)) is null")
    assert count("observation", "result is not null and try_cast(result as double) is null")
    assert count("observation", "try_cast(result as double) < 0 or try_cast(result as double) > 100")
    assert count("eligibility", "try_cast(birth_date as date) is null")
    dupes = con.execute(f"select count(*) from (select claim_id, claim_line_number, count(*) n from read_csv("
                    f"'{damaged}/medical_claim/*', all_varchar=true, header=true, ignore_errors=true, "
                    f"encoding='latin-1') group by all having n > 1)").fetchone()[0]
    assert dupes


def test_clean_sample_has_no_defects(clean):
    raw = b"".join(p.read_bytes() for p in clean.rglob("*.csv"))
    raw.decode("utf-8")
    assert STRAY_FIELD not in raw


def test_truth_constants_have_the_agreed_terms():
    assert list(TRUE_FS_CHANGE_COEFFICIENTS) == [
        "intercept", "intake_fs", "age_band_45_64", "age_band_65_74", "age_band_75_plus", "sex_male",
        "acuity_22_90", "acuity_over_90", "prior_lumbar_surgery", "comorbidity_count", "payer_medicare",
        "payer_medicare_advantage", "payer_medicaid", "payer_self_pay"]
    assert all(isinstance(v, float) for v in TRUE_FS_CHANGE_COEFFICIENTS.values())
    assert TRUE_FS_CHANGE_NOISE_SD > 0


def test_csv_zst_is_the_same_csv_compressed(tmp_path):
    import pyarrow as pa

    from benchmarks.bench_common import landing_files

    generate(300, 4, tmp_path / "csv", defect_rate=0.02, fmt="csv")
    generate(300, 4, tmp_path / "zst", defect_rate=0.02, fmt="csv.zst")
    for table in ("medical_claim", "observation", "eligibility", "provider"):
        plain, packed = landing_files(tmp_path / "csv", table), landing_files(tmp_path / "zst", table)
        assert [p.name + ".zst" for p in plain] == [p.name for p in packed] and plain
        for a, b in zip(plain, packed):
            with pa.input_stream(str(b), compression="detect") as fh:
                assert fh.read() == a.read_bytes(), b
