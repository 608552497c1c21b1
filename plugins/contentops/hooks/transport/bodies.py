"""Request and response bodies streamed from and to files, chunk by chunk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: Bytes per read of a streamed download or upload. 1 MiB keeps the relaying process's memory a few
#: MiB while cutting the per-chunk Python work (hashing, file and socket calls) that made 64 KiB
#: chunks cost the client twice curl's CPU on a large file (benchmarks/binary_relay.py).
CHUNK = 1 << 20
#: Most bytes handed to one ``write`` of a download's sink. A download still reads (and hashes)
#: :data:`CHUNK` at a time, but writes it in slices this size: on this project's machines (ext4)
#: writing a new file in 1 MiB pieces cost the kernel 1.0 to 1.7 CPU s per GB, against 0.3 to 0.4 s in
#: 64 KiB pieces (curl writes 16 KiB), which made the hooks' download leg cost three times
#: curl's CPU (benchmarks/binary_relay.py, "where the client's CPU goes").
WRITE_PIECE = 1 << 16


def write_in_pieces(out: IO[bytes], data: bytes) -> None:
    """Write ``data`` to ``out`` in slices of at most :data:`WRITE_PIECE` bytes (no copies)."""
    if len(data) <= WRITE_PIECE:
        out.write(data)
        return
    view = memoryview(data)
    for start in range(0, len(data), WRITE_PIECE):
        out.write(view[start : start + WRITE_PIECE])


def size_of(source: Path | IO[bytes]) -> int | None:
    """Bytes left to read in ``source``; None for a stream that cannot tell (it is sent chunked)."""
    if isinstance(source, Path):
        return source.stat().st_size
    try:
        position = source.tell()
        end = source.seek(0, os.SEEK_END)
        source.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError):
        return None


class open_sink:
    """Open a path for writing (truncating), or rewind a seekable stream, per attempt."""

    def __init__(self, sink: Path | IO[bytes]) -> None:
        self.sink = sink
        self._owned: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self.sink, Path):
            self.sink.parent.mkdir(parents=True, exist_ok=True)
            self._owned = self.sink.open("wb")
            return self._owned
        if self.sink.seekable():
            self.sink.seek(0)
            self.sink.truncate()
        return self.sink

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()


class ChunkReader:
    """Iterates a file in chunks from its start, so requests streams it without reading it whole.

    With a known size it has a length, so requests sends ``Content-Length`` instead of
    chunked transfer encoding (which some partner gateways refuse).
    """

    def __init__(self, source: Path | IO[bytes], size: int | None) -> None:
        self.source = source
        self.size = size

    def __len__(self) -> int:
        if self.size is None:
            raise TypeError("size unknown")
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        if isinstance(self.source, Path):
            with self.source.open("rb") as handle:
                yield from iter(lambda: handle.read(CHUNK), b"")
            return
        if self.source.seekable():
            self.source.seek(0)
        yield from iter(lambda: self.source.read(CHUNK), b"")


class MultipartBody:
    """A multipart/form-data body around one streamed file part, with a known length."""

    def __init__(self, head: bytes, body: ChunkReader, tail: bytes) -> None:
        self.head, self.body, self.tail = head, body, tail

    def __len__(self) -> int:
        return len(self.head) + len(self.body) + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        yield from self.body
        yield self.tail


def multipart_frame(
    boundary: str, field: str, filename: str, content_type: str, form_fields: dict[str, str]
) -> tuple[bytes, bytes]:
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in form_fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return "".join(parts).encode(), f"\r\n--{boundary}--\r\n".encode()
