"""The benchmark's accounting (benchmarks/pipeline_benchmark.py): the CPU seconds of the process and its children
between two times are what was spent then - the bench reports them beside wall seconds because the machine is
shared."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.pipeline_benchmark import ProcessSampler  # noqa: E402

BUSY = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def test_the_sampler_counts_a_running_childs_cpu_and_not_a_sleeping_one():
    sampler = ProcessSampler(interval=0.05).start()
    begin = time.time()
    subprocess.run([sys.executable, "-c", BUSY.format(seconds=1.0)], check=True)
    busy_end = time.time()
    time.sleep(0.5)
    sampler.stop()
    spent = sampler.cpu(begin, busy_end + 0.1)
    assert 0.8 <= spent <= 2.0, spent  # the child's second, plus the interpreter's start-up
    assert sampler.cpu(busy_end + 0.15, time.time()) < 0.2  # sleeping costs nothing
    assert sampler.cpu(0.0, begin) < 0.2  # before the first sample: not the CPU the process spent before sampling
    assert sampler.peak() > 0 and set(sampler.load()) == {"min", "median", "max"}
