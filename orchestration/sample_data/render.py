"""From generated arrays to the contract's tables (orchestration/contract.py): text columns in contract order,
ids, payer spellings, amounts, dotted and undotted ICD-10 codes, plus the delivery month of every row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.contract import CONTRACTS
from orchestration.sample_data import codes
from orchestration.sample_data.population import Persons
from orchestration.sample_data.providers import Roster

DATA_SOURCE = "sample_data"
DOTTED_SHARE = 0.15
LINE_DATE_MISSING_SHARE = 0.05
INSTRUMENT_META = {  # code -> source_code_type, description, units
    codes.BACK_PAIN_NRS: ("loinc", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}"),
    codes.BACK_PAIN_VAS: ("loinc", "Pain severity [Score] Visual analog score", "{score}"),
    codes.LEG_PAIN: ("local", "Leg pain numeric rating 0-10", "{score}"),
    codes.ODI: ("loinc", "Oswestry Disability Index total score", "%"),
    codes.FS: ("local", "FOTO Low Back Functional Status", "{score}"),
    codes.FS_PREDICTED: ("local", "FOTO Low Back FS predicted change", "{score}"),
}
# Some sources deliver LOINC-coded scores under their own local code, normalized by Tuva's mapping.
LOCAL_ALIASES = {codes.BACK_PAIN_NRS: "PAIN-NRS-BACK", codes.ODI: "ODI-TOTAL"}


def _text(values) -> pa.Array:
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        # few distinct codes: converting each distinct string once is far cheaper than every row
        uniq, inverse = np.unique(values, return_inverse=True)
        return pa.array(uniq).take(pa.array(inverse.astype(np.int32)))
    arr = pa.array(values)
    if pa.types.is_date(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        arr = pc.cast(arr, pa.string())
    return arr


def _money(amount: np.ndarray) -> pa.Array:
    cents = np.round(amount * 100).astype(np.int64)
    return pc.binary_join_element_wise(_text(cents // 100), pc.utf8_lpad(_text(cents % 100), 2, "0"), ".")


def _blank_to_null(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(_text(numbers), width, "0"), "")


def person_ids(index: np.ndarray) -> pa.Array:
    return _ids("P", index, 8)


def _months(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[M]").astype(np.int32)


def _table(name: str, columns: dict[str, pa.Array], n: int) -> pa.Table:
    contract = CONTRACTS[name]
    null = pa.nulls(n, pa.string())
    return pa.table({c: columns.get(c, null) for c in contract.names})


def medical_claims(rng, lines: dict, persons: Persons, roster: Roster, chunk: int) -> tuple[pa.Table, np.ndarray]:
    order = np.lexsort((np.arange(lines["claim"].size), lines["claim"]))
    L = {k: v[order] for k, v in lines.items()}
    n = order.size
    claim = L["claim"]
    first = np.r_[True, claim[1:] != claim[:-1]] if n else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    sizes = np.diff(np.r_[starts, n])
    line_number = np.arange(n) - np.repeat(starts, sizes) + 1
    claim_start = np.repeat(np.minimum.reduceat(L["date"], starts), sizes) if n else L["date"]
    claim_end = np.repeat(np.maximum.reduceat(L["date"], starts), sizes) if n else L["date"]
    claim_no = np.repeat(np.arange(starts.size), sizes)

    local = L["person"] - persons.index[0]
    payer = persons.payer[local]
    payer_type = persons.payer_type[local]
    spelled = np.empty(n, dtype="U32")
    pick = np.repeat(rng.random(starts.size), sizes)
    for name, spellings in codes.CLAIM_PAYER_SPELLINGS.items():
        sel = payer == name
        spelled[sel] = np.array(spellings)[(pick[sel] * len(spellings)).astype(int)]

    hcpcs = L["hcpcs"]
    uniq, inv = np.unique(hcpcs, return_inverse=True)
    fee = np.array([codes.FEE.get(c, 0.0 if c[0] in "GM" else codes.DEFAULT_FEE) for c in uniq])[inv]
    charge = np.round(fee * L["units"] * np.exp(rng.normal(0, 0.08, n)), 2)
    allowed_ratio = np.zeros(n)
    paid_ratio = np.zeros(n)
    for ptype in codes.PAYER_TYPES:
        sel = payer_type == ptype
        allowed_ratio[sel], paid_ratio[sel] = codes.ALLOWED_RATIO[ptype], codes.PAID_RATIO[ptype]
    allowed = np.round(charge * allowed_ratio, 2)
    paid = np.round(allowed * paid_ratio, 2)

    dotted = np.repeat(rng.random(starts.size) < DOTTED_SHARE, sizes)
    dx = {f"diagnosis_code_{i}": _blank_to_null(_icd_text(L[f"dx{i}"], dotted)) for i in range(1, 5)}
    prov = pa.array(L["prov"].astype(np.int64))
    npi = pa.array(roster.npi).take(prov)
    tin = pa.array(roster.tins[roster.tin_of]).take(prov)
    billing_npi = pa.array(roster.npi[roster.main_start[roster.tin_of]]).take(prov)
    date_text = _text(L["date"])
    no_line_date = rng.random(n) < LINE_DATE_MISSING_SHARE
    columns = {
        "claim_id": _ids(f"C{chunk:04d}", claim_no, 8),
        "claim_line_number": _text(line_number),
        "claim_type": pa.array(np.full(n, "professional")),
        "person_id": person_ids(L["person"]),
        "member_id": _ids("M", L["person"] * 7 + 13, 10),
        "payer": _text(spelled),
        "plan": _text(persons.plan[local]),
        "claim_start_date": _text(claim_start),
        "claim_end_date": _text(claim_end),
        "claim_line_start_date": pc.if_else(pa.array(no_line_date), pa.scalar(None, pa.string()), date_text),
        "claim_line_end_date": pc.if_else(pa.array(no_line_date), pa.scalar(None, pa.string()), date_text),
        "place_of_service_code": _text(L["pos"]),
        "service_unit_quantity": _text(L["units"]),
        "hcpcs_code": _text(hcpcs),
        "hcpcs_modifier_1": _blank_to_null(_text(L["mod1"])),
        "hcpcs_modifier_2": _blank_to_null(_text(L["mod2"])),
        "rendering_npi": npi,
        "rendering_tin": tin,
        "billing_npi": billing_npi,
        "billing_tin": tin,
        "paid_amount": _money(paid),
        "allowed_amount": _money(allowed),
        "charge_amount": _money(charge),
        "diagnosis_code_type": pa.array(np.full(n, "icd-10-cm")),
        **dx,
        "data_source": pa.array(np.full(n, DATA_SOURCE)),
    }
    return _table("medical_claim", columns, n), _months(L["date"])


def _icd_text(codes_: np.ndarray, dotted: np.ndarray) -> pa.Array:
    """ICD-10-CM codes as delivered: mostly without the dot, with it on the dotted rows."""
    plain = _text(codes_)
    with_dot = pc.binary_join_element_wise(pc.utf8_slice_codeunits(plain, 0, 3), pc.utf8_slice_codeunits(plain, 3),
                                           ".")
    return pc.if_else(pa.array(dotted & (np.char.str_len(codes_) > 3)), with_dot, plain)


def eligibility(spans: dict, persons: Persons) -> tuple[pa.Table, np.ndarray]:
    who = spans["who"]
    n = who.size
    columns = {
        "person_id": person_ids(spans["person"]),
        "member_id": _ids("M", spans["person"] * 7 + 13, 10),
        "gender": _text(persons.sex[who]),
        "birth_date": _text(persons.birth[who]),
        "enrollment_start_date": _text(spans["start"]),
        "enrollment_end_date": _text(spans["end"]),
        "payer": _text(persons.payer[who]),
        "payer_type": _text(persons.payer_type[who]),
        "plan": _text(persons.plan[who]),
        "data_source": pa.array(np.full(n, DATA_SOURCE)),
    }
    return _table("eligibility", columns, n), _months(spans["start"])


def _score_text(tenths: np.ndarray, decimals: np.ndarray) -> pa.Array:
    whole = np.abs(tenths) // 10
    sign = np.where(tenths < 0, "-", "")
    text = np.char.add(sign, whole.astype("U4"))
    with_decimal = np.char.add(np.char.add(text, "."), (np.abs(tenths) % 10).astype("U1"))
    return _text(np.where(decimals == 1, with_decimal, text))


def observations(rng, obs: dict, chunk: int) -> tuple[pa.Table, np.ndarray]:
    order = np.lexsort((obs["code"], obs["date"], obs["person"]))
    O = {k: v[order] for k, v in obs.items()}
    n = order.size
    code = O["code"]
    code_type = np.full(n, "local", dtype="U5")
    description = np.empty(n, dtype="U64")
    units = np.empty(n, dtype="U8")
    for c, (ctype, desc, unit) in INSTRUMENT_META.items():
        sel = code == c
        code_type[sel], description[sel], units[sel] = ctype, desc, unit
    aliased = np.zeros(n, dtype=bool)
    source_code = code.copy()
    u = rng.random(n)
    for c, alias in LOCAL_ALIASES.items():
        sel = (code == c) & (u < 0.2)
        aliased |= sel
        source_code[sel] = alias
    null = pa.scalar(None, pa.string())
    columns = {
        "observation_id": _ids(f"O{chunk:04d}", np.arange(n), 8),
        "person_id": person_ids(O["person"]),
        "observation_date": _text(O["date"]),
        "observation_type": pa.array(np.full(n, "assessment")),
        "source_code_type": _text(np.where(aliased, "local", code_type)),
        "source_code": _text(source_code),
        "source_description": _text(description),
        "normalized_code_type": pc.if_else(pa.array(aliased), _text(code_type), null),
        "normalized_code": pc.if_else(pa.array(aliased), _text(code), null),
        "normalized_description": pc.if_else(pa.array(aliased), _text(description), null),
        "result": _score_text(O["tenths"], O["decimals"]),
        "source_units": _text(units),
        "normalized_units": pc.if_else(pa.array(aliased), _text(units), null),
        "data_source": pa.array(np.full(n, DATA_SOURCE)),
    }
    return _table("observation", columns, n), _months(O["date"])


def providers(roster: Roster) -> pa.Table:
    return pa.table({
        "npi": _text(roster.npi),
        "primary_taxonomy_code": _text(roster.taxonomy),
        "provider_organization_name": _text(roster.tin_name[roster.tin_of]),
        "tin": _text(roster.tins[roster.tin_of]),
    })
