"""Field mappings as configuration: the YAML files under ``include/config/mappings/``.

Each mapping is a file of the settings folder (:mod:`contentops.config`), validated at load by
the pure model of its mapping module, so a bad key stops a run at its start with an error that
names it. A missing file gives the shipped mapping, the one the file in the project repeats.
"""

from __future__ import annotations

from pathlib import Path

from contentops.config import load_settings
from contentops.mapping.exstream_resources import ExstreamResourceMapping
from contentops.mapping.titles.fields import TitleFieldMapping
from contentops.mapping.vip_media import VipMediaMapping

#: Consonance title fields -> Smint.io metadata keys (the title metadata push).
CONSONANCE_TITLES = "mappings/consonance_titles"
#: Smint.io asset -> what the media of a VIP catalog item says of it (campaign tags, attributes).
VIP_MEDIA = "mappings/vip_media"
#: Exstream image fields -> the metadata keys they are written under.
EXSTREAM_RESOURCES = "mappings/exstream_resources"


def load_title_field_mapping(*, directory: Path | None = None) -> TitleFieldMapping:
    """The title field mapping of ``<config>/mappings/consonance_titles.yaml``."""
    return load_settings(CONSONANCE_TITLES, TitleFieldMapping, directory=directory)


def load_vip_media_mapping(*, directory: Path | None = None) -> VipMediaMapping:
    """The Smint.io -> VIP media mapping of ``<config>/mappings/vip_media.yaml``."""
    return load_settings(VIP_MEDIA, VipMediaMapping, directory=directory)


def load_exstream_resource_mapping(*, directory: Path | None = None) -> ExstreamResourceMapping:
    """The Exstream image metadata keys of ``<config>/mappings/exstream_resources.yaml``."""
    return load_settings(EXSTREAM_RESOURCES, ExstreamResourceMapping, directory=directory)
