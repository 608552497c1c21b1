"""Every file of an asset version, streamed from Smint.io and checked, for a partner upload.

Partner cases (OTG-2) and co-marketing sign-offs (OTG-7) hand the partner the asset package
itself: each file goes to a scratch file (never held in memory), is checked against the SHA-256
Smint.io states for it, and is then given to the caller to upload. A file that does not match is
never handed over: the delivery fails instead of sending a wrong file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contentops.models.smintio import Asset


@dataclass(frozen=True)
class AssetFile:
    """One checked file of an asset version, on local disk until the next one is fetched."""

    binary_id: str
    path: Path
    name: str
    content_type: str


def asset_files(smintio: Any, asset: Asset, *, purpose: str) -> Iterator[AssetFile]:
    """The files of ``asset``'s current version one at a time (each deleted once the caller
    has taken it); ``purpose`` names what they are for in the error of an asset without files."""
    if not asset.binaries:
        raise ValueError(f"asset {asset.id} version {asset.version} has no file to {purpose}")
    with tempfile.TemporaryDirectory(prefix="contentops-files-") as scratch:
        for n, binary in enumerate(asset.binaries):
            path = Path(scratch) / f"file-{n}"
            fetched = smintio.download_asset_binary(asset.id, binary.id, path)
            if binary.sha256 and fetched.sha256 != binary.sha256:
                raise ValueError(
                    f"file {binary.id} of asset {asset.id} does not match the SHA-256 Smint.io states for it"
                )
            content_type = binary.content_type or fetched.content_type or asset.content_type
            yield AssetFile(
                binary.id, path, binary.name or f"{asset.id}-{binary.id}", content_type or "application/octet-stream"
            )
            path.unlink(missing_ok=True)
