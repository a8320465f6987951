"""Several deliveries of a table loaded in one pass (loader.load_deliveries: their files staged together, the rules
run once) give what loading them one at a time gives: rows, quarantine, warnings and ledger, each delivery with its
own load time; duplicates and versions are judged within a delivery, a file delivered twice is skipped, and a file
that breaks the contract fails after the deliveries before it are committed."""

import duckdb
import pytest

from orchestration.ingest import loader
from orchestration.ingest.loader import load_deliveries, load_delivery
from orchestration.ingest.reader import FileContractError
from test_ingest_loader import claims, write

LINE = "C{n},1,P{n},2024-0{m}-01,2024-0{m}-01 00:00:00,63030,icd-10-cm,M51.16,M5416,10.50,x"


def _deliveries(landing):
    """Three months; the same line twice in March (a duplicate), once in April and May (a new version is not a
    duplicate); two versions of C2 in April (conflicting), one per month in March and May (later wins downstream);
    April's file again as a second May file (a duplicate file); a bad date and a malformed amount (warn)."""
    march = claims(landing, "2024-03.csv", LINE.format(n=1, m=3), LINE.format(n=1, m=3), LINE.format(n=2, m=3),
                   "C3,1,P3,2024-02-30,,63030,,M51.16,,,x")
    april = claims(landing, "2024-04.csv", LINE.format(n=1, m=3), LINE.format(n=2, m=4),
                   LINE.format(n=2, m=4).replace("10.50", "11.00"), "C4,1,P4,2024-04-02,,63030,,M51.16,,abc,x")
    may = claims(landing, "2024-05.csv", LINE.format(n=1, m=3), LINE.format(n=2, m=5))
    may_again = write(landing / "medical_claim" / "2024-05-copy_of_april.csv", april.read_bytes())
    return [("2024-03", [march]), ("2024-04", [april]), ("2024-05", [may, may_again])]


def _state(con):
    tables = {
        "raw": "SELECT * EXCLUDE (_loaded_at) FROM raw.medical_claim",
        "quarantine": "SELECT * EXCLUDE (_loaded_at) FROM raw.medical_claim__quarantine",
        "warnings": "SELECT * EXCLUDE (_loaded_at) FROM raw.medical_claim__warnings",
        "ledger": "SELECT * EXCLUDE (loaded_at) FROM raw._deliveries",
    }
    return {name: sorted(map(str, con.execute(sql).fetchall())) for name, sql in tables.items()}


def _count_rule_queries(monkeypatch) -> list:
    queries, real = [], loader.violations_query
    monkeypatch.setattr(loader, "violations_query",
                        lambda *a, **k: (queries.append(a) if k.get("partition") else None) or real(*a, **k))
    return queries


