"""Origins of URLs: the one place that says what "the same host" means for a download.

A partner-linked file may only come from the partner's own origin (scheme, host *and* effective
port). Both the pure return checks (:mod:`contentops.returns`, before anything is requested) and
the transport (:meth:`contentops.hooks.transport.HttpTransport.download`, on every hop of a
redirect) compare origins; they share this parsing so the two can never disagree on what an
origin is, or on which addresses are link-local.

Pure Python: no Airflow, no HTTP.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Origin", "host_address", "origin_of"]


@dataclass(frozen=True)
class Origin:
    """Scheme, host and effective port of a URL: what "the partner's own host" is compared on."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL without credentials or backslashes, or None if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password or "\\" in url:
        return None
    return Origin(scheme, parts.hostname.lower().rstrip("."), port or (443 if scheme == "https" else 80))


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host literally is (an IPv4-mapped IPv6 address as its IPv4 one), None for a name.

    Unmapping matters: ``[::ffff:169.254.169.254]`` is the metadata service as much as the plain form.
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
