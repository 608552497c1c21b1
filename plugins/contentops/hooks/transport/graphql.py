"""GraphQL over the transport: documents, ``errors`` arrays as typed errors, Relay connections.

GraphQL answers a refused query with HTTP 200 and an ``errors`` array; read naively, that
looks like success with no data. Here it never is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from contentops.hooks.errors import AuthenticationError, GraphQLError, MalformedResponseError
from contentops.hooks.transport.core import HttpCore


class GraphQLMixin(HttpCore):
    """GraphQL queries and mutations on top of the transport's requests."""

    def graphql(
        self,
        path: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """POST one GraphQL document and return its ``data``.

        GraphQL reports refused queries in an ``errors`` array, usually with HTTP 200: those are
        raised as :class:`~contentops.hooks.errors.GraphQLError` (or
        :class:`~contentops.hooks.errors.AuthenticationError` for an ``UNAUTHENTICATED`` /
        ``FORBIDDEN`` code), never returned as data. Queries are safe to resend; a mutation is
        resent only when the caller says it is idempotent (a write keyed by our own reference).
        """
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name:
            body["operationName"] = operation_name
        url = self.url_for(path)
        response = self.request("POST", url, json=body, idempotent=idempotent, expected=(400, 422))
        try:
            answer = response.json()
        except ValueError:
            answer = None
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors:
            entries = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
            codes = {str((e.get("extensions") or {}).get("code", "")).upper() for e in entries}
            common: dict[str, Any] = {
                "system": self.system,
                "status": response.status_code,
                "method": "POST",
                "url": self.redact_url(url),
                "body_excerpt": self._excerpt(response),
            }
            summary = "; ".join(_graphql_error_line(e) for e in entries[:3])
            if codes & {"UNAUTHENTICATED", "FORBIDDEN", "UNAUTHORIZED"}:
                raise AuthenticationError(f"GraphQL refused the credentials: {summary}", **common)
            raise GraphQLError(f"GraphQL errors: {summary}", errors=entries, **common)
        if response.status_code >= 400 or not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
            raise MalformedResponseError(
                "expected a GraphQL answer with data or errors",
                system=self.system,
                status=response.status_code,
                method="POST",
                url=self.redact_url(url),
                body_excerpt=self._excerpt(response),
            )
        return answer["data"]

    def iter_graphql_connection(
        self,
        path: str,
        query: str,
        *,
        connection: Callable[[dict[str, Any]], Any],
        variables: dict[str, Any] | None = None,
        page_size: int = 50,
        operation_name: str | None = None,
        first_variable: str = "first",
        after_variable: str = "after",
    ) -> Iterator[Any]:
        """Yield the nodes of a Relay-style connection page by page.

        ``connection`` picks the connection object out of ``data``; it has ``nodes`` (or
        ``edges[].node``) and ``pageInfo {hasNextPage endCursor}``. The query declares the
        ``$first`` / ``$after`` variables; the cursor of each page feeds the next request.
        Nodes are yielded as the partner sent them (a null node too): the caller validates.
        """
        after: str | None = None
        seen: set[str] = set()
        while True:
            data = self.graphql(
                path,
                query,
                {**(variables or {}), first_variable: page_size, after_variable: after},
                operation_name=operation_name,
            )
            page = connection(data)
            if not isinstance(page, dict):
                raise MalformedResponseError("expected a GraphQL connection object", system=self.system)
            nodes = page.get("nodes")
            if nodes is None:
                nodes = [edge.get("node") if isinstance(edge, dict) else None for edge in page.get("edges") or []]
            yield from nodes
            info = page.get("pageInfo") or {}
            cursor = info.get("endCursor")
            if not info.get("hasNextPage") or not cursor:
                return
            if cursor in seen:
                raise MalformedResponseError("GraphQL connection cursor repeats", system=self.system)
            seen.add(cursor)
            after = cursor


def _graphql_error_line(error: dict[str, Any]) -> str:
    """``message (at path a.b, line 3:5)`` for one GraphQL error entry."""
    where = []
    if error.get("path"):
        where.append("at path " + ".".join(str(p) for p in error["path"]))
    locations = error.get("locations") or []
    if locations and isinstance(locations[0], dict):
        where.append(f"line {locations[0].get('line')}:{locations[0].get('column')}")
    return str(error.get("message") or "error") + (f" ({', '.join(where)})" if where else "")
