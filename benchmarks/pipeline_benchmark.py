"""`make bench`: the whole pipeline against a plain-DuckDB floor and a pandas baseline.

For each size: generate (once, cached under .bench/) a sample of N persons, hold its last delivery month back,
materialize everything in one process (ingest -> dbt core -> risk model -> dbt scored -> checks -> publish) and
print per stage the wall seconds, input rows per second and peak memory (RSS of the process and its children,
sampled in a thread); run the floor and the pandas baseline on the same files and as-of date; check that all
three agree on measure 459, the floor and the pipeline on measure 220, and the floor with the published
code-by-payer counts; then deliver the held-back month, re-run only what changed (that partition's ingestion +
the refresh) and report its share of the full run. Figures are written to .bench/results_<size>.json as well.

    python benchmarks/pipeline_benchmark.py [--sizes 1m] [--skip-pandas] [--seed 20260101]
    make bench                 # 1M persons, no pandas baseline
    make bench SIZE=10m        # the out-of-core size (long: a benchmark option, not CI)
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pyarrow as pa

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_common import by_payer_dict, delivery_key, diff_counts  # noqa: E402
from orchestration.contract import TABLES  # noqa: E402
from orchestration.settings import PROJECT_ROOT  # noqa: E402

BENCH_DIR = PROJECT_ROOT / ".bench"
DEFAULT_SEED = 20260101
MONTHLY_TABLES = ("medical_claim", "eligibility", "observation")
STAGE_ORDER = ("ingest", "dbt", "risk model", "dbt scored", "checks", "publish", "dagster overhead")
# issue 16: full run <= 2x the floor, peak memory under 8 GB, one new month <= 15% of the full run end to end
TARGETS = {"ratio_to_floor": 2.0, "peak_memory_gb": 8.0, "incremental_share": 0.15}
GIB = 1024 ** 3
# From this size the sample is compressed and the warehouse runs out of core (`make bench SIZE=10m`)
COMPRESSED_FROM = OUT_OF_CORE_FROM = 5_000_000
# At ~100M claim lines each per-code query spills tens of GB: one dbt model at a time keeps the spill within this
# disk, and code_by_payer's distinct counts need more than 4 GB (docs/performance.md, "10M persons"). A setting
# the user gave wins.
OUT_OF_CORE_SETTINGS = {"DBT_THREADS": "1", "DUCKDB_MEMORY_LIMIT": "10GB"}


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


class ProcessSampler:
    """Peak RSS and CPU seconds of a process and all its children, and the machine's load, every `interval` s.

    The machine is shared: CPU seconds (user + system) are what a stage costs whatever else runs beside it, wall
    seconds are what a user waits; the load average says how far apart the two may be.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.2):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int, float, float]] = []  # (time, rss, cpu seconds so far, load average)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def measure(self) -> tuple[int, float]:
        try:
            children = self.process.children(recursive=True)
            own = self.process.cpu_times()
            rss, cpu = self.process.memory_info().rss, own.user + own.system + own.children_user + own.children_system
        except psutil.NoSuchProcess:
            return 0, self.samples[-1][2] if self.samples else 0.0
        for proc in children:  # running children; the ones that ended are in children_user/children_system
            try:
                times = proc.cpu_times()
                rss, cpu = rss + proc.memory_info().rss, cpu + times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return rss, cpu

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, cpu = self.measure()
            self.samples.append((time.time(), rss, cpu, os.getloadavg()[0]))
            self._stop.wait(self.interval)

    def start(self) -> "ProcessSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        return max((rss for t, rss, _, _ in self.samples if start <= t <= end), default=0)

    def cpu(self, start: float = 0.0, end: float = float("inf")) -> float:
        """CPU seconds spent between two times (to within one sampling interval)."""
        def at(moment: float) -> float:  # the last sample by then; before the first, the first (not zero)
            before = [cpu for t, _, cpu, _ in self.samples if t <= moment]
            return before[-1] if before else self.samples[0][2] if self.samples else 0.0
        return at(end) - at(start)

    def load(self, start: float = 0.0, end: float = float("inf")) -> dict:
        loads = sorted(load for t, _, _, load in self.samples if start <= t <= end)
        if not loads:
            return {}
        return {"min": loads[0], "median": loads[len(loads) // 2], "max": loads[-1]}


def count_rows(paths: list[Path]) -> int:
    """Data rows (lines minus the header) of CSV files, plain or compressed, counted in binary chunks."""
    total = 0
    for path in paths:
        with pa.input_stream(str(path), compression="detect") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
        total += max(lines - 1, 0)
    return total


def landing_format(persons: int) -> str:
    """CSV as a delivery would come; from 5M persons zstd-compressed CSV, as 36 GB of plain CSV at 10M would not
    fit this machine's disk next to the warehouse (the ingestion and the floor read both)."""
    return "csv.zst" if persons >= COMPRESSED_FROM else "csv"


# ---------------------------------------------------------------- datasets


def ensure_dataset(persons: int, seed: int) -> Path:
    fmt = landing_format(persons)
    root = BENCH_DIR / (f"sample_{persons}_{seed}" + ("" if fmt == "csv" else f"_{fmt.replace('.', '_')}"))
    landing = root / "landing"
    marker = root / "complete.json"
    if marker.exists():
        return landing
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    print(f"Generating {persons:,} persons (seed {seed}) into {landing} ...", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "orchestration.sample_data.cli", "--persons", str(persons), "--seed",
                    str(seed), "--out", str(landing), "--format", fmt], check=True, cwd=PROJECT_ROOT)
    marker.write_text(json.dumps({"seconds": time.perf_counter() - started}))
    return landing


def landing_tree(source: Path, target: Path) -> tuple[list[Path], list[Path]]:
    """Symlink every file of `source` into `target` except the last delivery month of the monthly tables.

    Returns (linked, held_back) source paths; `deliver` links the held-back files later.
    """
    files = [p for t in TABLES if (source / t).is_dir() for p in sorted((source / t).iterdir()) if p.is_file()]
    monthly = [p for p in files if p.parent.name in MONTHLY_TABLES]
    last_month = max(delivery_key(p) for p in monthly)
    held_back = [p for p in monthly if delivery_key(p) == last_month]
    linked = [p for p in files if p not in held_back]
    shutil.rmtree(target, ignore_errors=True)
    deliver(source, target, linked)
    return linked, held_back


def deliver(source: Path, target: Path, files: list[Path]) -> None:
    for path in files:
        link = target / path.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path)


