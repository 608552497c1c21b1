"""Mappings as configuration, end to end: an edited ``mappings/vip_media.yaml`` and
``mappings/exstream_resources.yaml`` (in the settings folder ``CONTENTOPS_CONFIG_DIR`` names)
change what the campaign release writes on VIP media and Exstream images, and what the VIP
catalogue sync writes when it brings media to a new asset version — asserted in the sandboxes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e.project_dags import load_dag
from e2e.test_campaign_release import CAMPAIGN, ITEM, _env

from contentops.config import PROJECT_CONFIG_DIR

pytestmark = pytest.mark.e2e

ASSET = "asset-spring-03"  # released to VIP and Exstream under the default settings


@pytest.fixture
def env(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    return _env(sandbox, monkeypatch, tmp_path)


def _edit(config: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = config / "mappings" / f"{name}.yaml"
    mapping = yaml.safe_load(path.read_text())
    change(mapping)
    path.write_text(yaml.safe_dump(mapping))


def _image(env: dict[str, Any], key: str) -> dict[str, Any]:
    """The metadata of the retail domain's image of :data:`ASSET`, found by the key naming its asset."""
    (found,) = [
        r["metadata"]
        for r in env["exstream"].context.store.all("resource")
        if r["domain"] == "retail" and (r.get("metadata") or {}).get(key) == ASSET
    ]
    return found


def test_changed_mappings_change_what_goes_on_vip_media_and_exstream_images(
    airflow_db: Path, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    _edit(
        config,
        "vip_media",
        lambda m: m.update(
            campaign_tag_prefixes=["campaign:", "season:"],
            attributes={"name": "title", "metadata.brand": "brand", "categories": "kind"},
        ),
    )
    _edit(
        config,
        "exstream_resources",
        lambda m: m["resource_metadata"].update(source_asset="smintio_asset", valid_until="expires_on", segments=None),
    )
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(config))
    smintio = env["smintio"].context.store
    asset = smintio.get("asset", ASSET)
    smintio.put(
        "asset", ASSET, {**asset, "tags": [*asset["tags"], "season:spring"], "metadata": {"brand": "Northspring"}}
    )

    run = load_dag("campaign_release").test(
        logical_date=datetime.now(UTC).replace(microsecond=0),
        run_conf={"targets": ["vip", "exstream"]},
    )
    assert run.state == "success"

    # VIP: the attributes the file names, read from the Smint.io asset; the extra tag prefix
    media = env["vip"].context.store.get("media", f"{ITEM}/{ASSET}")
    assert media["attributes"] == {"title": asset["name"], "brand": "Northspring", "kind": ["campaign_visual"]}
    assert media["campaign_tags"] == [f"campaign:{CAMPAIGN}", "season:spring"]
    assert media["usage_controls"]["regions"] == ["emea", "north_america"]  # the rights fields as always
    # Exstream: renamed keys, a key left out, the others under their own names
    image = _image(env, "smintio_asset")
    assert image["expires_on"] and image["campaign"] == CAMPAIGN and image["regions"] == ["emea", "north_america"]
    assert not {"source_asset", "valid_until", "segments"} & set(image)

    # the catalogue sync brings the media to a new Smint.io version with the attributes of that version
    now = datetime.now(UTC)
    current = smintio.get("asset", ASSET)
    smintio.put(
        "asset",
        ASSET,
        {**current, "version": current["version"] + 1, "name": "spring visual 3, recut", "updated_at": now.isoformat()},
    )
    as_of = now + timedelta(minutes=10)
    sync = load_dag("vip_catalog_sync").test(logical_date=as_of, run_conf={"as_of": as_of.isoformat()})
    assert sync.state == "success"
    media = env["vip"].context.store.get("media", f"{ITEM}/{ASSET}")
    assert media["version"] == current["version"] + 1
    assert media["attributes"] == {
        "title": "spring visual 3, recut",
        "brand": "Northspring",
        "kind": ["campaign_visual"],
    }
    assert media["campaign_tags"] == [f"campaign:{CAMPAIGN}", "season:spring"]  # kept from the release
