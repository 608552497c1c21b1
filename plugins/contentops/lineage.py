"""What the hooks read and write, reported to Airflow's hook-lineage collector.

Every partner hook reports the partner objects a call read (inputs) or changed (outputs) with one
line — ``lineage.read(self, "assets", asset_id)`` — after the call succeeded, so a failed write is
never reported as written. Airflow hands what a task collected to the registered hook-lineage
readers: with the OpenLineage provider installed and configured, each task's OpenLineage event
names them as its input and output datasets.

Names. Each system has its own URI scheme, registered by this provider (``asset-uris`` in
:mod:`contentops.provider_info`) as Airflow's asset URI rules (AIP-60) expect of a scheme a
provider defines::

    <scheme>://<namespace>/<kind>/<id>[/<kind>/<id>…]

    smintio://<tenant>/assets/<asset id>
    vip://<api host>/items/<item id>/media/<media ref>
    trading-grid://<api host>/communities/<community id>/posts/<post ref>
    exstream://<api host>/domains/<domain>/resources/<resource id>

The scheme is the hook's ``system`` with ``-`` for ``_`` (an underscore is not allowed in a URI
scheme); the namespace is the Smint.io tenant, or the host[:port] of the connection's API for the
others (never its user info); each path segment is URL-quoted. Content objects (assets, media,
posts, resources, documents) are named one by one, as object stores name their files; feeds read
as a whole (license transactions, usage records, cases, returns) are one asset each, so a long
feed does not crowd out the objects in the collector (Airflow keeps at most
``[lineage] max_assets_per_collector`` inputs and as many outputs per task).

Lineage is an observer: anything going wrong while reporting is logged at debug level and never
fails the call that did the work. This module imports nothing from Airflow at import time
(the provider metadata reads :data:`SCHEMES` without importing the SDK).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, urlsplit

if TYPE_CHECKING:
    from airflow.sdk import Asset

log = logging.getLogger(__name__)

#: hook ``system`` -> URI scheme of its lineage assets
SCHEMES: dict[str, str] = {
    "smintio": "smintio",
    "vip": "vip",
    "trading_grid": "trading-grid",
    "exstream": "exstream",
    "consonance": "consonance",
    "opentext_workflow": "opentext-workflow",
    "source_dam": "source-dam",
}


def scheme_of(system: str) -> str:
    """The URI scheme of ``system``'s assets (a system without one is a programming error)."""
    try:
        return SCHEMES[system]
    except KeyError:
        raise ValueError(f"no lineage scheme for system {system!r}") from None


def asset_uri(system: str, namespace: str, *path: object) -> str:
    """``<scheme>://<namespace>/<segment>/…`` with every segment URL-quoted (an id may hold ``/``)."""
    if not namespace:
        raise ValueError(f"{system} lineage needs a namespace")
    if not path:
        raise ValueError(f"{system} lineage needs a path")
    segments = "/".join(quote(str(part), safe="") for part in path)
    return f"{scheme_of(system)}://{namespace.lower()}/{segments}"


def namespace_of(hook: Any) -> str:
    """Where the hook's objects live: the Smint.io tenant, else the host[:port] of its API."""
    tenant = getattr(hook, "tenant", None)
    if isinstance(tenant, str) and tenant:
        return tenant
    netloc = urlsplit(hook.base_url()).netloc
    return netloc.rpartition("@")[2]  # never the user info of a URL someone wrote into the host field


def read(hook: Any, *path: object) -> None:
    """Report ``path`` of the hook's system as read by the running task."""
    _report(hook, path, output=False)


def wrote(hook: Any, *path: object) -> None:
    """Report ``path`` of the hook's system as written (created, changed or withdrawn)."""
    _report(hook, path, output=True)


def _report(hook: Any, path: tuple[object, ...], *, output: bool) -> None:
    try:
        uri = asset_uri(hook.system, namespace_of(hook), *path)
        collector = _collector()
        if output:
            collector.add_output_asset(context=hook, uri=uri)
        else:
            collector.add_input_asset(context=hook, uri=uri)
    except Exception:  # lineage never fails the work it describes
        log.debug("lineage of %s %s not reported", getattr(hook, "system", "?"), path, exc_info=True)


def _collector() -> Any:
    """Airflow's process-wide collector (a no-op one unless a hook-lineage reader is registered)."""
    from airflow.sdk import lineage as sdk_lineage

    return sdk_lineage.get_hook_lineage_collector()


# -- the scheme registration Airflow and OpenLineage call (provider_info "asset-uris") ----------
def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's check of one of our asset URIs: a namespace and a non-empty path are required."""
    if not uri.netloc:
        raise ValueError(f"{uri.scheme} asset URI needs a namespace: {uri.scheme}://<namespace>/<kind>/<id>")
    if not uri.path.strip("/"):
        raise ValueError(f"{uri.scheme} asset URI needs a path: {uri.scheme}://<namespace>/<kind>/<id>")
    return uri


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Any:
    """The OpenLineage dataset of one of our assets: namespace ``<scheme>://<namespace>``, name
    the path (OpenLineage's naming for any URI-addressed dataset)."""
    from openlineage.client.event_v2 import Dataset

    parsed = urlsplit(asset.uri)
    return Dataset(namespace=f"{parsed.scheme}://{parsed.netloc}", name=parsed.path.lstrip("/"))