# ---------------------------------------------------------------- the pipeline (child process)


def _stage_of(job: str, step_key: str) -> str:
    if job == "ingest_job":
        return "ingest"
    # a refresh builds every model in one dbt step; a refit splits it around the fit (dbt_models, dbt_models_2)
    for marker, stage in (("dbt_models_2", "dbt scored"), ("dbt_models", "dbt"), ("risk", "risk model"),
                          ("publish", "publish")):
        if marker in step_key:
            return stage
    return "checks"


def _step_spans(instance, run_id: str, job: str) -> list[tuple[str, float, float]]:
    import dagster as dg

    starts: dict[str, float] = {}
    spans = []
    for entry in instance.all_logs(run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS,
                                                    dg.DagsterEventType.STEP_FAILURE}):
        key = entry.dagster_event.step_key
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[key] = entry.timestamp
        else:
            spans.append((_stage_of(job, key), starts[key], entry.timestamp))
    return spans


def _profile(spans: list[tuple[str, float, float]], jobs: list[tuple[float, float]],
             sampler: ProcessSampler) -> dict[str, dict]:
    stages: dict[str, dict] = {}
    for stage, start, end in spans:
        entry = stages.setdefault(stage, {"seconds": 0.0, "cpu_seconds": 0.0, "peak_rss": 0})
        entry["seconds"] += end - start
        entry["cpu_seconds"] += sampler.cpu(start, end)
        entry["peak_rss"] = max(entry["peak_rss"], sampler.peak(start, end))
    in_steps = sum(s["seconds"] for s in stages.values())
    wall = sum(end - start for start, end in jobs)
    stages["dagster overhead"] = {"seconds": wall - in_steps,
                                  "cpu_seconds": sum(sampler.cpu(s, e) for s, e in jobs)
                                  - sum(s["cpu_seconds"] for s in stages.values()),
                                  "peak_rss": max(sampler.peak(s, e) for s, e in jobs)}
    return stages


