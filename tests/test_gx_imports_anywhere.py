"""Great Expectations imports pyspark.sql.connect; without Spark Connect's dependencies that import calls
sys.exit(0) in any process whose __main__ has no __file__ (pytest-xdist workers, `python -c`), and every GX
check in that process then ends silently. The lock installs pyspark[connect] so this cannot happen."""

import subprocess
import sys


def test_great_expectations_imports_in_a_process_without_a_main_file():
    done = subprocess.run(
        [sys.executable, "-c", "import great_expectations; print('imported')"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("imported"), done.stderr[-2000:]