def test_one_pass_over_several_deliveries_equals_one_load_per_delivery(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    deliveries = _deliveries(landing)
    one_by_one, batched = duckdb.connect(), duckdb.connect()
    singles = [load_delivery(one_by_one, "medical_claim", key, files, landing) for key, files in deliveries]
    queries = _count_rule_queries(monkeypatch)
    reports = list(load_deliveries(batched, "medical_claim", deliveries, landing))
    assert len(queries) == 1  # the rules ran once for the three deliveries

    assert _state(batched) == _state(one_by_one)
    assert [(r.delivery, r.read, r.loaded, r.quarantined, r.by_rule, r.warned_by_rule) for r in reports] == \
           [(r.delivery, r.read, r.loaded, r.quarantined, r.by_rule, r.warned_by_rule) for r in singles]
    assert reports[0].by_rule == {"bad_date": 1, "duplicate_line": 1}  # C1 twice in March only
    assert reports[1].by_rule == {"conflicting_versions": 2}  # two versions of C2 within April
    assert [(f.file, f.status) for f in reports[2].files] == [
        ("medical_claim/2024-05-copy_of_april.csv", "skipped_duplicate_file"), ("medical_claim/2024-05.csv", "loaded")]
    assert reports[2].files[0].detail == "same sha256 as 2024-04: medical_claim/2024-04.csv, already loaded"
    # each delivery its own load: one load time per delivery, increasing in delivery order
    times = batched.execute("SELECT delivery, min(loaded_at), max(loaded_at) FROM raw._deliveries "
                            "GROUP BY 1 ORDER BY 1").fetchall()
    assert all(first == last for _, first, last in times)
    assert [t for _, t, _ in times] == sorted(t for _, t, _ in times) and len({t for _, t, _ in times}) == 3


def test_a_delivery_loaded_again_in_the_batch_no_longer_counts_its_old_files(tmp_path):
    """April loaded first with a file it later drops; May, in the same batch as April's new load, carries that
    file: as when April's load has committed first, the file is not a duplicate of April's old load."""
    landing = tmp_path / "landing"
    con = duckdb.connect()
    old = claims(landing, "2024-04-old.csv", LINE.format(n=7, m=4))
    load_delivery(con, "medical_claim", "2024-04", [old], landing)
    old.rename(landing / "moved.csv")
    april = claims(landing, "2024-04.csv", LINE.format(n=8, m=4))
    may = write(landing / "medical_claim" / "2024-05.csv", (landing / "moved.csv").read_bytes())
    reports = list(load_deliveries(con, "medical_claim", [("2024-04", [april]), ("2024-05", [may])], landing))
    assert [f.status for r in reports for f in r.files] == ["loaded", "loaded"]
    assert con.execute("SELECT count(*) FROM raw.medical_claim").fetchone()[0] == 2


def test_a_broken_file_fails_after_the_deliveries_before_it_are_committed(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    deliveries = _deliveries(landing)[:2]
    broken = write(landing / "medical_claim" / "2024-06.csv", "claim_id;patient_id\nC9;P9\n")
    con = duckdb.connect()
    loads = load_deliveries(con, "medical_claim", [*deliveries, ("2024-06", [broken])], landing)
    done = []
    with pytest.raises(FileContractError, match="semicolon"):
        for report in loads:
            done.append(report.delivery)
    assert done == ["2024-03", "2024-04"]
    assert con.execute("SELECT DISTINCT delivery FROM raw._deliveries ORDER BY 1").fetchall() == \
           [("2024-03",), ("2024-04",)]


def test_large_deliveries_are_staged_in_batches_of_their_own(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    deliveries = _deliveries(landing)
    reference = duckdb.connect()
    list(load_deliveries(reference, "medical_claim", deliveries, landing))
    monkeypatch.setattr(loader, "BATCH_BYTES", 1)  # every delivery is over the budget: one per batch
    queries = _count_rule_queries(monkeypatch)
    con = duckdb.connect()
    list(load_deliveries(con, "medical_claim", deliveries, landing))
    assert len(queries) == 3
    assert _state(con) == _state(reference)


class _Counting:
    """A DuckDB connection that counts the statements it is given, by their first words."""

    def __init__(self, con):
        self.con, self.statements = con, []

    def execute(self, sql, *args):
        self.statements.append(" ".join(sql.split()[:3]))
        return self.con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_a_batch_commits_its_deliveries_in_one_transaction_with_one_statement_per_table(tmp_path):
    """docs/performance.md, "Fixed costs", round 4: the 64 monthly deliveries of the demo paid ~12 statements and a
    commit each (~1.5 CPU s); a batch's loads now commit together - still each delivery with its own rows, load time
    and ledger rows (the rows' load time is their ledger row's)."""
    landing = tmp_path / "landing"
    deliveries = _deliveries(landing)
    counting = _Counting(duckdb.connect())
    reports = list(load_deliveries(counting, "medical_claim", deliveries, landing))
    assert [r.delivery for r in reports] == ["2024-03", "2024-04", "2024-05"]
    assert counting.statements.count("BEGIN TRANSACTION") == 1 and counting.statements.count("COMMIT") == 1
    for table in ("raw.medical_claim", "raw.medical_claim__quarantine", "raw.medical_claim__warnings"):
        assert counting.statements.count(f"INSERT INTO {table}") == 1, counting.statements
        assert counting.statements.count(f"DELETE FROM {table}") == 1, counting.statements
    con = counting.con
    assert con.execute("""
        SELECT count(*) FROM (SELECT _delivery, _loaded_at FROM raw.medical_claim
                              UNION SELECT _delivery, _loaded_at FROM raw.medical_claim__quarantine)
        JOIN (SELECT DISTINCT delivery, loaded_at FROM raw._deliveries) ON delivery = _delivery
        WHERE loaded_at <> _loaded_at""").fetchone()[0] == 0