def _warehouse_state(settings) -> dict:
    import duckdb

    from orchestration.resources import resolve_as_of_date

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        as_of = resolve_as_of_date(con, settings)
        summary = con.execute(
            "select measure_id, stratum, status, coalesce(qdc_code, '') as qdc_code, count(*) "
            "from marts.measure_cases where measure_id = '459' group by all"
        ).fetchall()
        summary_220 = con.execute(
            "select tin, performance_year, status, coalesce(qdc_code, ''), count(*) "
            "from marts.measure_cases where measure_id = '220' group by all"
        ).fetchall()
        # the version the run applied (the latest: the benchmark pins none)
        coefficients_220 = con.execute(
            "select term, coefficient from risk_model.coefficients where measure_id = '220' and version = "
            "(select max(version) from risk_model.coefficients where measure_id = '220')"
        ).fetchall()
    with duckdb.connect(str(settings.published_db_path), read_only=True) as con:
        by_payer = con.execute(
            "select code, payer, year, sum(claim_lines), bool_or(claim_lines_suppressed) "
            "from code_by_payer where period_type = 'year' group by all"
        ).fetchall()
    return {
        "as_of": as_of,
        "summary": [[m, s, st, c, n] for m, s, st, c, n in summary],
        "summary_220": [[t, int(y), st, c, n] for t, y, st, c, n in summary_220],
        "coefficients_220": dict(coefficients_220),
        "by_payer": [[c, p, int(y), None if n is None else int(n), bool(sup)] for c, p, y, n, sup in by_payer],
    }


def child_pipeline(landing: Path, data_dir: Path, source: Path, held_back: list[Path], out: Path) -> int:
    os.environ.update(LANDING_DIR=str(landing), DATA_DIR=str(data_dir), DBT_SEND_ANONYMOUS_USAGE_STATS="false",
                      DAGSTER_DISABLE_TELEMETRY="true")
    # dagster-dbt finds `dbt` on PATH: the venv's, also when the venv is not activated
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.pop("AS_OF_DATE", None)
    sampler = ProcessSampler().start()
    started = time.time()
    from orchestration.run import prepare_dagster_home
    from orchestration.settings import load_settings

    settings = load_settings()
    prepare_dagster_home(settings)
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.ingest.discovery import discover_deliveries, register_deliveries

    instance = dg.DagsterInstance.get()
    report: dict = {"startup_seconds": time.time() - started}

    def run(keys: list[str], downstream_job: str) -> tuple[dict, float, float, dict]:
        spans, jobs = [], []
        tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
        for job, job_tags in (("ingest_job", tags), (downstream_job, {})):
            begin = time.time()
            result = defs.resolve_job_def(job).execute_in_process(instance=instance, tags=job_tags, raise_on_error=False)
            jobs.append((begin, time.time()))
            spans += _step_spans(instance, result.run_id, job)
            if not result.success:
                failed = [e.step_key for e in result.all_events if e.is_step_failure]
                raise SystemExit(f"{job} failed (steps {failed}); see the log above")
        begin, end = jobs[0][0], jobs[-1][1]
        return (_profile(spans, jobs, sampler), sum(e - b for b, e in jobs), sum(sampler.cpu(b, e) for b, e in jobs),
                sampler.load(begin, end))

    register_deliveries(instance, landing)
    keys = sorted(discover_deliveries(landing))  # all of them: a resumed run registered them before
    # The full run fits the risk model (refit_job); the incremental month applies it (refresh_job, as daily).
    report["full"], report["full_seconds"], report["full_cpu_seconds"], report["full_load"] = run(keys, "refit_job")
    report["full_peak_rss"] = sampler.peak()
    report["full_state"] = _warehouse_state(settings)
    # kept if the month is cut off (the 10M size runs for hours): the full run's figures are then still on disk
    out.write_text(json.dumps(report, indent=1, default=str))
    deliver(source, landing, held_back)
    new_keys = register_deliveries(instance, landing)
    report["incremental_partitions"] = new_keys
    (report["incremental"], report["incremental_seconds"], report["incremental_cpu_seconds"],
     report["incremental_load"]) = run(new_keys, "refresh_job")
    report["incremental_state"] = _warehouse_state(settings)
    sampler.stop()
    report["peak_rss"] = sampler.peak()
    out.write_text(json.dumps(report, indent=1, default=str))
    return 0


# ---------------------------------------------------------------- baselines (child processes)


