"""Spine outcomes pipeline: MIPS 459 and 220 quality-data codes from Tuva-format claims and observations."""

import os

# Blocked network calls stall runs on this kind of machine: no telemetry, ever.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
