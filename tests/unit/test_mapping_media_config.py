"""contentops.mapping.config: the Smint.io -> VIP media and the Exstream image metadata mappings as YAML.

The shipped files are today's mappings (what the pipelines always wrote); an edited one changes
what is written; a bad file is refused at load with an error naming the bad key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contentops.config import PROJECT_CONFIG_DIR, SettingsError
from contentops.mapping.config import load_exstream_resource_mapping, load_vip_media_mapping
from contentops.mapping.exstream_resources import EXSTREAM_FIELDS, ExstreamResourceMapping
from contentops.mapping.vip_media import VipMediaMapping
from contentops.models.smintio import Asset

pytestmark = pytest.mark.unit

ASSET = Asset.model_validate(
    {
        "id": "asset-1",
        "version": 3,
        "name": "Spring visual",
        "description": "",
        "approval_status": "approved",
        "campaign": "spring-launch-2027",
        "categories": ["campaign_visual"],
        "tags": ["campaign:spring-launch-2027", "season:spring", "brand"],
        "metadata": {"brand": "Northspring", "empty": None},
    }
)


def _write(directory: Path, name: str, text: str) -> None:
    (directory / "mappings").mkdir(exist_ok=True)
    (directory / "mappings" / f"{name}.yaml").write_text(text)


# -- VIP media -------------------------------------------------------------------------------------
def test_the_shipped_vip_media_file_is_todays_mapping() -> None:
    shipped = load_vip_media_mapping(directory=PROJECT_CONFIG_DIR)
    assert shipped == VipMediaMapping()
    # what the release always wrote: its campaign and the asset's campaign: tags, no attributes
    assert shipped.campaign_tags(ASSET, "other-campaign") == ["campaign:other-campaign", "campaign:spring-launch-2027"]
    assert shipped.attributes_of(ASSET) is None


def test_a_missing_vip_media_file_gives_the_shipped_mapping(tmp_path: Path) -> None:
    assert load_vip_media_mapping(directory=tmp_path) == VipMediaMapping()


def test_a_changed_vip_media_mapping_changes_tags_and_attributes(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "vip_media",
        'campaign_tag_prefixes: ["campaign:", "season:"]\n'
        "attributes:\n  name: title\n  metadata.brand: brand\n  description: alt_text\n"
        "  metadata.empty: nothing\n  categories: null\n  version: smintio_version\n",
    )
    mapping = load_vip_media_mapping(directory=tmp_path)
    assert mapping.campaign_tags(ASSET, "spring-launch-2027") == ["campaign:spring-launch-2027", "season:spring"]
    # empty values (a blank description, a null metadata key) and null-mapped fields are not written
    assert mapping.attributes_of(ASSET) == {"title": "Spring visual", "brand": "Northspring", "smintio_version": 3}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("attributes:\n  titel: title\n", "'titel'"),
        ("attributes:\n  metadata.Brand: brand\n", "'metadata.Brand'"),
        ("attributes:\n  name: 'product title'\n", "'product title'"),
        ("attributes:\n  name: license_summary\n", "'license_summary'"),
        ("attributes:\n  name: title\n  description: title\n", "'title'"),
        ("campaign_tag_prefixes: ['season :']\n", "'season :'"),
        ("atributes:\n  name: title\n", "atributes"),
    ],
    ids=["unknown-field", "bad-metadata-key", "bad-attribute", "media-field", "shared-attribute", "prefix", "section"],
)
def test_a_bad_vip_media_mapping_is_refused_at_load_naming_the_bad_key(tmp_path: Path, text: str, named: str) -> None:
    _write(tmp_path, "vip_media", text)
    with pytest.raises(SettingsError, match=r"vip_media\.yaml") as refused:
        load_vip_media_mapping(directory=tmp_path)
    assert named in str(refused.value)


# -- Exstream image metadata -----------------------------------------------------------------------
def test_the_shipped_exstream_file_is_todays_mapping_and_names_every_field() -> None:
    shipped = load_exstream_resource_mapping(directory=PROJECT_CONFIG_DIR)
    assert shipped == ExstreamResourceMapping()
    assert shipped.resource_metadata == {field: field for field in EXSTREAM_FIELDS}
    written = {"source_asset": "a-1", "valid_until": None, "regions": ["emea"]}
    assert shipped.apply(written) == written


def test_a_changed_exstream_mapping_renames_and_leaves_out_keys(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "exstream_resources",
        "resource_metadata:\n  source_asset: smintio.asset\n  valid_until: expires_on\n  segments: null\n",
    )
    mapping = load_exstream_resource_mapping(directory=tmp_path)
    written = {"source_asset": "a-1", "valid_until": "2027-01-01", "segments": ["retail"], "campaign": "c"}
    # renamed, left out (null), and a field the file does not list keeps its own key
    assert mapping.apply(written) == {"smintio.asset": "a-1", "expires_on": "2027-01-01", "campaign": "c"}
    assert mapping.apply({"new_field": 1}) == {"new_field": 1}  # a field written since keeps its key


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("resource_metadata:\n  source_assett: smintio_asset\n", "'source_assett'"),
        ("resource_metadata:\n  valid_until: 'valid until'\n", "'valid until'"),
        ("resource_metadata:\n  region: regions\n", "'regions'"),  # the key the regions field keeps
        ("resource_metadata:\n  campaign: [c]\n", "resource_metadata.campaign"),
        ("resource_metdata:\n  campaign: c\n", "resource_metdata"),
    ],
    ids=["unknown-field", "not-a-key", "shared-key", "not-a-string", "unknown-section"],
)
def test_a_bad_exstream_mapping_is_refused_at_load_naming_the_bad_key(tmp_path: Path, text: str, named: str) -> None:
    _write(tmp_path, "exstream_resources", text)
    with pytest.raises(SettingsError, match=r"exstream_resources\.yaml") as refused:
        load_exstream_resource_mapping(directory=tmp_path)
    assert named in str(refused.value)
