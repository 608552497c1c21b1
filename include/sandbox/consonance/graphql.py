"""The Consonance sandbox's GraphQL: the schema from SDL files, executed by graphql-core.

Why SDL and graphql-core rather than a schema written in Python: the schema the sandbox serves
is the same text the conformance tests validate the hook's documents against
(``schema/public.graphql``, written from the vendor's public examples, and
``schema/modelled.graphql``, our ``extend`` declarations for what no public source shows). A
server built from ``public.graphql`` alone refuses every modelled name the way a GraphQL server
does — the whole document, with a validation error — which is what the hook must survive.

Resolvers are plain functions ``(parent, args, info)``; ``info.context["data"]`` is the
request's view of the sandbox store. Fields without a resolver read the parent mapping's key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    execute,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
PUBLIC_SDL = SCHEMA_DIR / "public.graphql"
MODELLED_SDL = SCHEMA_DIR / "modelled.graphql"

#: ``(parent, args, info)`` -> value
Resolver = Callable[[Any, dict[str, Any], Any], Any]


class FieldError(GraphQLError):
    """Raise from a resolver: the field becomes null and the error is reported with its path
    and a machine-readable ``extensions.code``."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message, extensions={"code": code})


def sdl(*, public_only: bool = False) -> str:
    """The schema text: public.graphql, plus modelled.graphql unless ``public_only``."""
    parts = [PUBLIC_SDL.read_text()]
    if not public_only:
        parts.append(MODELLED_SDL.read_text())
    return "\n".join(parts)


@cache
def _bare_schema(public_only: bool) -> GraphQLSchema:
    return build_schema(sdl(public_only=public_only))


def bare_schema(*, public_only: bool = False) -> GraphQLSchema:
    """The schema without resolvers (for validating documents)."""
    return _bare_schema(public_only)


def _adapt(resolve: Resolver) -> Callable[..., Any]:
    def field_resolver(parent: Any, info: Any, **args: Any) -> Any:
        return resolve(parent, args, info)

    return field_resolver


def _list_or_empty(name: str) -> Callable[..., Any]:
    def field_resolver(parent: Any, _: Any, **__: Any) -> Any:
        value = parent.get(name) if isinstance(parent, Mapping) else getattr(parent, name, None)
        return [] if value is None else value

    return field_resolver


def executable_schema(resolvers: Mapping[str, Resolver], *, public_only: bool = False) -> GraphQLSchema:
    """A fresh schema from the SDL with ``resolvers`` (``"Type.field"`` -> resolver) bound.

    Resolvers of fields the schema lacks (the modelled ones, when ``public_only``) are skipped:
    the same resolver table serves both schemas. A list field a record does not hold answers
    ``[]`` (a title without prizes has none), not null."""
    schema = build_schema(sdl(public_only=public_only))
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and not graphql_type.name.startswith("__"):
            for field_name, field in graphql_type.fields.items():
                inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
                if isinstance(inner, GraphQLList):  # a has-many with no records is empty, not null
                    field.resolve = _list_or_empty(field_name)
    for name, resolve in resolvers.items():
        type_name, _, field_name = name.partition(".")
        graphql_type = schema.type_map.get(type_name)
        if not isinstance(graphql_type, GraphQLObjectType) or field_name not in graphql_type.fields:
            continue
        graphql_type.fields[field_name].resolve = _adapt(resolve)
    return schema


def run(
    schema: GraphQLSchema,
    source: Any,
    variables: Any = None,
    operation_name: Any = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Parse, validate and execute one request; the GraphQL response (``data`` and/or ``errors``).

    A document that does not parse or validate gets ``errors`` and no ``data`` (a request error
    in the GraphQL spec's terms), as does one whose variables do not fit their declarations."""
    if not isinstance(source, str) or not source.strip():
        return {"errors": [{"message": "No query string was present"}]}
    if variables is not None and not isinstance(variables, dict):
        return {"errors": [{"message": "Variables must be a JSON object"}]}
    if operation_name is not None and not isinstance(operation_name, str):
        return {"errors": [{"message": "operationName must be a string"}]}
    try:
        document = parse(source)
    except GraphQLSyntaxError as error:
        return {"errors": [error.formatted]}
    problems = validate(schema, document)
    if problems:
        return {"errors": [problem.formatted for problem in problems]}
    result = execute(
        schema, document, variable_values=variables, operation_name=operation_name, context_value=context or {}
    )
    answer: dict[str, Any] = {}
    if result.errors:
        answer["errors"] = [error.formatted for error in result.errors]
    if result.data is not None or not result.errors:
        answer["data"] = result.data
    return answer
