"""The real-scheduler part of the fault matrix, with its timings (too long for ``make test``).

Runs ``tests/deploy/test_fault_matrix.py::test_a_killed_task_and_a_restarted_scheduler_leave_the_same_partners``
with ``CONTENTOPS_FAULT_MATRIX_STACK=1``: two clean ``dag.test()`` runs of ``campaign_release`` as
the reference, then sandboxes, api-server, scheduler (LocalExecutor), dag-processor and triggerer
as separate processes; the scheduler is stopped and started again while the run waits for its
approvals, each delivery task writing to VIP is killed with SIGKILL, and the DAG runs again. The
test prints what each phase cost; the exit code is pytest's.

    .venv/bin/python benchmarks/fault_matrix_stack.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
TEST = "tests/deploy/test_fault_matrix.py::test_a_killed_task_and_a_restarted_scheduler_leave_the_same_partners"


def main() -> int:
    started = time.monotonic()
    env = {**os.environ, "CONTENTOPS_FAULT_MATRIX_STACK": "1"}
    command = [sys.executable, "-m", "pytest", TEST, "-p", "no:cacheprovider", "-q", "-s", "-o", "log_cli=false"]
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    timings = [line for line in result.stdout.splitlines() if line.startswith("fault matrix stack timings")]
    summary = [line for line in result.stdout.splitlines() if " passed" in line or " failed" in line]
    print("\n".join(timings + summary[-1:]) or result.stdout[-3000:])
    print(f"total wall time: {time.monotonic() - started:.0f} s")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
