"""Payer normalization by rules (dbt_project/seeds/payer_patterns.csv through staging.stg_payer_spellings): the
spellings real claim and enrollment files carry map to a payer and a payer type; an unmapped spelling is listed
with its line count in staging.payer_unmapped, and its warn-severity test fails without blocking."""

from __future__ import annotations

import pytest

# (spelling as delivered on claims, expected payer type, expected display name or None to skip the name)
SPELLINGS = [
    # the seven the bundled sample carries (issue 12)
    ("Medicare Part B", "medicare", "Medicare"),
    ("CMS Medicare", "medicare", "Medicare"),
    ("Medicare Adv", "medicare_advantage", "Medicare Advantage"),
    ("State Medicaid", "medicaid", "Medicaid"),
    ("Aetna Inc.", "commercial", "Aetna"),
    ("Blue Cross & Blue Shield", "commercial", "Blue Cross Blue Shield"),
    ("Cigna Healthcare", "commercial", "Cigna"),
    # Medicare (fee for service) and its contractors
    ("MEDICARE", "medicare", "Medicare"),
    ("Medicare FFS", "medicare", "Medicare"),
    ("Railroad Medicare", "medicare", "Medicare"),
    ("Novitas Solutions", "medicare", "Medicare"),
    ("Noridian Healthcare Solutions", "medicare", "Medicare"),
    ("AARP Medicare Supplement", "medicare", "Medicare"),
    # Medicare Advantage, with and without a carrier
    ("Medicare Advantage", "medicare_advantage", "Medicare Advantage"),
    ("MA PPO", "medicare_advantage", "Medicare Advantage"),
    ("Humana Gold Plus HMO", "medicare_advantage", "Humana"),
    ("HUMANA", "medicare_advantage", "Humana"),
    ("UnitedHealthcare Medicare Advantage", "medicare_advantage", "UnitedHealthcare"),
    ("AARP MedicareComplete", "medicare_advantage", "UnitedHealthcare"),
    ("Aetna Medicare PPO", "medicare_advantage", "Aetna"),
    ("Cigna-HealthSpring", "medicare_advantage", "Cigna"),
    ("Kaiser Permanente Senior Advantage", "medicare_advantage", "Kaiser Permanente"),
    ("WellCare", "medicare_advantage", "WellCare"),
    ("UHC Dual Complete", "medicare_advantage", "UnitedHealthcare"),
    # Medicaid and managed Medicaid
    ("Managed Medicaid", "medicaid", "Medicaid"),
    ("Medi-Cal", "medicaid", "Medicaid"),
    ("MassHealth", "medicaid", "Medicaid"),
    ("UnitedHealthcare Community Plan", "medicaid", "UnitedHealthcare"),
    ("Aetna Better Health", "medicaid", "Aetna"),
    ("Molina Healthcare", "medicaid", "Molina"),
    ("Amerigroup", "medicaid", None),
    ("CareSource", "medicaid", None),
    ("Centene Corporation", "medicaid", "Centene"),
    # national carriers' commercial plans
    ("UHC", "commercial", "UnitedHealthcare"),
    ("United Healthcare", "commercial", "UnitedHealthcare"),
    ("UMR", "commercial", "UnitedHealthcare"),
    ("Anthem Blue Cross", "commercial", "Anthem"),
    ("Elevance Health", "commercial", "Anthem"),
    ("BCBS of Texas", "commercial", "Blue Cross Blue Shield"),
    ("Florida Blue", "commercial", "Blue Cross Blue Shield"),
    ("Highmark Blue Shield", "commercial", "Blue Cross Blue Shield"),
    ("Kaiser Foundation Health Plan", "commercial", "Kaiser Permanente"),
    ("Ambetter from Sunshine Health", "commercial", "Ambetter"),
    ("Oscar", "commercial", None),
    ("Commercial", "commercial", "Commercial"),
    # self-pay and programs that are neither Medicare, Medicaid nor commercial
    ("Self Pay", "self_pay", "Self-pay"),
    ("SELF-PAY", "self_pay", "Self-pay"),
    ("Uninsured", "self_pay", "Self-pay"),
    ("Cash", "self_pay", "Self-pay"),
    ("TRICARE East", "other", "TRICARE"),
    ("Humana Military", "other", "TRICARE"),
    ("Workers Comp", "other", None),
    ("VA Community Care", "other", None),
]
UNMAPPED = "Acme Health Cooperative"


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    from conftest import DbtWarehouse

    wh = DbtWarehouse(tmp_path_factory.mktemp("payers"))
    lines = [(s, 1) for s, _, _ in SPELLINGS] + [(UNMAPPED, 3)]
    rows = [f"('c{i}_{k}', 1, 'p{i}', DATE '2024-01-10', '{spelling}')"
            for i, (spelling, n) in enumerate(lines) for k in range(n)]
    wh.execute("insert into raw.medical_claim (claim_id, claim_line_number, person_id, claim_start_date, payer) "
               "values " + ", ".join(rows))
    wh.execute("insert into raw.eligibility (person_id, payer, payer_type, enrollment_start_date) values "
               "('e1', 'Humana', 'medicare', DATE '2024-01-01'), ('e2', 'Aetna', 'commercial', DATE '2024-01-01')")
    wh.dbt("seed", "--select", "payer_patterns")
    wh.dbt("run", "--select", "+stg_payer_spellings", "payer_unmapped", "stg_eligibility",
           "--vars", '{"as_of_date": "2024-12-31"}')
    return wh


def test_at_least_thirty_real_spellings_are_covered():
    assert len(SPELLINGS) >= 30 and len({s.lower() for s, _, _ in SPELLINGS}) == len(SPELLINGS)


def test_real_world_spellings_map_to_their_payer_type(staged):
    mapped = {s: (payer, ptype) for s, payer, ptype in staged.query(
        "select spelling, payer, payer_type from staging.stg_payer_spellings")}
    wrong = [(spelling, mapped.get(spelling.lower()), (name, ptype)) for spelling, ptype, name in SPELLINGS
             if mapped.get(spelling.lower(), (None, None))[1] != ptype
             or (name is not None and mapped[spelling.lower()][0] != name)]
    assert not wrong, wrong


def test_enrollment_type_medicare_with_a_carrier_is_medicare_advantage(staged):
    assert dict(staged.query("select person_id, payer_type from staging.stg_eligibility")) == {
        "e1": "medicare_advantage", "e2": "commercial"}


def test_an_unmapped_spelling_is_listed_with_its_line_count_and_warns(staged):
    assert staged.query("select spelling, claim_lines from staging.payer_unmapped") == [(UNMAPPED.lower(), 3)]
    result = staged.dbt("test", "--select", "payer_unmapped", "--vars", '{"as_of_date": "2024-12-31"}')
    assert "WARN=1" in result.stdout and "ERROR=0" in result.stdout