def child_baseline(name: str, landing: Path, as_of: str, out: Path, coefficients: Path | None = None) -> int:
    kwargs = {}
    if name == "floor":
        from benchmarks.floor_duckdb import compute
        if coefficients is not None:  # apply the pipeline's risk-model version instead of fitting one
            kwargs["coefficients_220"] = json.loads(coefficients.read_text())
    else:
        from benchmarks.pandas_baseline import compute
    started = time.perf_counter()
    result = compute(landing, as_of, **kwargs)
    result["wall_seconds"] = time.perf_counter() - started
    with open(out, "wb") as fh:
        pickle.dump(result, fh)
    return 0


@contextmanager
def _child(args: list[str], log: Path):
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], stdout=fh,
                                stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_guarded(args: list[str], log: Path, timeout: float, memory_limit: float) -> dict:
    """Run a child under a time and memory guard: its exit code, wall and CPU seconds, peak RSS, the load
    average beside it, and why it was stopped (empty if it was not)."""
    started, cpu_before = time.perf_counter(), _children_cpu()
    with _child(args, log) as proc:
        sampler = ProcessSampler(proc.pid).start()
        reason = ""
        while proc.poll() is None:
            elapsed = time.perf_counter() - started
            if elapsed > timeout:
                reason = f"stopped after {timeout:.0f} s (time guard)"
            elif sampler.samples and sampler.samples[-1][1] > memory_limit:
                reason = f"stopped above {memory_limit / GIB:.0f} GiB RSS (memory guard)"
            if reason:
                proc.kill()
                break
            time.sleep(0.5)
        code = proc.wait()
        sampler.stop()
    return {"code": code, "seconds": time.perf_counter() - started, "cpu_seconds": _children_cpu() - cpu_before,
            "peak_rss": sampler.peak(), "load": sampler.load(), "stopped": reason}


def run_baseline(name: str, landing: Path, as_of: str, work: Path, timeout: float, memory_limit: float,
                 coefficients: dict | None = None) -> dict:
    out = work / f"{name}_{as_of}.pkl"
    args = ["--child-baseline", name, str(landing), as_of, str(out)]
    if coefficients:
        (work / f"{name}_{as_of}_coefficients.json").write_text(json.dumps(coefficients))
        args.append(str(work / f"{name}_{as_of}_coefficients.json"))
    run = run_guarded(args, work / f"{name}_{as_of}.log", timeout, memory_limit)
    measured = {k: run[k] for k in ("seconds", "cpu_seconds", "peak_rss", "load")}
    if run["stopped"] or run["code"] != 0:
        return {"failed": run["stopped"] or f"exit code {run['code']}; see {work / f'{name}_{as_of}.log'}",
                **measured}
    with open(out, "rb") as fh:
        result = pickle.load(fh)
    result["phases"] = result.pop("seconds")
    result.update(measured)
    return result


# ---------------------------------------------------------------- comparison and report


def pipeline_summary(state: dict) -> dict:
    return {tuple(row[:4]): row[4] for row in state["summary"]}


def pipeline_summary_220(state: dict) -> dict:
    return {(row[0] or "", int(row[1]), row[2], row[3]): row[4] for row in state.get("summary_220", [])}


def published_by_payer(state: dict) -> tuple[dict, int]:
    """(code, payer, year) -> published claim lines, leaving out suppressed cells; and how many were left out."""
    comparable = {(c, p, y): n for c, p, y, n, suppressed in state["by_payer"] if not suppressed}
    return comparable, len(state["by_payer"]) - len(comparable)


def floor_by_payer(frame, keys: set) -> dict:
    frame = frame.assign(payer=frame["payer"].fillna("(unknown)"))
    totals = frame.groupby(["hcpcs_code", "payer", "year"])["claim_lines"].sum()
    return {(c, p, int(y)): int(n) for (c, p, y), n in totals.items() if (c, p, int(y)) in keys}


def agreement(name: str, left: dict, right: dict, left_name: str, right_name: str) -> bool:
    diffs = diff_counts(left, right, left_name, right_name)
    print(f"  {name}: {'AGREE' if not diffs else f'{len(diffs)} DISAGREEMENTS'}")
    for line in diffs[:25]:
        print(f"    {line}")
    return not diffs


def fmt_gb(rss: int) -> str:
    return f"{rss / GIB:.2f}"


def fmt_load(load: dict | None) -> str:
    return f"load average {load['min']:.1f}-{load['max']:.1f} (median {load['median']:.1f})" if load else "load not recorded"


