"""Every Param of every DAG is bounded: a trigger form or API call cannot hand a run an
unbounded list or string (20,000 Exstream domain names once made the gate write 340,002 audit
rows and a 164 MB ledger)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.dags

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
#: The largest list any Param may accept, and the longest string.
MAX_ITEMS = 200
MAX_LENGTH = 1000


@pytest.fixture(scope="module")
def dagbag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


def _unbounded(schema: dict[str, Any], where: str) -> list[str]:
    """What in ``schema`` has no bound (an empty list means it is bounded)."""
    if "enum" in schema or "const" in schema:
        return []
    found: list[str] = []
    types = _types(schema)
    if not types:
        found.append(f"{where}: no type")
    if "string" in types and not (0 < schema.get("maxLength", 0) <= MAX_LENGTH):
        found.append(f"{where}: string without maxLength <= {MAX_LENGTH}")
    if types & {"integer", "number"} and "maximum" not in schema and "exclusiveMaximum" not in schema:
        found.append(f"{where}: number without maximum")
    if "array" in types:
        if not (0 < schema.get("maxItems", 0) <= MAX_ITEMS):
            found.append(f"{where}: array without maxItems <= {MAX_ITEMS}")
        items = schema.get("items")
        if not isinstance(items, dict):
            found.append(f"{where}: array without an items schema")
        else:
            found.extend(_unbounded(items, f"{where}[]"))
    if "object" in types:
        found.append(f"{where}: free-form object")
    return found


def test_every_param_of_every_dag_is_bounded(dagbag: Any) -> None:
    problems: list[str] = []
    for dag_id, dag in sorted(dagbag.dags.items()):
        for name, param in dag.params.items():
            param = dag.params.get_param(name)
            problems.extend(_unbounded(param.schema, f"{dag_id}.{name}"))
    assert problems == []


def test_every_default_is_within_its_bounds(dagbag: Any) -> None:
    for dag in dagbag.dags.values():
        dag.params.validate()


def test_twenty_thousand_exstream_domains_are_refused_by_the_form(dagbag: Any) -> None:
    from airflow.sdk.definitions.param import ParamValidationError

    param = dagbag.dags["campaign_release"].params.get_param("exstream_domains")
    with pytest.raises(ParamValidationError):
        param.resolve([f"domain-{n}" for n in range(20_000)])
    with pytest.raises(ParamValidationError):
        param.resolve(["x" * 10_000])
