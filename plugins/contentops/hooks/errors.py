"""Typed errors of every partner hook: each says what went wrong and what to do about it.

All of them carry the system, the HTTP status (when there was a response) and an excerpt
of the partner's answer with secrets redacted, so a failed task's log is enough to act on.
"""

from __future__ import annotations


class PartnerAPIError(Exception):
    """A call to a partner system failed in a way the caller has to handle."""

    hint = "See the partner's answer above."

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
        body_excerpt: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status
        self.method = method
        self.url = url
        self.body_excerpt = body_excerpt
        self.attempts = attempts

    def __str__(self) -> str:
        detail = f"{self.system}: {self.message}"
        if self.method and self.url:
            detail += f" [{self.method} {self.url}"
            detail += f" -> {self.status}]" if self.status is not None else "]"
        if self.attempts > 1:
            detail += f" after {self.attempts} attempts"
        if self.body_excerpt:
            detail += f"; partner said: {self.body_excerpt}"
        return f"{detail}. {self.hint}"


class AuthenticationError(PartnerAPIError):
    hint = "Check the connection's credentials (client id/secret, refresh token or API key) and its scopes."


class NotFoundError(PartnerAPIError):
    hint = "The referenced object does not exist (any more) on the partner's side; check the id or path."


class ConflictError(PartnerAPIError):
    hint = "The partner holds a conflicting state; read the current object and retry as an update."


class RequestRejectedError(PartnerAPIError):
    hint = "The partner rejected the request's content; fix the payload (see its answer)."


class RateLimitedError(PartnerAPIError):
    hint = "Lower rate_limit_per_second in the connection or use an Airflow pool to run fewer tasks at once."

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class PartnerServerError(PartnerAPIError):
    hint = "The partner failed on its side; the task can be retried later."


class PartnerUnavailableError(PartnerAPIError):
    hint = "The partner could not be reached; check the connection's host and the network, then retry."

    #: False when the request certainly never reached the partner (e.g. a connect timeout).
    request_sent = True


class MalformedResponseError(PartnerAPIError):
    hint = "The partner answered with something that is not the documented shape; the payload was not used."


class InvalidConnectionError(PartnerAPIError):
    hint = "Complete the Airflow connection (see docs/systems/)."


class RefreshTokenSpentError(AuthenticationError, InvalidConnectionError):
    """The connection's rotating refresh token was spent by a grant whose answer never arrived
    (the partner executed it; the connection dropped, timed out or answered 5xx), so the token
    that replaced it never reached us. No retry can heal that: a person must authorise again.
    (An :class:`InvalidConnectionError` as well, so the task fails at once and says so.)"""

    hint = (
        "Authorise the client again (the partner's authorization-code flow) and put the new refresh token "
        "in the connection's extra 'refresh_token'; the next task run uses it."
    )


class GraphQLError(RequestRejectedError):
    """A GraphQL API answered with an ``errors`` array (often with HTTP 200): the query or its
    variables were refused. ``errors`` keeps the partner's entries (message, locations, path,
    extensions) so a caller can tell which field failed."""

    hint = "Fix the query or its variables (see the partner's errors); nothing was returned as data."

    def __init__(self, message: str, *, errors: list[dict[str, object]] | None = None, **kwargs: object) -> None:
        self.errors = list(errors or [])
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class DownloadRefusedError(PartnerAPIError):
    """A download was not made (or was stopped) because it would leave the partner's own origin."""

    hint = (
        "Files are only fetched from the partner's own configured host and port (extra 'download_origins' "
        "adds others); the link or redirect the partner gave points elsewhere."
    )


class DownloadTooLargeError(DownloadRefusedError):
    """A download was stopped because the file is larger than the caller allows."""

    hint = "The file exceeds the size limit set for it; it was not kept."
