"""contentops.mapping.config: the Consonance title field -> Smint.io metadata key mapping as YAML.

The shipped file is today's mapping; an edited one changes the keys written and the push
version; a bad file is refused at load with an error naming the bad key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from contentops.config import PROJECT_CONFIG_DIR, SettingsError
from contentops.mapping.config import load_title_field_mapping
from contentops.mapping.titles import (
    DEFAULT_SMINTIO_KEYS,
    TITLE_FIELDS,
    BookFormat,
    Contributor,
    TitleFieldMapping,
    TitleProduct,
    TitleRecord,
    metadata_update,
    push_version,
    title_metadata,
)
from contentops.models.smintio import Asset

pytestmark = pytest.mark.unit

AS_OF = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
PRINT = TitleProduct(
    product_id="p-print", isbn="9781900000017", format=BookFormat.PRINT, publication_date=date(2027, 3, 1)
)
TITLE = TitleRecord(
    work_id="w-1",
    revision="r1",
    title="The Salt Road",
    imprint="Harbour Books",
    contributors=(Contributor(name="Ada Quill", role="A01", sequence=1),),
    products=(PRINT,),
    edition_number=2,
)


def _write(directory: Path, text: str) -> None:
    (directory / "mappings").mkdir(exist_ok=True)
    (directory / "mappings" / "consonance_titles.yaml").write_text(text)


def test_the_shipped_file_is_the_default_mapping_and_names_every_field() -> None:
    shipped = load_title_field_mapping(directory=PROJECT_CONFIG_DIR)
    assert shipped == TitleFieldMapping()
    assert shipped.smintio_metadata == DEFAULT_SMINTIO_KEYS
    assert set(shipped.smintio_metadata) == set(TITLE_FIELDS)  # the file shows every field there is


def test_a_missing_file_gives_the_shipped_mapping(tmp_path: Path) -> None:
    assert load_title_field_mapping(directory=tmp_path) == TitleFieldMapping()


def test_the_shipped_mapping_writes_the_keys_it_always_wrote() -> None:
    metadata = title_metadata(TITLE, PRINT, AS_OF, lead_days=90)
    assert metadata["book_title"] == "The Salt Road" and metadata["consonance_work_id"] == "w-1"
    assert metadata["isbn"] == "9781900000017" and metadata["edition_number"] == 2
    assert "rrp_gbp" not in metadata and "print_delivery_date" not in metadata  # not stated: not written
    assert "isbn" not in title_metadata(TITLE, None, AS_OF, lead_days=90)  # no edition, no edition keys
    assert push_version(TITLE, PRINT, AS_OF, lead_days=90) == "r1:announced"


def test_a_changed_mapping_changes_the_keys_written_and_the_push_version(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "smintio_metadata:\n  work_id: consonance_work_id\n  title: headline\n  isbn: product_isbn\n"
        "  imprint: null\n  edition_number: edition_no\n",
    )
    fields = load_title_field_mapping(directory=tmp_path)
    metadata = title_metadata(TITLE, PRINT, AS_OF, lead_days=90, fields=fields)
    assert metadata == {
        "consonance_work_id": "w-1",
        "headline": "The Salt Road",
        "edition_no": 2,
        "product_isbn": PRINT.isbn,
    }

    asset = Asset.model_validate({"id": "a-1", "approval_status": "approved", "metadata": {}, "tags": []})
    update = metadata_update(TITLE, asset, PRINT, AS_OF, lead_days=90, fields=fields)
    assert set(update.metadata) == {"consonance_work_id", "headline", "edition_no", "product_isbn", "title_tags"}

    version = push_version(TITLE, PRINT, AS_OF, lead_days=90, fields=fields)
    assert version.startswith("r1:announced:m") and version != push_version(TITLE, PRINT, AS_OF, lead_days=90)
    renamed = TitleFieldMapping(smintio_metadata={**fields.smintio_metadata, "title": "book_name"})
    assert push_version(TITLE, PRINT, AS_OF, lead_days=90, fields=renamed) != version


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("smintio_metadata:\n  titel: book_title\n", "'titel'"),
        ("smintio_metadata:\n  title: Book Title\n", "'Book Title'"),
        ("smintio_metadata:\n  title: title_tags\n", "'title_tags'"),
        ("smintio_metadata:\n  title: name\n  subtitle: name\n", "'name'"),
        ("smintio_metadata:\n  title: [book_title]\n", "smintio_metadata.title"),
        ("smintio_metdata:\n  title: book_title\n", "smintio_metdata"),
    ],
    ids=["unknown-field", "not-a-key", "reserved-key", "shared-key", "not-a-string", "unknown-section"],
)
def test_a_bad_mapping_is_refused_at_load_naming_the_bad_key(tmp_path: Path, text: str, named: str) -> None:
    _write(tmp_path, text)
    with pytest.raises(SettingsError, match=r"consonance_titles\.yaml") as refused:
        load_title_field_mapping(directory=tmp_path)
    assert named in str(refused.value)
