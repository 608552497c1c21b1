"""Real image bytes made in code: small valid PNGs, and large binaries streamed in chunks."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(seed: str, width: int = 64, height: int = 48) -> bytes:
    """A valid RGB PNG whose colours derive from ``seed`` (so every asset looks different)."""
    digest = hashlib.sha256(seed.encode()).digest()
    base = digest[:3]
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(((base[0] + x * 3) % 256, (base[1] + y * 5) % 256, (base[2] + (x ^ y)) % 256))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows)))
        + _chunk(b"IEND", b"")
    )


def large_binary(size: int, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """``size`` bytes of a PNG signature followed by a deterministic pattern, never held whole."""
    head = b"\x89PNG\r\n\x1a\n"
    block = bytes(range(256)) * (chunk_size // 256)
    sent = 0
    if size > 0:
        first = head[:size]
        sent = len(first)
        yield first
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece
