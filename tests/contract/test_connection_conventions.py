"""The stock HTTP provider's connection extras take effect on a partner hook, over real HTTP.

Each test starts real local servers: an HTTPS server whose certificate comes from a certificate
authority made in the test (and which can demand a client certificate), a plain HTTP forward
proxy, and a partner sandbox. The extras are the HttpHook's (``verify``, ``cert``, ``proxies``,
``timeout``, headers ...), with the transport's pacing, Retry-After and token refresh on top.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from contentops.hooks.auth import Auth, OAuth2ClientCredentialsAuth
from contentops.hooks.base import PartnerHook
from contentops.hooks.consonance import ConsonanceHook
from contentops.hooks.errors import InvalidConnectionError, MalformedResponseError, PartnerUnavailableError
from contentops_sandbox.connections import consonance_connection

pytestmark = pytest.mark.contract

CLIENT_SECRET = "conventions-client-secret"


# -- a certificate authority of our own -------------------------------------------------------
@dataclass
class Pki:
    ca_bundle: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    usage: ExtendedKeyUsageOID | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca = _issue("contentops test CA", ca_key, None, ca_key)
    server_key, client_key = _key(), _key()
    server = _issue("localhost", server_key, ca, ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH)
    client = _issue("contentops-worker", client_key, ca, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)

    def pem(cert: x509.Certificate, name: str) -> Path:
        path = folder / name
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    return Pki(
        ca_bundle=pem(ca, "ca.pem"),
        server_cert=pem(server, "server.pem"),
        server_key=_write_key(server_key, folder / "server.key"),
        client_cert=pem(client, "client.pem"),
        client_key=_write_key(client_key, folder / "client.key"),
    )


# -- servers -----------------------------------------------------------------------------------
@dataclass
class Seen:
    """What a server received, for the test to check."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    busy_left: int = 0
    tokens_issued: int = 0
    refused_tokens: set[str] = field(default_factory=set)


