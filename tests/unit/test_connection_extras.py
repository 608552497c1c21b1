"""How a partner connection's extras are read as the HTTP provider's conventions (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from contentops.hooks.transport.connection import connection_http, header_extras, timeouts

pytestmark = pytest.mark.unit


def test_only_keys_written_as_header_names_are_headers() -> None:
    extra: dict[str, Any] = {
        "Accept-Language": "de-DE",
        "X-Retries": 3,
        "accept-encoding": "gzip",
        "refresh_token": "spent-on-use",
        "tenant_id": "t-1",
        "paths": {"a": "/a"},
        "X-Flag": True,  # not text: HttpHook would fail on it at send time
        "X-Nested": {"a": 1},
        "verify": "/etc/ca.pem",
        "Proxies": "not-an-option-key",  # option keys are matched exactly, as HttpHook does
        "check_response": False,
    }
    assert header_extras(extra) == {
        "Accept-Language": "de-DE",
        "X-Retries": "3",
        "accept-encoding": "gzip",
        "Proxies": "not-an-option-key",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ("", {}),
        (5, {"connect_timeout": 5.0, "read_timeout": 5.0}),
        ("2.5", {"connect_timeout": 2.5, "read_timeout": 2.5}),
        ([3, 30], {"connect_timeout": 3.0, "read_timeout": 30.0}),
    ],
)
def test_timeout_is_one_number_or_a_connect_read_pair(value: Any, expected: dict[str, float]) -> None:
    assert timeouts(value) == expected


@pytest.mark.parametrize("value", [[1, 2, 3], "soon", {"connect": 1}])
def test_an_unusable_timeout_is_refused(value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        timeouts(value)


def test_the_session_carries_the_http_providers_options() -> None:
    http = connection_http(
        "probe",
        "https://partner.example",
        {
            "verify_ssl": "false",
            "cert": ["/etc/client.pem", "/etc/client.key"],
            "proxies": "http://gw:s3cret-proxy@proxy.example:3128",
            "trust_env": False,
            "max_redirects": 4,
            "allow_redirects": "false",
            "timeout": [2, 20],
            "X-Api-Key": "k3y-value",
            "X-Request-Source": "contentops",
            "refresh_token": "never-sent",
        },
    )
    session = http.session
    assert session.verify is False
    assert session.cert == ("/etc/client.pem", "/etc/client.key")
    assert session.proxies == {
        "http": "http://gw:s3cret-proxy@proxy.example:3128",
        "https": "http://gw:s3cret-proxy@proxy.example:3128",
    }
    assert session.trust_env is False
    assert session.max_redirects == 4
    assert session.auth is None  # the partner hook authenticates, never HTTP Basic from login/password
    assert session.headers["X-Request-Source"] == "contentops"
    assert "refresh_token" not in session.headers
    assert http.allow_redirects is False
    assert http.timeouts == {"connect_timeout": 2.0, "read_timeout": 20.0}
    assert sorted(http.secrets) == ["k3y-value", "s3cret-proxy"]


def test_a_ca_bundle_path_stays_a_path_and_defaults_stay_requests_defaults() -> None:
    assert connection_http("probe", "https://p.example", {"verify": "/etc/ssl/private-ca.pem"}).session.verify == (
        "/etc/ssl/private-ca.pem"
    )
    plain = connection_http("probe", "https://p.example", {})
    assert plain.session.verify is True and plain.session.proxies == {} and plain.session.trust_env is True
    assert plain.timeouts == {} and plain.allow_redirects is None and plain.secrets == []
