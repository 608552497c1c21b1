"""A licensed file relayed through the hooks, Smint.io → VIP and Exstream, is streamed end to end.

What a delivery does with an asset's file (and what ``benchmarks/binary_relay.py`` measures at
200 MB and 2 GB): the Smint.io binary is streamed to a scratch file, then as VIP media content
(raw ``PUT``) and as an Exstream image (``multipart/form-data``). Streaming is proved without
timing: the traced memory of the whole process — the hooks and the three sandboxes, which run in
its threads — stays a few chunks while a file many times that size goes through, the hooks read
their source in bounded pieces, and what each partner hashed as the bytes arrived is the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.exstream import ExstreamHook
from contentops.hooks.smintio import SmintioHook
from contentops.hooks.transport.bodies import CHUNK, WRITE_PIECE
from contentops.hooks.vip import VipHook
from contentops_sandbox.connections import exstream_connection, smintio_connection, vip_connection
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.contract

SIZE = 24 * 1024 * 1024 + 123  # not a multiple of any chunk size
BOUND = 8 * 1024 * 1024  # a few chunks on each side, never a third of the file


class CountingSink(io.BytesIO):
    """A seekable in-memory sink that records the size of every write the download makes to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def write(self, data: Any) -> int:
        self.writes.append(len(data))
        return super().write(data)


class CountingReader(io.RawIOBase):
    """A seekable file that records the size of every read the upload makes of it."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self.reads: list[int] = []
        self.name = path.name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        return self._file.read(size)

    def close(self) -> None:
        self._file.close()
        super().close()


@pytest.fixture
def hooks(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> tuple[SmintioHook, VipHook, ExstreamHook, dict[str, Any]]:
    running = {
        "smintio": sandbox("smintio", options={"seeded_transactions": 1, "large_binary_bytes": SIZE}),
        "vip": sandbox("vip"),
        "exstream": sandbox("exstream"),
    }
    fast = {"backoff_initial": 0.01, "backoff_max": 0.05}
    connections = {
        "SMINTIO_DEFAULT": smintio_connection(running["smintio"].url, **fast),
        "VIP_DEFAULT": vip_connection(running["vip"].url, **fast),
        "OPENTEXT_EXSTREAM_DEFAULT": exstream_connection(running["exstream"].url, token_style="form", **fast),
    }
    for conn_id, conn in connections.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(conn))
    return (
        SmintioHook(refresh_token_store=token_store("smintio")),
        VipHook(refresh_token_store=token_store("vip")),
        ExstreamHook(),
        running,
    )


def _expected_sha256() -> str:
    digest = hashlib.sha256()
    for chunk in images.large_binary(SIZE):
        digest.update(chunk)
    return digest.hexdigest()


def _media_record(vip: VipHook, ref: str) -> None:
    from contentops.models.vip import UsageControls

    vip.put_media(
        "ITM-1001",
        ref,
        asset_id=ref,
        version=1,
        file_name=f"{ref}.png",
        content_type="image/png",
        usage_controls=UsageControls(regions=["emea"], channels=["online"]),
        available_to=[],
    )


def test_a_large_file_relays_from_smintio_to_vip_and_exstream_in_bounded_memory(
    hooks: tuple[SmintioHook, VipHook, ExstreamHook, dict[str, Any]], tmp_path: Path
) -> None:
    smintio, vip, exstream, running = hooks
    lpt = next(smintio.iter_license_purchase_transactions(limit=1))
    (binary,) = smintio.binaries(lpt.cart_purchase_transaction_uuid or "", lpt.uuid)
    _media_record(vip, "relay-path")
    exstream.list_domains()  # every token fetched before memory is traced
    scratch = tmp_path / "relay.png"

    tracemalloc.start()
    try:
        downloaded = smintio.download_binary(lpt, binary, scratch)
        media = vip.upload_media_content("ITM-1001", "relay-path", scratch, "image/png")
        image = exstream.upload_image("retail", scratch, name="relay-path.png", content_type="image/png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    expected = _expected_sha256()
    assert downloaded.size == SIZE == scratch.stat().st_size
    assert downloaded.sha256 == expected
    # what the partners hashed as the bytes arrived (their stored records, not our answer objects)
    stored_media = running["vip"].context.store.get("media", "ITM-1001/relay-path")
    stored_image = running["exstream"].context.store.get("resource", image.id)
    assert stored_media["content"] == {
        "sha256": expected,
        "size": SIZE,
        "uploaded_at": stored_media["content"]["uploaded_at"],
    }
    assert stored_image["content"] == {"sha256": expected, "size": SIZE}
    assert media.content is not None and media.content.sha256 == expected
    assert peak < BOUND, f"{peak / 2**20:.1f} MiB traced while relaying a {SIZE / 2**20:.0f} MiB file"


def test_uploads_read_their_source_in_bounded_pieces(
    hooks: tuple[SmintioHook, VipHook, ExstreamHook, dict[str, Any]], tmp_path: Path
) -> None:
    _, vip, exstream, running = hooks
    size = 3 * 1024 * 1024 + 17
    source = tmp_path / "poster.png"
    with source.open("wb") as out:
        for chunk in images.large_binary(size):
            out.write(chunk)
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    _media_record(vip, "relay-stream")

    to_vip = CountingReader(source)
    vip.upload_media_content("ITM-1001", "relay-stream", to_vip, "image/png")  # type: ignore[arg-type]
    to_exstream = CountingReader(source)
    image = exstream.upload_image("retail", to_exstream, name="relay-stream.png", content_type="image/png")  # type: ignore[arg-type]

    for reader in (to_vip, to_exstream):
        assert reader.reads, "the upload never read its source"
        assert all(0 < n <= CHUNK for n in reader.reads), f"unbounded or whole-file reads: {sorted(set(reader.reads))}"
        assert len(reader.reads) >= size // CHUNK  # piece by piece, not in one go
        reader.close()
    assert running["vip"].context.store.get("media", "ITM-1001/relay-stream")["content"]["sha256"] == expected
    assert running["exstream"].context.store.get("resource", image.id)["content"]["sha256"] == expected


def test_the_download_writes_its_sink_in_bounded_pieces(
    hooks: tuple[SmintioHook, VipHook, ExstreamHook, dict[str, Any]],
) -> None:
    """Read a chunk at a time, written in pieces of at most ``WRITE_PIECE`` (large writes cost the
    kernel several times more CPU per byte: benchmarks/README.md, binary relay), the bytes intact."""
    smintio = hooks[0]
    lpt = next(smintio.iter_license_purchase_transactions(limit=1))
    (binary,) = smintio.binaries(lpt.cart_purchase_transaction_uuid or "", lpt.uuid)
    sink = CountingSink()

    downloaded = smintio.download_binary(lpt, binary, sink)

    assert downloaded.size == SIZE == len(sink.getvalue())
    assert downloaded.sha256 == hashlib.sha256(sink.getvalue()).hexdigest() == _expected_sha256()
    assert all(0 < n <= WRITE_PIECE for n in sink.writes), f"oversized writes: {sorted(set(sink.writes))[-3:]}"
    assert len(sink.writes) >= SIZE // WRITE_PIECE
