"""OpenText Cloud Platform authentication, shared by the Workflow Service and Exstream hooks.

Tokens come from ``POST {host}/tenants/{tenant_id}/oauth2/token`` with client credentials;
OpenText's collections send a JSON body and its SDK a form body, so the style is a
connection setting (extra ``token_style``: ``json`` (default) or ``form``). An on-premises
OTDS uses ``/otdsws/otdstenant/{tenant_id}/oauth2/token`` instead: set extra ``token_path``.
"""

from __future__ import annotations

from typing import Any

from contentops.hooks.auth import OAuth2ClientCredentialsAuth
from contentops.hooks.errors import InvalidConnectionError

DEFAULT_TOKEN_PATH = "/tenants/{tenant_id}/oauth2/token"  # noqa: S105 - a path, not a secret


def ocp_auth(host_url: str, conn: Any, extra: dict[str, Any], *, system: str) -> OAuth2ClientCredentialsAuth:
    """Client-credentials auth for an OpenText Cloud Platform connection."""
    tenant = extra.get("tenant_id")
    if not tenant or not conn.login or not conn.password:
        raise InvalidConnectionError(
            "an OpenText connection needs extra 'tenant_id', a client id (login) and a client secret (password)",
            system=system,
        )
    token_url = extra.get("token_url") or host_url.rstrip("/") + str(
        extra.get("token_path") or DEFAULT_TOKEN_PATH
    ).format(tenant_id=tenant)
    style = extra.get("token_style") or "json"
    if style not in ("json", "form"):
        raise InvalidConnectionError("extra 'token_style' must be 'json' or 'form'", system=system)
    return OAuth2ClientCredentialsAuth(token_url, conn.login, conn.password, scope=extra.get("scope"), style=style)
