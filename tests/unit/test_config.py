"""Settings files load into their models or fail with a message naming the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from contentops.config import SettingsError, load_settings

pytestmark = pytest.mark.unit


class Windows(BaseModel):
    horizon_days: int = Field(30, ge=1)
    regions: list[str] = Field(default_factory=list)


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings("windows", Windows, directory=tmp_path) == Windows()


def test_file_values_are_validated(tmp_path: Path) -> None:
    (tmp_path / "windows.yaml").write_text("horizon_days: 14\nregions: [de, fr]\n")
    assert load_settings("windows", Windows, directory=tmp_path) == Windows(horizon_days=14, regions=["de", "fr"])


def test_invalid_values_name_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "windows.yaml").write_text("horizon_days: -3\n")
    with pytest.raises(SettingsError) as caught:
        load_settings("windows", Windows, directory=tmp_path)
    assert "windows.yaml" in str(caught.value) and "horizon_days" in str(caught.value)


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "windows.yaml").write_text("horizon_days: [\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings("windows", Windows, directory=tmp_path)
