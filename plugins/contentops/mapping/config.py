"""Field mappings as configuration: the YAML files under ``include/config/mappings/``.

Each mapping is a file of the settings folder (:mod:`contentops.config`), validated at load by
the pure model of its mapping module, so a bad key stops a run at its start with an error that
names it. A missing file gives the shipped mapping, the one the file in the project repeats.
"""

from __future__ import annotations

from pathlib import Path

from contentops.config import load_settings
from contentops.mapping.titles.fields import TitleFieldMapping

#: Consonance title fields -> Smint.io metadata keys (the title metadata push).
CONSONANCE_TITLES = "mappings/consonance_titles"


def load_title_field_mapping(*, directory: Path | None = None) -> TitleFieldMapping:
    """The title field mapping of ``<config>/mappings/consonance_titles.yaml``."""
    return load_settings(CONSONANCE_TITLES, TitleFieldMapping, directory=directory)
