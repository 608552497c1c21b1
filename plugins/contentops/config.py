"""User-editable settings, validated at load: routing, rights windows, compliance criteria.

Settings live as YAML files in one folder (``include/config/`` of the project, or the
folder named by ``CONTENTOPS_CONFIG_DIR``), one file per concern. Each pipeline declares a
pydantic model for its file and loads it with :func:`load_settings`, so a typo in a
region key or a negative window is a clear error at the start of a run, not a silent
wrong decision in the middle of one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

PROJECT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "include" / "config"


class SettingsError(ValueError):
    """A settings file is missing or does not validate; the message says which and why."""


def config_dir() -> Path:
    return Path(os.environ.get("CONTENTOPS_CONFIG_DIR") or PROJECT_CONFIG_DIR)


def load_settings(name: str, model: type[T], *, directory: Path | None = None) -> T:
    """Load ``<dir>/<name>.yaml`` into ``model``; a missing file gives the model's defaults."""
    path = (directory or config_dir()) / f"{name}.yaml"
    if not path.exists():
        try:
            return model()
        except ValidationError as exc:
            raise SettingsError(f"{path} is missing and {model.__name__} has required fields: {exc}") from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(f"{path} does not validate as {model.__name__}:\n{exc}") from None


def contentops_home() -> Path:
    """Where the project keeps its local state (reports, default ledger): $CONTENTOPS_HOME or ./var."""
    return Path(os.environ.get("CONTENTOPS_HOME") or Path.cwd() / "var")