def fmt_cpu(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"


def print_pipeline(size: str, rows: int, pipeline: dict) -> None:
    full = pipeline["full_seconds"]
    print(f"\n=== {size}: {rows:,} input rows (claim lines + eligibility + observations), as of "
          f"{pipeline['full_state']['as_of']}")
    print(f"{'stage':<18}{'seconds':>10}{'CPU s':>10}{'rows/s':>14}{'peak GB':>10}")
    for stage in STAGE_ORDER:
        if stage in pipeline["full"]:
            s = pipeline["full"][stage]
            rate = rows / s["seconds"] if s["seconds"] > 0 else float("nan")
            print(f"{stage:<18}{s['seconds']:>10.1f}{fmt_cpu(s.get('cpu_seconds')):>10}{rate:>14,.0f}"
                  f"{fmt_gb(s['peak_rss']):>10}")
    print(f"{'full run':<18}{full:>10.1f}{fmt_cpu(pipeline.get('full_cpu_seconds')):>10}{rows / full:>14,.0f}"
          f"{fmt_gb(pipeline['full_peak_rss']):>10}   (+ {pipeline['startup_seconds']:.1f} s definitions load; "
          f"{fmt_load(pipeline.get('full_load'))})")
    inc = pipeline["incremental"]
    share_cpu = ""
    if pipeline.get("incremental_cpu_seconds") and pipeline.get("full_cpu_seconds"):
        share_cpu = (f"; CPU {pipeline['incremental_cpu_seconds']:.1f} of {pipeline['full_cpu_seconds']:.1f} s = "
                     f"{100 * pipeline['incremental_cpu_seconds'] / pipeline['full_cpu_seconds']:.0f}%")
    print(f"incremental month {pipeline['incremental_partitions']}: {pipeline['incremental_seconds']:.1f} s = "
          f"{100 * pipeline['incremental_seconds'] / full:.0f}% of the full run{share_cpu} ("
          + ", ".join(f"{s} {inc[s]['seconds']:.1f}" for s in STAGE_ORDER if s in inc) + f"); peak RSS "
          f"{fmt_gb(pipeline['peak_rss'])} GB; {fmt_load(pipeline.get('incremental_load'))}")


def report(size: str, rows: int, pipeline: dict, floor: dict, pandas: dict | None, floor_after: dict) -> dict:
    full = pipeline["full_seconds"]
    print_pipeline(size, rows, pipeline)
    print(f"{'floor (DuckDB)':<18}{floor['seconds']:>10.1f}{fmt_cpu(floor.get('cpu_seconds')):>10}"
          f"{rows / floor['seconds']:>14,.0f}{fmt_gb(floor['peak_rss']):>10}   ({fmt_load(floor.get('load'))})")
    if pandas is not None:
        if "failed" in pandas:
            print(f"{'pandas':<18}{'>' + format(pandas['seconds'], '.0f'):>10}{'':>14}{fmt_gb(pandas['peak_rss']):>10}"
                  f"   {pandas['failed']}")
        else:
            print(f"{'pandas':<18}{pandas['seconds']:>10.1f}{rows / pandas['seconds']:>14,.0f}"
                  f"{fmt_gb(pandas['peak_rss']):>10}")
    stage_459 = sum(pipeline["full"].get(s, {}).get("seconds", 0.0) for s in ("ingest", "dbt", "dbt scored"))
    ratios = {
        "pipeline_over_floor_whole": full / floor["seconds"],
        "pipeline_over_floor_459": stage_459 / floor["seconds"],
        "incremental_share": pipeline["incremental_seconds"] / full,
    }
    if pipeline.get("full_cpu_seconds") and floor.get("cpu_seconds"):  # runs from before CPU was recorded lack it
        ratios["pipeline_over_floor_cpu"] = pipeline["full_cpu_seconds"] / floor["cpu_seconds"]
        ratios["incremental_share_cpu"] = pipeline["incremental_cpu_seconds"] / pipeline["full_cpu_seconds"]
    if pandas is not None and "failed" not in pandas:
        ratios["pandas_over_pipeline"] = pandas["seconds"] / full
    print(f"ratios: whole pipeline / floor {ratios['pipeline_over_floor_whole']:.2f}x; "
          f"ingest+dbt / floor {ratios['pipeline_over_floor_459']:.2f}x"
          + (f"; CPU seconds: pipeline / floor {ratios['pipeline_over_floor_cpu']:.2f}x, month / full run "
             f"{100 * ratios['incremental_share_cpu']:.0f}%" if "pipeline_over_floor_cpu" in ratios else "")
          + (f"; pandas / pipeline {ratios['pandas_over_pipeline']:.2f}x" if "pandas_over_pipeline" in ratios else ""))
    print("agreement (measure 459 cases by stratum, status and code; measure 220 cases by TIN, year, status and "
          "code; code-by-payer claim lines):")
    ours = pipeline_summary(pipeline["full_state"])
    agree = {"floor_459": agreement("pipeline vs floor, 459", ours, floor["summary"], "pipeline", "floor")}
    if pandas is not None and "failed" not in pandas:
        agree["pandas_459"] = agreement("pipeline vs pandas, 459", ours, pandas["summary"], "pipeline", "pandas")
    if "summary_220" in pipeline["full_state"]:  # runs from before the floor computed 220 lack it
        # the floor fits its own risk model, as the full run (refit_job) does
        agree["floor_220"] = agreement("pipeline vs floor, 220 (floor's own fit)",
                                       pipeline_summary_220(pipeline["full_state"]), floor["summary_220"],
                                       "pipeline", "floor")
    published, suppressed = published_by_payer(pipeline["full_state"])
    agree["floor_by_payer"] = agreement(
        f"published code_by_payer vs floor ({len(published):,} cells; {suppressed:,} suppressed cells skipped)",
        published, floor_by_payer(floor["by_payer"], set(published)), "published", "floor")
    agree["floor_459_after_incremental"] = agreement(
        "pipeline vs floor after the incremental month, 459",
        pipeline_summary(pipeline["incremental_state"]), floor_after["summary"], "pipeline", "floor")
    if "summary_220" in pipeline["incremental_state"]:
        agree["floor_220_after_incremental"] = agreement(
            "pipeline vs floor after the incremental month, 220 (the pipeline's version applied)",
            pipeline_summary_220(pipeline["incremental_state"]), floor_after["summary_220"], "pipeline", "floor")
    targets = {
        "full run <= 2x floor": ratios["pipeline_over_floor_whole"] <= TARGETS["ratio_to_floor"],
        "peak memory < 8 GB": pipeline["peak_rss"] < TARGETS["peak_memory_gb"] * GIB,
        "incremental month <= 15% of full": ratios["incremental_share"] <= TARGETS["incremental_share"],
    }
    print("targets: " + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in targets.items()))
    return {"size": size, "input_rows": rows, "pipeline": pipeline, "ratios": ratios, "agreement": agree,
            "targets": targets,
            "floor": {k: floor.get(k) for k in ("seconds", "cpu_seconds", "peak_rss", "load", "phases")},
            "pandas": None if pandas is None else {k: pandas[k] for k in ("seconds", "peak_rss", "failed") if k in pandas}}


