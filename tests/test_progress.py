"""The console lines of a headless run (orchestration/progress.py): a stage's start and end with its seconds, what
an ingestion step loaded, a step's own progress lines, and a heartbeat for a stage that is quiet too long."""

from __future__ import annotations

import io
import logging
import time
from types import SimpleNamespace

import dagster as dg

from orchestration.progress import Laps, ProgressPrinter


def _record(step: str, event=None, message: str = "", level: int = logging.INFO) -> logging.LogRecord:
    record = logging.LogRecord("dagster", level, __file__, 1, message, None, None)
    record.dagster_meta = {"step_key": step, "dagster_event": event, "orig_message": message}
    return record


def _event(kind: dg.DagsterEventType, data=None) -> SimpleNamespace:
    return SimpleNamespace(event_type=kind, event_specific_data=data)


def _materialization(key: str, **metadata) -> SimpleNamespace:
    values = {k: SimpleNamespace(value=v) for k, v in metadata.items()}
    return SimpleNamespace(materialization=SimpleNamespace(asset_key=dg.AssetKey(key.split("/")), metadata=values))


def test_stage_lines_counts_and_a_heartbeat_for_a_quiet_stage():
    out = io.StringIO()
    printer = ProgressPrinter(out, check_steps={"raw__medical_claim_ledger_reconciles"}, heartbeat=0.3)
    printer.emit(_record("raw__medical_claim", _event(dg.DagsterEventType.STEP_START)))
    for _ in range(2):  # one event per partition of a multi-delivery run: printed once
        printer.emit(_record("raw__medical_claim", _event(
            dg.DagsterEventType.ASSET_MATERIALIZATION,
            _materialization("raw/medical_claim", rows_read=2075, rows_loaded=2075, rows_quarantined=0,
                             warned_by_rule={"missing_hcpcs_code": 149}, quarantined_by_rule={}))))
    printer.emit(_record("raw__medical_claim", _event(dg.DagsterEventType.STEP_SUCCESS)))
    printer.emit(_record("raw__medical_claim_ledger_reconciles", _event(dg.DagsterEventType.STEP_START)))
    printer.emit(_record("raw__medical_claim_ledger_reconciles", _event(dg.DagsterEventType.STEP_SUCCESS)))
    printer.emit(_record("published_tables", _event(dg.DagsterEventType.STEP_START)))
    Laps(lambda line: printer.emit(_record("published_tables", message=line)))("tables built")
    time.sleep(1.2)
    printer.emit(_record("published_tables", _event(dg.DagsterEventType.STEP_SUCCESS)))
    printer.emit(_record("", _event(dg.DagsterEventType.RUN_SUCCESS)))
    lines = [line[10:] for line in out.getvalue().splitlines()]  # without the time of day
    assert lines[:3] == ["ingest medical_claim ...",
                         "  ingest medical_claim: read 2,075, loaded 2,075 (with warn-level gaps: missing_hcpcs_code "
                         "149), quarantined 0",
                         lines[2]]
    assert lines[2].startswith("ingest medical_claim done in ") and lines[2].endswith(" s")
    assert not [line for line in lines if "ledger_reconciles" in line]  # a check that passed is silent
    assert lines[3] == "publication ..." and lines[4].startswith("  publication: tables built (")
    assert any(line.startswith("  publication still running (") for line in lines[5:-1])
    assert lines[-1].startswith("publication done in ")