class _EchoHandler(BaseHTTPRequestHandler):
    seen: ClassVar[Seen]

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass

    def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(pair.split("=", 1) for pair in self.rfile.read(length).decode().split("&") if "=" in pair)
        if self.path == "/token" and form.get("client_secret") == CLIENT_SECRET:
            self.seen.tokens_issued += 1
            self._answer(200, {"access_token": f"token-{self.seen.tokens_issued}", "expires_in": 3600})
        else:
            self._answer(401, {"error": "invalid_client"})

    def do_GET(self) -> None:
        peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        client = dict(part[0] for part in peer["subject"]).get("commonName") if peer else None
        self.seen.requests.append({"path": self.path, "headers": dict(self.headers.items()), "client": client})
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/busy" and self.seen.busy_left > 0:
            self.seen.busy_left -= 1
            self._answer(429, {"error": "slow down"}, {"Retry-After": "1"})
            return
        if self.path in ("/moved", "/loop"):
            self.send_response(302)
            self.send_header("Location", "/echo" if self.path == "/moved" else "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/protected":
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if not bearer or bearer in self.seen.refused_tokens:
                self._answer(401, {"error": "expired"})
                return
        self._answer(200, {"path": self.path, "client": client})


@dataclass
class Server:
    url: str
    seen: Seen


@contextmanager
def _serve(context: ssl.SSLContext | None, handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _tls_server(pki: Pki, *, require_client_cert: bool) -> Callable[[], Iterator[Server]]:
    def start() -> Iterator[Server]:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(pki.ca_bundle)
        seen = Seen()
        handler = type("Handler", (_EchoHandler,), {"seen": seen})
        with _serve(context, handler) as httpd:
            yield Server(f"https://localhost:{httpd.server_address[1]}", seen)

    return start


@pytest.fixture
def tls(pki: Pki) -> Iterator[Server]:
    yield from _tls_server(pki, require_client_cert=False)()


@pytest.fixture
def mutual_tls(pki: Pki) -> Iterator[Server]:
    yield from _tls_server(pki, require_client_cert=True)()


class _ForwardProxyHandler(BaseHTTPRequestHandler):
    """A plain HTTP forward proxy: takes ``GET http://host/path`` and fetches it for the client."""

    seen: ClassVar[list[dict[str, str]]]

    def log_message(self, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        self.seen.append(
            {"method": self.command, "target": self.path, "via": self.headers.get("Proxy-Authorization", "")}
        )
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        skip = {"host", "proxy-authorization", "proxy-connection", "connection", "content-length"}
        outgoing = urllib.request.Request(
            self.path,
            data=body,
            method=self.command,
            headers={k: v for k, v in self.headers.items() if k.lower() not in skip},
        )
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            upstream = direct.open(outgoing, timeout=10)
        except urllib.error.HTTPError as error:
            upstream = error
        payload = upstream.read()
        self.send_response(upstream.status if hasattr(upstream, "status") else upstream.code)
        for name, value in upstream.headers.items():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _forward


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Proxy", (_ForwardProxyHandler,), {"seen": seen})
    with _serve(None, handler) as httpd:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen


# -- a partner hook on those servers ----------------------------------------------------------
class ProbeHook(PartnerHook):
    """The smallest partner hook: the connection's host, optionally an OAuth2 client."""

    conn_type = "contentops_probe"
    hook_name = "Probe"
    system = "probe"
    default_conn_name = "probe_default"

    def build_auth(self, conn: Any) -> Auth | None:
        if not conn.login:
            return None
        return OAuth2ClientCredentialsAuth(f"{self.base_url()}/token", conn.login, conn.password, style="form")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def probe(monkeypatch: pytest.MonkeyPatch, url: str, extra: dict[str, Any], **fields: Any) -> ProbeHook:
    extra = {"max_attempts": 1, **extra}
    monkeypatch.setenv(
        "AIRFLOW_CONN_PROBE_DEFAULT", json.dumps({"conn_type": "http", "host": url, "extra": extra, **fields})
    )
    return ProbeHook()


# -- TLS verification and CA bundle ------------------------------------------------------------
def test_a_ca_bundle_in_verify_trusts_the_partners_private_ca(
    tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = probe(monkeypatch, tls.url, {"verify": str(pki.ca_bundle)})
    assert hook.transport.json("GET", "echo") == {"path": "/echo", "client": None}


def test_without_the_ca_the_certificate_is_refused(tls: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = probe(monkeypatch, tls.url, {})
    with pytest.raises(PartnerUnavailableError, match=r"TLS.*'verify' and 'cert'"):
        hook.transport.json("GET", "echo")
    assert tls.seen.requests == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize("verify", [{"verify": False}, {"verify_ssl": False}, {"verify": "false"}])
def test_verification_can_be_turned_off_as_the_http_provider_allows(
    tls: Server, monkeypatch: pytest.MonkeyPatch, verify: dict[str, Any]
) -> None:
    hook = probe(monkeypatch, tls.url, verify)
    assert hook.transport.json("GET", "echo")["path"] == "/echo"


# -- client certificate ------------------------------------------------------------------------
def test_a_client_certificate_from_cert_is_presented(
    mutual_tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"verify": str(pki.ca_bundle), "cert": [str(pki.client_cert), str(pki.client_key)]}
    hook = probe(monkeypatch, mutual_tls.url, extra)
    assert hook.transport.json("GET", "echo")["client"] == "contentops-worker"

    without = probe(monkeypatch, mutual_tls.url, {"verify": str(pki.ca_bundle)})
    with pytest.raises(PartnerUnavailableError, match="TLS"):
        without.transport.json("GET", "echo")


# -- headers -----------------------------------------------------------------------------------
def test_header_extras_are_sent_and_the_connections_own_settings_are_not(
    tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {
        "verify": str(pki.ca_bundle),
        "X-Request-Source": "contentops",
        "Accept-Language": "de-DE",
        "X-Api-Key": "k3y-from-the-connection",
        "X-Shard": 7,
        "refresh_token": "never-a-header",
        "paths": {"echo": "/echo"},
        "rate_limit_per_second": 50,
    }
    hook = probe(monkeypatch, tls.url, extra)
    hook.transport.json("GET", "echo")
    sent = {name.lower(): value for name, value in tls.seen.requests[-1]["headers"].items()}
    assert sent["x-request-source"] == "contentops"
    assert sent["accept-language"] == "de-DE"
    assert sent["x-api-key"] == "k3y-from-the-connection"
    assert sent["x-shard"] == "7"
    assert sent["user-agent"].startswith("contentops/")
    assert "refresh_token" not in sent and "never-a-header" not in sent.values()
    assert not {"paths", "rate_limit_per_second", "verify"} & set(sent)
    # a header named like a credential is a secret: never in a log line or an error message
    assert hook.transport.redact("key=k3y-from-the-connection") == "key=***"


def test_a_user_agent_header_extra_replaces_ours(tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = probe(monkeypatch, tls.url, {"verify": str(pki.ca_bundle), "User-Agent": "acme-gateway-client/2"})
    hook.transport.json("GET", "echo")
    assert tls.seen.requests[-1]["headers"]["User-Agent"] == "acme-gateway-client/2"


# -- proxies -----------------------------------------------------------------------------------
def test_requests_go_through_the_proxies_extra(
    sandbox: Callable[..., Any], proxy: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy_url, through_proxy = proxy
    running = sandbox("consonance")
    conn = consonance_connection(running.url, api="rest")
    conn["extra"]["proxies"] = {"http": proxy_url.replace("http://", "http://gateway:pr0xy-pass@")}
    monkeypatch.setenv("AIRFLOW_CONN_CONSONANCE_DEFAULT", json.dumps(conn))
    hook = ConsonanceHook()
    assert hook.test_connection()[0] is True  # the REST transport, through the proxy
    assert through_proxy and through_proxy[-1]["target"].startswith(f"{running.url}/")
    assert through_proxy[-1]["via"].startswith("Basic ")  # the proxy's credentials went to the proxy
    assert hook.rest_transport.redact("pr0xy-pass") == "***"


@pytest.mark.parametrize("key", ["proxy", "proxies"])
def test_the_proxy_alias_one_url_for_all_schemes_and_trust_env(
    sandbox: Callable[..., Any], proxy: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    proxy_url, through_proxy = proxy
    running = sandbox("consonance")
    conn = consonance_connection(running.url, api="rest")
    conn["extra"][key] = {"http": proxy_url} if key == "proxy" else proxy_url  # one URL: the form's text field
    monkeypatch.setenv("AIRFLOW_CONN_CONSONANCE_DEFAULT", json.dumps(conn))
    assert ConsonanceHook().test_connection()[0] is True
    assert len(through_proxy) == 1
    del conn["extra"][key]

    # trust_env false: a proxy from the environment is not used
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    conn["extra"] = {**conn["extra"], "trust_env": False, "max_attempts": 1}
    monkeypatch.setenv("AIRFLOW_CONN_CONSONANCE_DEFAULT", json.dumps(conn))
    assert ConsonanceHook().test_connection()[0] is True
    conn["extra"]["trust_env"] = True
    monkeypatch.setenv("AIRFLOW_CONN_CONSONANCE_DEFAULT", json.dumps(conn))
    ok, message = ConsonanceHook().test_connection()
    assert ok is False and "connection failed" in message


# -- redirects ---------------------------------------------------------------------------------
def test_redirect_extras(tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    followed = probe(monkeypatch, tls.url, {"verify": str(pki.ca_bundle)})
    assert followed.transport.json("GET", "moved")["path"] == "/echo"

    kept = probe(monkeypatch, tls.url, {"verify": str(pki.ca_bundle), "allow_redirects": False})
    response = kept.transport.request("GET", "moved")
    assert response.status_code == 302 and response.headers["Location"] == "/echo"

    bounded = probe(monkeypatch, tls.url, {"verify": str(pki.ca_bundle), "max_redirects": 3})
    with pytest.raises(MalformedResponseError, match="more than 3 redirects"):
        bounded.transport.json("GET", "loop")
    assert sum(r["path"] == "/loop" for r in tls.seen.requests) == 4


# -- timeouts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("timeout", [0.4, [5, 0.4]])
def test_the_timeout_extra_bounds_the_wait_for_an_answer(
    tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch, timeout: Any
) -> None:
    hook = probe(monkeypatch, tls.url, {"verify": str(pki.ca_bundle), "timeout": timeout})
    assert hook.transport.settings.read_timeout == 0.4
    started = time.monotonic()
    with pytest.raises(PartnerUnavailableError, match="timed out"):
        hook.transport.json("GET", "slow")
    assert time.monotonic() - started < 1.2


def test_our_own_read_timeout_wins_over_the_general_one(tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = probe(monkeypatch, tls.url, {"verify": str(pki.ca_bundle), "timeout": 0.2, "read_timeout": 5})
    assert (hook.transport.settings.connect_timeout, hook.transport.settings.read_timeout) == (0.2, 5)
    assert hook.transport.json("GET", "slow")["path"] == "/slow"


def test_an_unusable_timeout_is_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = probe(monkeypatch, "https://localhost:1", {"timeout": [1, 2, 3]})
    with pytest.raises(InvalidConnectionError, match="timeout"):
        hook.transport  # noqa: B018 - building it is the test


# -- the transport's own behaviour on top ------------------------------------------------------
def test_retry_after_and_token_refresh_work_over_the_connections_tls(
    mutual_tls: Server, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {
        "verify": str(pki.ca_bundle),
        "cert": [str(pki.client_cert), str(pki.client_key)],
        "X-Request-Source": "contentops",
        "max_attempts": 3,
    }
    hook = probe(monkeypatch, mutual_tls.url, extra, login="probe-client", password=CLIENT_SECRET)
    mutual_tls.seen.busy_left = 1
    started = time.monotonic()
    assert hook.transport.json("GET", "busy")["client"] == "contentops-worker"
    assert time.monotonic() - started >= 0.9  # waited as Retry-After said

    mutual_tls.seen.refused_tokens.add("token-1")  # the partner revokes the first token
    assert hook.transport.json("GET", "protected")["path"] == "/protected"
    assert mutual_tls.seen.tokens_issued == 2
    protected = [r for r in mutual_tls.seen.requests if r["path"] == "/protected"]
    assert [r["headers"]["Authorization"] for r in protected] == ["Bearer token-1", "Bearer token-2"]
    assert all(r["headers"]["X-Request-Source"] == "contentops" for r in mutual_tls.seen.requests)
