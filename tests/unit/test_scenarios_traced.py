"""docs/scenarios.md traces every scenario to the tests that prove it: each test it names exists.

A renamed or removed test would otherwise leave the table pointing at nothing while the row
still says "covered"."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "scenarios.md"
#: a test file, optionally with ``::test_name`` (a parametrised id's ``[...]`` is not part of the name)
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?(?:\[[^\]`]*\])?`")
ROW = re.compile(r"^\| ([A-Z]+-\d+) \|")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_the_scenario_table_names_exists() -> None:
    missing: list[str] = []
    names: dict[Path, set[str]] = {}
    for file, test in REFERENCE.findall(TABLE.read_text()):
        path = ROOT / file
        if not path.is_file():
            missing.append(file)
            continue
        if test and test not in names.setdefault(path, _test_names(path)):
            missing.append(f"{file}::{test}")
    assert missing == []


def test_every_scenario_row_is_covered_by_a_dag_and_an_end_to_end_test() -> None:
    rows = [line for line in TABLE.read_text().splitlines() if ROW.match(line)]
    assert len(rows) >= 39 + 5  # the seeds' 39 scenarios and X-1 … X-5
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        scenario, dags, tests, status = cells[0], cells[2], cells[3], cells[4]
        assert "`" in dags, f"{scenario} names no DAG"
        assert "tests/e2e/" in tests, f"{scenario} names no end-to-end test"
        assert status.startswith("covered"), f"{scenario}: {status[:60]}"
