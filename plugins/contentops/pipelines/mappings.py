"""The field mappings of ``include/config/mappings/`` as a task reads them: once per task.

Every step that writes VIP media or Exstream image metadata asks here, so all of them write under
the same mapping and a bad file fails the task at its first use with the loader's error naming
the bad key (a :class:`~contentops.config.SettingsError`, which the retry policy does not retry).
"""

from __future__ import annotations

from typing import Any

from contentops.mapping.exstream_resources import ExstreamResourceMapping
from contentops.mapping.vip_media import VipMediaMapping
from contentops.pipelines.runtime import PipelineRun


def _cached(run: PipelineRun, name: str, load: Any) -> Any:
    cache: dict[str, Any] = run.__dict__.setdefault("_field_mappings", {})
    if name not in cache:
        cache[name] = load()
    return cache[name]


def vip_media(run: PipelineRun) -> VipMediaMapping:
    """``mappings/vip_media.yaml`` (the shipped mapping when absent)."""
    from contentops.mapping.config import load_vip_media_mapping

    return _cached(run, "vip_media", load_vip_media_mapping)  # type: ignore[no-any-return]


def exstream_resources(run: PipelineRun) -> ExstreamResourceMapping:
    """``mappings/exstream_resources.yaml`` (the shipped mapping when absent)."""
    from contentops.mapping.config import load_exstream_resource_mapping

    return _cached(run, "exstream_resources", load_exstream_resource_mapping)  # type: ignore[no-any-return]
