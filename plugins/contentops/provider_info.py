"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

Airflow reads this dict (not the hook classes) to list the package under
``airflow providers list`` and to build the connection form of each connection type,
so every hook's ``conn_type`` has an entry here. The dict is static on purpose: provider
discovery must not import the hooks.
"""

from __future__ import annotations

from typing import Any

from contentops.lineage import SCHEMES as LINEAGE_SCHEMES

PACKAGE_NAME = "contentops"

_HIDE_FOR_TOKEN_APIS = ["schema", "port"]


def _conn_type(
    conn_type: str,
    hook: str,
    name: str,
    *,
    hidden: list[str],
    relabeling: dict[str, str],
    placeholders: dict[str, str],
    fields: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "hook-class-name": hook,
        "hook-name": name,
        "connection-type": conn_type,
        "ui-field-behaviour": {
            "hidden-fields": hidden,
            "relabeling": relabeling,
            "placeholders": placeholders,
        },
        "conn-fields": fields or {},
    }


#: Extra fields every partner connection has (read by contentops.hooks.base and .transport.connection).
TRANSPORT_FIELDS: dict[str, dict[str, Any]] = {
    "rate_limit_per_second": {
        "label": "Rate limit (requests/s)",
        "description": "Client-side ceiling, set just under the partner's; empty = none.",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
    "rate_limit_burst": {
        "label": "Rate limit burst",
        "description": "Requests allowed at once before pacing starts.",
        "schema": {"type": ["integer", "null"], "minimum": 1},
    },
    "rate_limit_scope": {
        "label": "Rate limit shared by",
        "description": "host (default): every task on this worker host using the connection shares the rate "
        "above; task: each task paces alone.",
        "schema": {"type": ["string", "null"], "enum": ["host", "task", None]},
    },
    "rate_limit_dir": {
        "label": "Rate limit state folder",
        "description": "Where the host's shared pace is kept (one small file per connection); "
        "empty = $CONTENTOPS_RATE_LIMIT_DIR or the temp folder.",
        "schema": {"type": ["string", "null"]},
    },
    "max_attempts": {
        "label": "Max attempts",
        "description": "Tries per request on 429, 5xx and connection errors.",
        "schema": {"type": ["integer", "null"], "minimum": 1},
    },
    "read_timeout": {
        "label": "Read timeout (s)",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
    # the HTTP provider's own keys (HttpHook reads them the same way; docs/operations.md)
    "timeout": {
        "label": "Timeout (s)",
        "description": "Connect and read timeout, as the HTTP connection's; the two fields above win over it.",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
    "verify": {
        "label": "TLS verification",
        "description": "true (default), false, or the path of a CA bundle on the workers (a private CA).",
        "schema": {"type": ["string", "null"]},
    },
    "cert": {
        "label": "Client certificate",
        "description": "Path of a PEM file holding the client certificate and its key (mutual TLS).",
        "schema": {"type": ["string", "null"]},
    },
    "proxies": {
        "label": "Proxy URL",
        "description": "e.g. http://user:password@proxy:3128, for http and https; empty = the environment's.",
        "schema": {"type": ["string", "null"]},
    },
}


def _text(label: str, description: str = "") -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"]}}


#: Extra field of the partners whose files we fetch from links they give (returns, submissions).
DOWNLOAD_FIELDS: dict[str, dict[str, Any]] = {
    "download_origins": _text(
        "Extra download origins",
        "Comma-separated scheme://host:port the partner's file links may point at besides the host above "
        "(e.g. its CDN); links anywhere else are refused.",
    ),
}

#: Extra fields of the OpenText Cloud Platform connections (Workflow Service, Exstream).
OCP_FIELDS: dict[str, dict[str, Any]] = {
    "tenant_id": _text("Tenant ID", "The OpenText Cloud Platform tenant the token is issued for."),
    "token_style": _text("Token request body", "json (default, as OpenText's collections) or form (as its SDK)"),
    "token_path": _text("Token path", "Default /tenants/{tenant_id}/oauth2/token"),
}

CONNECTION_TYPES: list[dict[str, Any]] = [
    _conn_type(
        "source_dam",
        "contentops.hooks.source_dam.SourceDamHook",
        "Source DAM (Bynder, Brandfolder)",
        hidden=["schema", "port", "login"],
        relabeling={"host": "API base URL", "password": "API token"},
        placeholders={"host": "https://dam.example.com/api"},
        fields={
            "page_size": {
                "label": "Page size",
                "description": "Assets per listing page (default 50).",
                "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
            },
            **TRANSPORT_FIELDS,
        },
    ),
    _conn_type(
        "opentext_exstream",
        "contentops.hooks.exstream.ExstreamHook",
        "OpenText Exstream",
        hidden=["schema", "port"],
        relabeling={"host": "Communication host", "login": "Client ID", "password": "Client secret"},
        placeholders={"host": "https://communication.us.api.opentext.com"},
        fields={**OCP_FIELDS, "token_host": _text("Token host", "Default: the communication host"), **TRANSPORT_FIELDS},
    ),
    _conn_type(
        "opentext_trading_grid",
        "contentops.hooks.trading_grid.TradingGridHook",
        "OpenText Trading Grid",
        hidden=["schema", "port"],
        relabeling={"host": "API Grid host", "login": "Consumer key", "password": "Consumer secret"},
        placeholders={"host": "https://apigrid.opentext.com"},
        fields={
            "company_id": _text(
                "Company ID (BUID)",
                "Required, e.g. GC00804444LX. The Test button reads this company "
                "(TGCommunityServices/v1/companies/{id}).",
            ),
            **DOWNLOAD_FIELDS,
            **TRANSPORT_FIELDS,
        },
    ),
    _conn_type(
        "vip",
        "contentops.hooks.vip.VipHook",
        "VIP",
        hidden=["schema", "port"],
        relabeling={"host": "API base URL", "login": "ADFS client ID", "password": "ADFS client secret"},
        placeholders={"host": "https://vip.example.com"},
        fields={
            "refresh_token": {
                "label": "Refresh token",
                "description": "From the one-time ADFS authorization; rotated tokens are kept in a Variable.",
                "schema": {"type": ["string", "null"], "format": "password"},
            },
            "token_url": _text("Token URL", "Default {host}/adfs/oauth2/token"),
            **DOWNLOAD_FIELDS,
            **TRANSPORT_FIELDS,
        },
    ),
    _conn_type(
        "opentext_workflow",
        "contentops.hooks.opentext_workflow.OpenTextWorkflowHook",
        "OpenText Workflow Service",
        hidden=["schema", "port"],
        relabeling={"host": "API host", "login": "Client ID", "password": "Client secret"},
        placeholders={"host": "https://na-1-dev.api.opentext.com"},
        fields={
            **OCP_FIELDS,
            "workflow_path": _text("Workflow path", "Default /workflow/v1"),
            "history_path": _text("History path", "Default /workflow-history/v1 (where ended instances are read)"),
            **TRANSPORT_FIELDS,
        },
    ),
    _conn_type(
        "smintio",
        "contentops.hooks.smintio.SmintioHook",
        "Smint.io",
        hidden=["schema", "port"],
        relabeling={"host": "Tenant", "login": "Client ID", "password": "Client secret"},
        placeholders={"host": "mytenant"},
        fields={
            "refresh_token": {
                "label": "Refresh token",
                "description": (
                    "From the one-time authorization; rotated tokens are kept in a Variable. The Test "
                    "button never uses it (Smint.io spends it on use): it checks the client and CLAPI-C."
                ),
                "schema": {"type": ["string", "null"], "format": "password"},
            },
            "clapi_url": _text(
                "CLAPI-C base URL",
                "Default https://{tenant}.clapi.smint.io/consumer/v1. The sync operations' paths are not "
                'public: override any in extra \'paths\', e.g. {"paths": {"generic_metadata": "…"}}.',
            ),
            "portals_url": _text("Portals backend URL", "Default https://{tenant}.portalsapib.smint.io/backend/v1"),
            "token_url": _text("Token URL", "Default https://{tenant}.smint.io/connect/token"),
            "channel_id": {
                "label": "Push channel id",
                "description": (
                    "The tenant's ChannelId for Smint.io's live license changes (Pusher channel "
                    "private-2-<id>): a change starts smintio_license_sync within seconds. Empty or <= 0: "
                    "no push, the hourly sync alone (docs/systems/smintio.md)."
                ),
                "schema": {"type": ["integer", "null"]},
            },
            "pusher_url": _text(
                "Push websocket URL",
                "Default wss://ws-eu.pusher.com/app/32f31c26a83e09dc401b (Smint.io's Pusher app, cluster eu).",
            ),
            **TRANSPORT_FIELDS,
        },
    ),
    _conn_type(
        "consonance",
        "contentops.hooks.consonance.ConsonanceHook",
        "Consonance",
        hidden=["schema", "port", "login"],
        relabeling={"host": "Instance URL", "password": "API key"},
        placeholders={"host": "https://web.consonance.app"},
        fields={
            "api": {
                "label": "API",
                "description": "graphql (default) or rest: which API serves reads; writes always use GraphQL.",
                "schema": {"type": ["string", "null"], "enum": ["graphql", "rest", None]},
            },
            **TRANSPORT_FIELDS,
        },
    ),
    _conn_type(
        "contentops_ledger",
        "contentops.hooks.ledger.LedgerHook",
        "contentops ledger",
        hidden=[],
        relabeling={"schema": "Database"},
        placeholders={
            "host": "db.example.com (PostgreSQL) or /path/to/ledger.sqlite",
            "schema": "contentops",
            "port": "5432",
        },
        fields={
            "url": {
                "label": "SQLAlchemy URL",
                "description": "Overrides the fields above, e.g. postgresql+psycopg://user:pw@host/db",
                "schema": {"type": ["string", "null"]},
            }
        },
    ),
]


#: integration name -> (the product's public page, if it has one; hook modules)
INTEGRATIONS: dict[str, tuple[str | None, list[str]]] = {
    "Smint.io": ("https://www.smint.io/", ["contentops.hooks.smintio"]),
    "VIP": ("https://www.oneteg.com/", ["contentops.hooks.vip"]),
    "OpenText Workflow Service": ("https://developer.opentext.com/", ["contentops.hooks.opentext_workflow"]),
    "OpenText Trading Grid": (
        "https://developer.opentext.com/",
        ["contentops.hooks.trading_grid", "contentops.hooks.trading_grid_submissions"],
    ),
    "OpenText Exstream": ("https://developer.opentext.com/", ["contentops.hooks.exstream"]),
    "Consonance": ("https://consonance.app/", ["contentops.hooks.consonance"]),
    "contentops ledger": (None, ["contentops.hooks.ledger"]),
    # the DAMs content is onboarded from (OWS-6): Bynder, Brandfolder and the like (modelled)
    "Source DAM": (None, ["contentops.hooks.source_dam"]),
}


#: the integration of the operators that span systems (the rights gate, the sweep, usage reconciliation)
CROSS_SYSTEM = "contentops cross-system"

#: integration name -> operator modules (one module per system, plus the cross-system ones; the
#: campaign release's operators sit under the system it starts from: it releases Smint.io content)
OPERATORS: dict[str, list[str]] = {
    "Smint.io": ["contentops.operators.smintio", "contentops.operators.campaign"],
    "VIP": ["contentops.operators.vip"],
    "Consonance": ["contentops.operators.consonance"],
    "OpenText Workflow Service": ["contentops.operators.opentext_workflow"],
    "OpenText Trading Grid": ["contentops.operators.trading_grid"],
    "OpenText Exstream": ["contentops.operators.exstream"],
    CROSS_SYSTEM: ["contentops.operators.rights", "contentops.operators.usage"],
}


def _version() -> str:
    """The installed distribution's version (one place to bump: pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE_NAME)
    except PackageNotFoundError:  # imported from a source tree that is not installed
        return "0+unknown"


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow validates against its runtime schema."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "contentops",
        "description": "Rights-safe content flows between Smint.io, VIP, OpenText Workflow Service, "
        "OpenText Trading Grid, Consonance and OpenText Exstream.",
        "versions": [_version()],
        "integrations": [
            {"integration-name": name, "tags": ["service"], **({"external-doc-url": url} if url else {})}
            for name, (url, _) in INTEGRATIONS.items()
        ]
        + [{"integration-name": CROSS_SYSTEM, "tags": ["service"]}],
        "hooks": [{"integration-name": name, "python-modules": modules} for name, (_, modules) in INTEGRATIONS.items()],
        "operators": [{"integration-name": name, "python-modules": modules} for name, modules in OPERATORS.items()],
        "sensors": [
            {"integration-name": "OpenText Workflow Service", "python-modules": ["contentops.sensors.workflow"]}
        ],
        "triggers": [
            {"integration-name": "OpenText Workflow Service", "python-modules": ["contentops.triggers.workflow"]},
            {"integration-name": "Smint.io", "python-modules": ["contentops.triggers.smintio_push"]},
        ],
        "connection-types": CONNECTION_TYPES,
        # the URI schemes of the hooks' lineage assets (contentops.lineage): checked by Airflow,
        # turned into OpenLineage datasets by the OpenLineage provider
        "asset-uris": [
            {
                "schemes": sorted(LINEAGE_SCHEMES.values()),
                "handler": "contentops.lineage.sanitize_uri",
                "to_openlineage_converter": "contentops.lineage.convert_asset_to_openlineage",
            }
        ],
        # the alert notifiers (contentops.alerts): listed so Airflow's provider manager shows them
        "notifications": [
            "contentops.alerts.webhook.WebhookNotifier",
            "contentops.alerts.notify.ContentopsNotifier",
        ],
    }