def machine() -> str:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown cpu")
    return f"{os.cpu_count()} cores ({cpu}), {int(mem.split()[1]) / 1024 ** 2:.1f} GiB RAM"


def bench_size(label: str, seed: int, skip_pandas: bool, pandas_timeout: float, pandas_memory: float,
               from_run: Path | None = None, resume: Path | None = None, pipeline_only: bool = False) -> dict:
    persons = parse_size(label)
    source = ensure_dataset(persons, seed)
    if persons >= OUT_OF_CORE_FROM:
        for name, value in OUT_OF_CORE_SETTINGS.items():
            os.environ.setdefault(name, value)
        print(f"[{label}] out of core: " + ", ".join(f"{n}={os.environ[n]}" for n in OUT_OF_CORE_SETTINGS), flush=True)
    work = from_run or resume or BENCH_DIR / f"run_{persons}_{seed}_{time.strftime('%Y%m%dT%H%M%S')}"
    landing = work / "landing"
    out = work / "pipeline.json"
    if from_run is None and resume is None:
        linked, held_back = landing_tree(source, landing)
    else:  # an earlier run's files: its pipeline again on its warehouse (resume), or only the baselines again
        files = [p for t in TABLES if (source / t).is_dir() for p in sorted((source / t).iterdir()) if p.is_file()]
        last_month = max(delivery_key(p) for p in files if p.parent.name in MONTHLY_TABLES)
        held_back = [p for p in files if p.parent.name in MONTHLY_TABLES and delivery_key(p) == last_month]
        linked = [p for p in files if p not in held_back]
    rows = count_rows([p for p in linked if p.parent.name in MONTHLY_TABLES])
    if from_run is None:
        if resume is not None:  # the held-back month may have been delivered before the run stopped
            for path in held_back:
                (landing / path.parent.name / path.name).unlink(missing_ok=True)
        log = work / ("pipeline_resumed.log" if resume else "pipeline.log")
        print(f"[{label}] pipeline run (log: {log}) ...", flush=True)
        run = run_guarded(
            ["--child-pipeline", str(landing), str(work / "data"), str(source),
             json.dumps([str(p) for p in held_back]), str(out)],
            log, timeout=float("inf"), memory_limit=float("inf"))
        if run["code"] != 0:
            raise SystemExit(f"the pipeline run failed (exit {run['code']}); see {log}")
    pipeline = json.loads(out.read_text())
    if pipeline_only:
        print_pipeline(label, rows, pipeline)
        result = {"size": label, "input_rows": rows, "pipeline": pipeline, "machine": machine(),
                  "resumed": resume is not None}
        (BENCH_DIR / f"results_{label}.json").write_text(json.dumps(result, indent=1, default=str))
        return result
    as_of = pipeline["full_state"]["as_of"]
    held_landing = work / "landing_held_back"
    shutil.rmtree(held_landing, ignore_errors=True)
    deliver(source, held_landing, linked)
    print(f"[{label}] floor ...", flush=True)
    floor = run_baseline("floor", held_landing, as_of, work, float("inf"), float("inf"))
    pandas = None
    if not skip_pandas:
        print(f"[{label}] pandas (guard: {pandas_timeout:.0f} s, {pandas_memory / GIB:.0f} GiB) ...", flush=True)
        pandas = run_baseline("pandas", held_landing, as_of, work, pandas_timeout, pandas_memory)
    print(f"[{label}] floor after the incremental month ...", flush=True)
    # the refresh applies the version the full run fitted, so the floor applies it too
    floor_after = run_baseline("floor", landing, pipeline["incremental_state"]["as_of"], work, float("inf"),
                               float("inf"), pipeline["incremental_state"].get("coefficients_220"))
    for name, result in (("floor", floor), ("floor after incremental", floor_after)):
        if "failed" in result:
            raise SystemExit(f"the {name} run failed: {result['failed']}")
    result = report(label, rows, pipeline, floor, pandas, floor_after)
    result["machine"] = machine()
    (BENCH_DIR / f"results_{label}.json").write_text(json.dumps(result, indent=1, default=str))
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-pipeline":
        landing, data_dir, source, held, out = argv[1:]
        return child_pipeline(Path(landing), Path(data_dir), Path(source), [Path(p) for p in json.loads(held)],
                              Path(out))
    if argv and argv[0] == "--child-baseline":
        return child_baseline(argv[1], Path(argv[2]), argv[3], Path(argv[4]),
                              Path(argv[5]) if len(argv) > 5 else None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m", help="comma-separated person counts, e.g. 10k,100k,1m")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--skip-pandas", action="store_true", help="do not run the pandas baseline")
    parser.add_argument("--pandas-timeout", type=float, default=1800.0, help="seconds before pandas is stopped")
    parser.add_argument("--pandas-memory-gb", type=float, default=12.0, help="RSS at which pandas is stopped")
    parser.add_argument("--from-run", type=Path, help="an earlier run's folder under .bench/: run only the "
                        "baselines again and report with its pipeline figures (one size)")
    parser.add_argument("--resume", type=Path, help="an earlier run's folder under .bench/ whose pipeline did not "
                        "finish: run the pipeline again on its warehouse (deliveries already loaded are not loaded "
                        "again; the held-back month is taken out of its landing first), then report (one size)")
    parser.add_argument("--pipeline-only", action="store_true", help="no floor or pandas baseline: the pipeline's "
                        "full run and incremental month only (the 10M size, whose target is to complete)")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}")
    for label in args.sizes.split(","):
        bench_size(label.strip(), args.seed, args.skip_pandas, args.pandas_timeout, args.pandas_memory_gb * GIB,
                   args.from_run, args.resume, args.pipeline_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
