"""contentops.mapping.vip_catalog: which VIP entries become Smint.io assets, and how."""

from __future__ import annotations

from typing import Any

import pytest

from contentops.mapping import vip_catalog
from contentops.models.vip import CatalogEntry

pytestmark = pytest.mark.unit


def entry(**fields: Any) -> CatalogEntry:
    body: dict[str, Any] = {
        "id": "vip-cat-1",
        "kind": "localized_version",
        "title": "Key visual (German)",
        "file_name": "kv-de.png",
        "content_type": "image/png",
        "size": 10,
        "status": "approved",
        "version": 3,
        "region": "dach",
        "language": "de",
        "master_entry_id": "vip-cat-0",
        "item_id": "ITM-1001",
        "tags": ["spring", "vip:localized_version"],
        "download_url": "https://vip.example/api/v1/item-media/vip-cat-1/content",
        "updated_at": "2026-11-25T10:00:00Z",
    }
    body.update(fields)
    return CatalogEntry.model_validate(body)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, None),
        ({"status": "draft"}, "not approved in VIP (status draft)"),
        ({"status": "withdrawn"}, "not approved in VIP (status withdrawn)"),
        ({"smintio_asset_id": "asset-1"}, "came from Smint.io (asset asset-1); it is already searchable there"),
        ({"kind": "replacement", "smintio_asset_id": "asset-1", "replaces_asset_id": "asset-1"}, None),
    ],
)
def test_only_approved_vip_content_is_registered_and_nothing_loops_back(fields: dict, reason: str | None) -> None:
    assert vip_catalog.skip_reason(entry(**fields)) == reason


def test_asset_fields_keep_the_vip_identity_and_deduplicate_tags() -> None:
    fields = vip_catalog.asset_fields(entry(), "asset-master")
    assert fields["master_asset_id"] == "asset-master"
    assert fields["tags"] == ["spring", "vip:localized_version", "source:vip"]
    assert fields["metadata"]["vip_entry_id"] == "vip-cat-1" and fields["metadata"]["vip_version"] == 3
    assert fields["metadata"]["vip_master_entry_id"] == "vip-cat-0"
    assert fields["metadata"]["vip_item"] == "ITM-1001"  # the catalog item VIP holds it on
    assert (fields["region"], fields["language"], fields["categories"]) == ("dach", "de", ["localized_version"])
    assert vip_catalog.reference("vip-cat-1") == "vip:vip-cat-1"


def test_where_the_master_is() -> None:
    assert vip_catalog.master_of(entry()) == ("vip", "vip-cat-0")
    assert vip_catalog.master_of(entry(kind="master_package", master_entry_id=None)) is None
    replacement = entry(kind="replacement", replaces_asset_id="asset-spring-02", master_entry_id=None)
    assert vip_catalog.master_of(replacement) == ("smintio", "asset-spring-02")


def test_each_replacement_version_is_its_own_write() -> None:
    replacement = entry(kind="replacement", replaces_asset_id="asset-spring-02")
    assert vip_catalog.replacement_version(replacement) != vip_catalog.replacement_version(entry(version=4))
    note = vip_catalog.replacement_metadata(replacement, "asset-ref-9")
    assert note["vip_approved_replacement"] == "vip-cat-1" and note["vip_replacement_asset"] == "asset-ref-9"
    assert note["vip_replacement_approved_at"].startswith("2026-11-25T10:00")


def test_a_superseded_master_names_its_successor_and_the_version_it_took() -> None:
    replacement = entry(kind="replacement", replaces_asset_id="asset-spring-02", version=5)
    note = vip_catalog.superseded_metadata(replacement)
    assert note == {
        "superseded_by_vip_entry": "vip-cat-1",
        "superseded_by_vip_version": 5,
        "superseded_at": "2026-11-25T10:00:00+00:00",
    }


@pytest.mark.parametrize("name", ["../kv.png", "a/b.png", ".hidden", "a\\b.png"])
def test_a_file_name_that_is_a_path_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="file_name"):
        entry(file_name=name)
