"""The published exchanges themselves: each names a public source and is well formed, and the
shape check and the replay server behave as the conformance tests rely on."""

from __future__ import annotations

import json

import pytest
import requests
from conformance.published import PUBLISHED, load_all, shape_differences


def test_every_published_exchange_names_its_public_source() -> None:
    files = sorted(PUBLISHED.glob("*/*.json"))
    for path in files:
        raw = json.loads(path.read_text())
        assert raw.get("source"), f"{path.relative_to(PUBLISHED)} names no public source"
        for source in raw["source"]:
            assert source.get("repo") and source.get("path") and source.get("shows"), path
        assert raw["request"]["method"] and raw["request"]["path"].startswith("/"), path
        assert isinstance(raw["response"]["status"], int), path
    assert len(load_all()) == len(files)


def test_shape_differences_name_missing_keys_and_wrong_types() -> None:
    published = {"status": "success", "data": {"id": "x", "version": 1}, "page": None}
    answer = {"status": "success", "data": {"id": "y", "version": 2, "more": 1}, "page": {"any": "thing"}}
    assert shape_differences(answer, published) == []
    assert shape_differences({"status": "success", "data": [{"id": "y", "version": 2}], "page": 1}, published) == [
        "$.data: array where the vendor shows object"
    ]
    assert shape_differences({"status": True, "data": {"id": "y"}}, published) == [
        "$.status: boolean where the vendor shows string",
        "$.data.version: missing",
        "$.page: missing",
    ]
    assert shape_differences({"items": [{"a": 1}, {"a": "b"}]}, {"items": [{"a": 0}]}) == [
        "$.items[1].a: string where the vendor shows number"
    ]


def test_replay_server_answers_published_exchanges_and_keeps_the_unmatched(tmp_path, replay) -> None:
    from conformance.published import _parse

    path = tmp_path / "x.json"
    path.write_text(
        json.dumps(
            {
                "source": [{"repo": "example/repo", "path": "a.json", "shows": "an example"}],
                "request": {"method": "GET", "path": "/things", "query": {"kind": "a"}},
                "response": {"status": 200, "body": {"data": [{"id": "1"}]}},
            }
        )
    )
    server = replay(_parse("example", path))
    assert requests.get(f"{server.url}/things?kind=a&offset=0", timeout=5).json() == {"data": [{"id": "1"}]}
    missing = requests.get(f"{server.url}/things?kind=b", timeout=5)
    assert missing.status_code == 404 and "no published exchange" in missing.json()["replay"]
    assert [r.query["kind"] for r in server.unmatched] == [["b"]]
    with pytest.raises(requests.HTTPError):
        missing.raise_for_status()
