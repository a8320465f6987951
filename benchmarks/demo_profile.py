"""Where the time of `spine-pipeline demo` goes (docs/performance.md, "Fixed costs"): the run itself, excluding the
virtualenv set-up and the generation of the sample.

    python benchmarks/demo_profile.py                # 10k persons (the bundled demo sample), first run = a refit
    python benchmarks/demo_profile.py --again        # then a second `demo` on the same DATA_DIR (a refresh)

The sample is generated once under --work (not timed) and copied into a fresh DATA_DIR/sample, where `demo` finds
it. Each `demo` runs in a child process; printed: wall and CPU seconds (the child and its dbt processes), the
start-up before the first Dagster run, every Dagster step (seconds, from the run's event log) and the gaps between
them, and each dbt invocation from dbt's own log (the parse, full or partial; each build's node execution and total;
the CPU of the process so far, dbt running inside it). The machine is shared: note `uptime` with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_demo(data_dir: Path) -> dict:
    env = {**os.environ, "DATA_DIR": str(data_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DAGSTER_DISABLE_TELEMETRY": "true"}
    for name in ("LANDING_DIR", "AS_OF_DATE", "DAGSTER_HOME"):
        env.pop(name, None)
    log = data_dir.parent / f"{data_dir.name}_demo_{int(time.time())}.log"
    cpu, started = _cpu_children(), time.time()
    with log.open("w") as out:
        code = subprocess.call([str(BIN / "spine-pipeline"), "demo"], env=env, stdout=out, stderr=subprocess.STDOUT)
    return {"exit": code, "wall": time.time() - started, "cpu": _cpu_children() - cpu, "started": started,
            "log": str(log), "load": os.getloadavg()}


def dagster_steps(data_dir: Path, since: float) -> list[dict]:
    os.environ["DAGSTER_HOME"] = str(data_dir / "dagster_home")
    import dagster as dg

    instance = dg.DagsterInstance.get()
    runs = []
    for run in instance.get_runs():
        logs = instance.all_logs(run.run_id)
        if not logs or logs[0].timestamp < since:
            continue
        starts, steps = {}, []
        for entry in logs:
            if not entry.is_dagster_event:
                continue
            kind = entry.dagster_event.event_type_value
            if kind == "STEP_START":
                starts[entry.step_key] = entry.timestamp
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                steps.append({"step": entry.step_key, "start": starts[entry.step_key],
                              "seconds": entry.timestamp - starts[entry.step_key]})
        runs.append({"job": run.job_name, "start": logs[0].timestamp, "end": logs[-1].timestamp, "steps": steps,
                     "events": len(logs)})
    return sorted(runs, key=lambda r: r["start"])


def dbt_invocations(data_dir: Path, since: float) -> list[dict]:
    logs = sorted((data_dir / "dbt_target").glob("dbt.log*"), key=lambda p: p.stat().st_mtime)  # dbt rotates it
    found: dict[str, dict] = {}
    for line in (line for path in logs for line in path.read_text().splitlines()):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        info = event["info"]
        ts = datetime.fromisoformat(info["ts"].replace("Z", "+00:00")).timestamp()
        if ts < since:
            continue
        d = found.setdefault(info["invocation_id"], {"start": ts, "full_parse": False})
        d["end"] = ts
        if info["name"] == "FoundStats":
            d["parsed"] = ts
        elif info["name"] == "ConcurrencyLine":
            d["nodes_from"] = ts
        elif info["name"] == "UnableToPartialParse":
            d["full_parse"] = True
        elif info["name"] == "ResourceReport":
            d["cpu"] = event["data"]["process_user_time"] + event["data"]["process_kernel_time"]
            d["command"] = event["data"].get("command_name", "?")
    return sorted(found.values(), key=lambda d: d["start"])


def report(name: str, demo: dict, runs: list[dict], dbt: list[dict]) -> None:
    print(f"\n== {name}: exit {demo['exit']}, {demo['wall']:.1f} s wall, {demo['cpu']:.1f} CPU s "
          f"(load average at the end {demo['load'][0]:.1f}); log {demo['log']}")
    cursor = demo["started"]
    print(f"   {'start-up (imports, definitions, deliveries)':<46} {runs[0]['start'] - cursor:6.1f}" if runs else "")
    for run in runs:
        steps = run["steps"]
        first = min((s["start"] for s in steps), default=run["end"])
        print(f"   {run['job']} ({run['events']} events): {run['end'] - run['start']:.1f} s, "
              f"{len(steps)} steps; before the first step {first - run['start']:.1f} s")
        for step in steps:
            print(f"     {step['step']:<44} {step['seconds']:6.2f}")
        cursor = run["end"]
    print(f"   {'after the last run (summary)':<46} {demo['started'] + demo['wall'] - cursor:6.1f}")
    # dbt runs in the pipeline's process (orchestration/dbt_in_process.py): one parse, then builds on its manifest;
    # dbt's ResourceReport then gives the CPU of the whole process so far, not of the invocation
    for i, d in enumerate(dbt, 1):
        total = d["end"] - d["start"]
        if d.get("command") == "parse":
            print(f"   dbt invocation {i}: parse ({'full' if d['full_parse'] else 'partial'}) {total:.1f} s, "
                  f"process CPU at its end {d.get('cpu', 0):.1f} s")
            continue
        parse = d.get("parsed", d["start"]) - d["start"]
        nodes = d["end"] - d.get("nodes_from", d["end"])
        print(f"   dbt invocation {i}: {d.get('command', '?')}: parse {parse:.1f} s, nodes {nodes:.1f} s, "
              f"total {total:.1f} s, process CPU at its end {d.get('cpu', 0):.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--work", type=Path, default=ROOT / ".bench" / "demo")
    parser.add_argument("--again", action="store_true", help="run `demo` a second time on the same DATA_DIR")
    args = parser.parse_args(argv)
    sample = args.work / f"sample_{args.persons}_{args.seed}"
    if not (sample / "medical_claim").exists():
        subprocess.check_call([str(BIN / "sample-data"), "--persons", str(args.persons), "--seed", str(args.seed),
                               "--out", str(sample)])
    data_dir = args.work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    shutil.copytree(sample, data_dir / "sample")
    print(f"uptime: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name in ("first run (refit)", "second run (refresh)") if args.again else ("first run (refit)",):
        demo = run_demo(data_dir)
        report(name, demo, dagster_steps(data_dir, demo["started"]), dbt_invocations(data_dir, demo["started"]))
        if demo["exit"]:
            return demo["exit"]
    return 0


if __name__ == "__main__":
    sys.exit(main())
