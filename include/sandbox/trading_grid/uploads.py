"""A file streamed to the Trading Grid sandbox (launch-kit and case attachments, both *modelled*).

The sandbox keeps only what proves the file arrived intact — name, content type, SHA-256 and
size — so launch kits and cases read an upload the same way, and an empty body is refused the
same way (422 ``EmptyAttachment``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request

from contentops_sandbox.core import SandboxContext


async def read_upload(ctx: SandboxContext, request: Request, ref: str, name: str) -> dict[str, Any]:
    """Stream the request body through SHA-256; the attachment descriptor stored under ``ref``."""
    digest, size = hashlib.sha256(), 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
    if size == 0:
        raise ctx.error(422, "EmptyAttachment", "the attachment has no content")
    return {
        "ref": ref,
        "name": name,
        "content_type": request.headers.get("content-type", "application/octet-stream").split(";")[0],
        "sha256": digest.hexdigest(),
        "size": size,
    }
