"""Crafted raw rows (Tuva input layer) for dbt tests on a throwaway warehouse: claim lines, enrollment, scores."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd


def claim_lines(rows: list[tuple]) -> pd.DataFrame:
    """rows: (person, date, hcpcs, tin, dx1[, dx2])."""
    return pd.DataFrame(
        [
            {
                "claim_id": f"C{i}",
                "claim_line_number": 1,
                "person_id": person,
                "claim_start_date": date.fromisoformat(day),
                "hcpcs_code": hcpcs,
                "rendering_tin": tin,
                "rendering_npi": f"1{tin}",
                "diagnosis_code_1": dx[0],
                "diagnosis_code_2": dx[1] if len(dx) > 1 else None,
                "payer": "Medicare",
            }
            for i, (person, day, hcpcs, tin, *dx) in enumerate(rows)
        ]
    )


def load_raw(path: Path, claims: pd.DataFrame, persons: list[str], scores: list[tuple],
             birth_date: date = date(1970, 5, 1)) -> None:
    """scores: (person, date, source code, result)."""
    eligibility = pd.DataFrame(
        {
            "person_id": persons,
            "birth_date": [birth_date] * len(persons),
            "gender": ["female"] * len(persons),
            "enrollment_start_date": [date(2015, 1, 1)] * len(persons),
            "payer": ["Medicare"] * len(persons),
        }
    )
    observations = pd.DataFrame(
        [
            {"person_id": p, "observation_date": date.fromisoformat(d), "source_code": code, "result": value}
            for p, d, code, value in scores
        ]
    )
    with duckdb.connect(str(path)) as con:
        for table, frame in (("medical_claim", claims), ("eligibility", eligibility), ("observation", observations)):
            con.register("frame", frame.assign(_delivery="2026-06", _line_number=range(2, len(frame) + 2)))
            con.execute(f"insert into raw.{table} by name select * from frame")
            con.unregister("frame")
