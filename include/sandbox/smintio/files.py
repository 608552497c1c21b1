"""Uploaded files of the Smint.io sandbox, kept on disk under the sandbox's state directory.

A real DAM serves back the bytes it was given. Files are stored content-addressed (named by
their SHA-256), so an asset's ``binaries[]`` entry (which carries the SHA-256 of its file) finds
its bytes without any further bookkeeping, and a sandbox reset can never hand one asset another
asset's stale file. Bytes are streamed in and out in chunks, never held whole.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

CHUNK_BYTES = 1 << 16


class ContentFiles:
    """Content-addressed file storage in ``<state_dir>/smintio-content/sha256/``."""

    def __init__(self, state_dir: Path | str) -> None:
        self.root = Path(state_dir) / "smintio-content" / "sha256"

    async def store(self, chunks: AsyncIterator[bytes]) -> tuple[str, int]:
        """Stream ``chunks`` to disk; returns (sha256, size). Nothing is kept for an empty body."""
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{secrets.token_hex(8)}.part"  # unique: uploads may run concurrently
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            if size:
                os.replace(partial, self.root / sha)
            return sha, size
        finally:
            partial.unlink(missing_ok=True)

    def path(self, sha256: str | None) -> Path | None:
        """The stored file with this SHA-256, or None when nothing with it was uploaded."""
        if not sha256 or len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        candidate = self.root / sha256
        return candidate if candidate.is_file() else None

    @staticmethod
    def read(path: Path) -> Iterator[bytes]:
        """The file's bytes in chunks (for a streamed response)."""
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk
