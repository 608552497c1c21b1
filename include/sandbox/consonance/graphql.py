"""A small, real GraphQL executor for the Consonance sandbox (no third-party GraphQL library).

It parses documents properly — operations with variables, aliases, arguments (variables and
literals: strings, numbers, booleans, null, enums, lists, input objects), inline fragments,
named fragments, ``__typename`` — validates them against a declared schema and executes them
over resolvers. What it refuses it reports the GraphQL way, ``{"errors": [{"message",
"locations", "path", "extensions": {"code"}}]}``: a syntax error, a field or argument the type
does not have, an object field without a selection, an undeclared or missing variable, a
variable of the wrong type, or an error raised by a resolver (that field becomes null).

Not supported (not needed by any client of the sandbox): directives, subscriptions,
introspection (``__schema``), default values of variables beyond literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# -- errors ------------------------------------------------------------------------------


class GraphQLProblem(Exception):
    """One GraphQL error: message, where in the document, where in the result, a machine code."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        locations: list[tuple[int, int]] | None = None,
        path: list[str | int] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.locations = locations or []
        self.path = path

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "message": self.message,
            "locations": [{"line": line, "column": column} for line, column in self.locations],
        }
        if self.path is not None:
            entry["path"] = self.path
        entry["extensions"] = {"code": self.code}
        return entry


class FieldError(Exception):
    """Raise from a resolver: the field becomes null and the error is reported with its path."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# -- lexer -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ignored>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\:=@\[\]{}|])
  | (?P<float>-?(?:0|[1-9]\d*)(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+))
  | (?P<int>-?(?:0|[1-9]\d*))
  | (?P<block>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
  | (?P<string>"(?:[^"\\\n\r]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*")
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
    """,
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    line: int
    column: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position, line, line_start = 0, 1, 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        column = position - line_start + 1
        if match is None:
            raise GraphQLProblem(
                f"Parse error on {source[position]!r} at [{line}, {column}]",
                code="parseError",
                locations=[(line, column)],
            )
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "ignored":
            tokens.append(Token(kind, text, line, column))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = position + text.rindex("\n") + 1
        position = match.end()
    tokens.append(Token("eof", "", line, position - line_start + 1))
    return tokens


# -- AST ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class FieldNode:
    name: str
    alias: str | None
    arguments: dict[str, Any]
    selections: list[Any] | None
    line: int
    column: int

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list[Any]
    line: int
    column: int


@dataclass
class FragmentSpread:
    name: str
    line: int
    column: int


@dataclass
class Operation:
    kind: str
    name: str | None
    variables: dict[str, tuple[str, Any, tuple[int, int]]]  # name -> (type, default, location)
    selections: list[Any]
    line: int
    column: int


@dataclass
class Document:
    operations: list[Operation] = field(default_factory=list)
    fragments: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def fail(self, token: Token | None = None) -> GraphQLProblem:
        token = token or self.current
        shown = "end of file" if token.kind == "eof" else repr(token.value)
        return GraphQLProblem(
            f"Parse error on {shown} at [{token.line}, {token.column}]",
            code="parseError",
            locations=[(token.line, token.column)],
        )

    def take(self, kind: str, value: str | None = None) -> Token:
        token = self.current
        if token.kind != kind or (value is not None and token.value != value):
            raise self.fail(token)
        self.index += 1
        return token

    def peek(self, kind: str, value: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (value is None or token.value == value)

    def document(self) -> Document:
        document = Document()
        while not self.peek("eof"):
            if self.peek("name", "fragment"):
                self.take("name")
                name = self.take("name").value
                self.take("name", "on")
                type_condition = self.take("name").value
                document.fragments[name] = (type_condition, self.selection_set())
            elif self.peek("punct", "{"):
                token = self.current
                document.operations.append(Operation("query", None, {}, self.selection_set(), token.line, token.column))
            elif self.peek("name", "query") or self.peek("name", "mutation"):
                token = self.take("name")
                name = self.take("name").value if self.peek("name") else None
                variables = self.variable_definitions() if self.peek("punct", "(") else {}
                document.operations.append(
                    Operation(token.value, name, variables, self.selection_set(), token.line, token.column)
                )
            else:
                raise self.fail()
        if not document.operations:
            raise GraphQLProblem("Document contains no operations", code="parseError", locations=[(1, 1)])
        return document

    def variable_definitions(self) -> dict[str, tuple[str, Any, tuple[int, int]]]:
        self.take("punct", "(")
        definitions: dict[str, tuple[str, Any, tuple[int, int]]] = {}
        while not self.peek("punct", ")"):
            dollar = self.take("punct", "$")
            name = self.take("name").value
            self.take("punct", ":")
            type_text = self.type_reference()
            default = None
            if self.peek("punct", "="):
                self.take("punct", "=")
                default = self.value(const=True)
            definitions[name] = (type_text, default, (dollar.line, dollar.column))
        self.take("punct", ")")
        return definitions

    def type_reference(self) -> str:
        if self.peek("punct", "["):
            self.take("punct", "[")
            inner = self.type_reference()
            self.take("punct", "]")
            text = f"[{inner}]"
        else:
            text = self.take("name").value
        if self.peek("punct", "!"):
            self.take("punct", "!")
            text += "!"
        return text

    def selection_set(self) -> list[Any]:
        self.take("punct", "{")
        selections: list[Any] = []
        while not self.peek("punct", "}"):
            if self.peek("spread"):
                spread = self.take("spread")
                if self.peek("name", "on"):
                    self.take("name")
                    type_condition = self.take("name").value
                    selections.append(InlineFragment(type_condition, self.selection_set(), spread.line, spread.column))
                elif self.peek("punct", "{"):
                    selections.append(InlineFragment(None, self.selection_set(), spread.line, spread.column))
                else:
                    selections.append(FragmentSpread(self.take("name").value, spread.line, spread.column))
                continue
            token = self.take("name")
            alias, name = None, token.value
            if self.peek("punct", ":"):
                self.take("punct", ":")
                alias, name = name, self.take("name").value
            arguments: dict[str, Any] = {}
            if self.peek("punct", "("):
                self.take("punct", "(")
                while not self.peek("punct", ")"):
                    argument = self.take("name").value
                    self.take("punct", ":")
                    arguments[argument] = self.value(const=False)
                self.take("punct", ")")
            if self.peek("punct", "@"):
                raise GraphQLProblem(
                    "Directives are not supported by this endpoint",
                    code="directiveNotSupported",
                    locations=[(self.current.line, self.current.column)],
                )
            children = self.selection_set() if self.peek("punct", "{") else None
            selections.append(FieldNode(name, alias, arguments, children, token.line, token.column))
        self.take("punct", "}")
        if not selections:
            raise self.fail()
        return selections

    def value(self, *, const: bool) -> Any:
        token = self.current
        if token.kind == "punct" and token.value == "$" and not const:
            self.take("punct", "$")
            return Variable(self.take("name").value)
        if token.kind == "int":
            self.index += 1
            return int(token.value)
        if token.kind == "float":
            self.index += 1
            return float(token.value)
        if token.kind == "string":
            self.index += 1
            return _unescape(token.value[1:-1])
        if token.kind == "block":
            self.index += 1
            return token.value[3:-3].strip()
        if token.kind == "name":
            self.index += 1
            return {"true": True, "false": False, "null": None}.get(token.value, EnumValue(token.value))
        if token.kind == "punct" and token.value == "[":
            self.take("punct", "[")
            items = []
            while not self.peek("punct", "]"):
                items.append(self.value(const=const))
            self.take("punct", "]")
            return items
        if token.kind == "punct" and token.value == "{":
            self.take("punct", "{")
            fields: dict[str, Any] = {}
            while not self.peek("punct", "}"):
                name = self.take("name").value
                self.take("punct", ":")
                fields[name] = self.value(const=const)
            self.take("punct", "}")
            return fields
        raise self.fail(token)


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        return chr(int(escape[1:], 16)) if escape.startswith("u") else _ESCAPES[escape]

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|.)", replace, text)


def parse(source: str) -> Document:
    return _Parser(source).document()


# -- schema ------------------------------------------------------------------------------

SCALARS = {"ID", "String", "Int", "Float", "Boolean", "ISO8601Date", "ISO8601DateTime", "JSON"}

Resolver = Callable[[Any, dict[str, Any], "ExecutionContext"], Any]


@dataclass(frozen=True)
class FieldDef:
    """``type`` is a GraphQL type reference (``"[Work!]!"``, ``"String"``); ``args`` name -> type."""

    type: str
    args: dict[str, str] = field(default_factory=dict)
    resolve: Resolver | None = None

    @property
    def named_type(self) -> str:
        return self.type.strip("[]!")

    @property
    def is_list(self) -> bool:
        return self.type.startswith("[")


@dataclass
class Schema:
    """Object types (name -> fields), abstract types (name -> concrete type names), input types
    (name -> field types), enums (name -> values)."""

    types: dict[str, dict[str, FieldDef]]
    abstract: dict[str, set[str]] = field(default_factory=dict)
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    enums: dict[str, set[str]] = field(default_factory=dict)

    def fields_of(self, type_name: str) -> dict[str, FieldDef]:
        return self.types.get(type_name, {})

    def possible(self, type_name: str) -> set[str]:
        return self.abstract.get(type_name, {type_name})

    def is_leaf(self, type_name: str) -> bool:
        return type_name in SCALARS or type_name in self.enums


@dataclass
class ExecutionContext:
    schema: Schema
    document: Document
    variables: dict[str, Any]
    context: dict[str, Any]
    errors: list[GraphQLProblem] = field(default_factory=list)


# -- validation --------------------------------------------------------------------------


def _validate(schema: Schema, document: Document, operation: Operation) -> list[GraphQLProblem]:
    problems: list[GraphQLProblem] = []
    used: set[str] = set()
    root = "Query" if operation.kind == "query" else "Mutation"

    def collect_variables(value: Any) -> None:
        if isinstance(value, Variable):
            used.add(value.name)
        elif isinstance(value, list):
            for item in value:
                collect_variables(item)
        elif isinstance(value, dict):
            for item in value.values():
                collect_variables(item)

    def walk(type_name: str, selections: list[Any], seen_fragments: frozenset[str], path: list[str | int]) -> None:
        fields = schema.fields_of(type_name)
        for selection in selections:
            if isinstance(selection, FragmentSpread):
                if selection.name not in document.fragments:
                    problems.append(
                        GraphQLProblem(
                            f"Fragment {selection.name} was used, but not defined",
                            code="useAndDefineFragment",
                            locations=[(selection.line, selection.column)],
                            path=path,
                        )
                    )
                    continue
                if selection.name in seen_fragments:
                    continue
                condition, children = document.fragments[selection.name]
                walk(condition, children, seen_fragments | {selection.name}, path)
                continue
            if isinstance(selection, InlineFragment):
                condition = selection.type_condition or type_name
                if condition not in schema.types:
                    problems.append(
                        GraphQLProblem(
                            f"No such type {condition}, so it can't be a fragment condition",
                            code="undefinedType",
                            locations=[(selection.line, selection.column)],
                            path=path,
                        )
                    )
                    continue
                walk(condition, selection.selections, seen_fragments, path)
                continue
            location = [(selection.line, selection.column)]
            here = [*path, selection.response_key]
            if selection.name == "__typename":
                continue
            definition = fields.get(selection.name)
            if definition is None:
                problems.append(
                    GraphQLProblem(
                        f"Field '{selection.name}' doesn't exist on type '{type_name}'",
                        code="undefinedField",
                        locations=location,
                        path=here,
                    )
                )
                continue
            for argument, value in selection.arguments.items():
                if argument not in definition.args:
                    problems.append(
                        GraphQLProblem(
                            f"Field '{selection.name}' doesn't accept argument '{argument}'",
                            code="argumentNotAccepted",
                            locations=location,
                            path=here,
                        )
                    )
                collect_variables(value)
            for argument, arg_type in definition.args.items():
                if arg_type.endswith("!") and argument not in selection.arguments:
                    problems.append(
                        GraphQLProblem(
                            f"Field '{selection.name}' is missing required arguments: {argument}",
                            code="missingRequiredArguments",
                            locations=location,
                            path=here,
                        )
                    )
            leaf = schema.is_leaf(definition.named_type)
            if leaf and selection.selections:
                problems.append(
                    GraphQLProblem(
                        f"Selections can't be made on scalars (field '{selection.name}' returns "
                        f"{definition.named_type} but has selections [...])",
                        code="selectionMismatch",
                        locations=location,
                        path=here,
                    )
                )
            elif not leaf and not selection.selections:
                problems.append(
                    GraphQLProblem(
                        f"Field must have selections (field '{selection.name}' returns {definition.named_type} "
                        "but has no selections. Did you mean '" + selection.name + " { ... }'?)",
                        code="selectionMismatch",
                        locations=location,
                        path=here,
                    )
                )
            elif not leaf and selection.selections:
                walk(definition.named_type, selection.selections, seen_fragments, here)

    if root not in schema.types:
        return [
            GraphQLProblem(
                f"Schema is not configured for {operation.kind}s",
                code="missingRootType",
                locations=[(operation.line, operation.column)],
            )
        ]
    top = f"{operation.kind} {operation.name}" if operation.name else operation.kind
    walk(root, operation.selections, frozenset(), [top])
    label = f"{operation.kind} '{operation.name}'" if operation.name else f"anonymous {operation.kind}"
    for name in sorted(used - set(operation.variables)):
        problems.append(
            GraphQLProblem(
                f"Variable ${name} is used by {label} but not declared",
                code="variableNotDefined",
                locations=[(operation.line, operation.column)],
                path=[top],
            )
        )
    return problems


def _coerce_variables(schema: Schema, operation: Operation, given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, (type_text, default, location) in operation.variables.items():
        value = given.get(name, default)
        problem = _type_problem(schema, type_text, value)
        if problem:
            raise GraphQLProblem(
                f"Variable ${name} of type {type_text} was provided invalid value ({problem})",
                code="variableMismatch",
                locations=[location],
            )
        values[name] = value
    return values


def _type_problem(schema: Schema, type_text: str, value: Any) -> str | None:
    """Why ``value`` does not fit ``type_text`` (None when it fits)."""
    if type_text.endswith("!"):
        if value is None:
            return "Expected value to not be null"
        type_text = type_text[:-1]
    if value is None:
        return None
    if type_text.startswith("["):
        items = value if isinstance(value, list) else [value]
        for item in items:
            problem = _type_problem(schema, type_text[1:-1], item)
            if problem:
                return problem
        return None
    checks: dict[str, Callable[[Any], bool]] = {
        "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "String": lambda v: isinstance(v, str),
        "ID": lambda v: isinstance(v, str | int) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "ISO8601Date": _is_date,
        "ISO8601DateTime": _is_datetime,
        "JSON": lambda v: True,
    }
    if type_text in checks:
        return None if checks[type_text](value) else f"Could not coerce value {value!r} to {type_text}"
    if type_text in schema.enums:
        return None if value in schema.enums[type_text] else f"Expected {value!r} to be one of the {type_text} values"
    if type_text in schema.inputs:
        if not isinstance(value, dict):
            return f"Expected {value!r} to be a key-value object"
        fields = schema.inputs[type_text]
        for key, item in value.items():
            if key not in fields:
                return f"Field is not defined on {type_text}: {key}"
            problem = _type_problem(schema, fields[key], item)
            if problem:
                return f"{key}: {problem}"
        for key, field_type in fields.items():
            if field_type.endswith("!") and value.get(key) is None:
                return f"{key}: Expected value to not be null"
        return None
    return f"Unknown type {type_text}"


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_datetime(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


# -- execution ---------------------------------------------------------------------------


def _resolve_value(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [_resolve_value(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_value(item, variables) for key, item in value.items()}
    return value


def _concrete_type(schema: Schema, declared: str, value: Any) -> str:
    if declared in schema.abstract and isinstance(value, dict):
        return str(value.get("__typename") or declared)
    return declared


def _applies(schema: Schema, condition: str | None, concrete: str) -> bool:
    return condition is None or condition == concrete or concrete in schema.abstract.get(condition, set())


def _collect(ctx: ExecutionContext, concrete: str, selections: list[Any], out: dict[str, list[FieldNode]]) -> None:
    for selection in selections:
        if isinstance(selection, FieldNode):
            out.setdefault(selection.response_key, []).append(selection)
        elif isinstance(selection, InlineFragment):
            if _applies(ctx.schema, selection.type_condition, concrete):
                _collect(ctx, concrete, selection.selections, out)
        elif isinstance(selection, FragmentSpread):
            condition, children = ctx.document.fragments[selection.name]
            if _applies(ctx.schema, condition, concrete):
                _collect(ctx, concrete, children, out)


def _execute_object(
    ctx: ExecutionContext, declared: str, value: Any, selections: list[Any], path: list[str | int]
) -> dict[str, Any]:
    concrete = _concrete_type(ctx.schema, declared, value)
    grouped: dict[str, list[FieldNode]] = {}
    _collect(ctx, concrete, selections, grouped)
    result: dict[str, Any] = {}
    fields = ctx.schema.fields_of(concrete) or ctx.schema.fields_of(declared)
    for key, nodes in grouped.items():
        node = nodes[0]
        if node.name == "__typename":
            result[key] = concrete
            continue
        definition = fields.get(node.name) or ctx.schema.fields_of(declared).get(node.name)
        if definition is None:  # a field of another concrete type, selected outside a fragment
            result[key] = None
            continue
        merged = [child for n in nodes for child in (n.selections or [])]
        arguments = {name: _resolve_value(v, ctx.variables) for name, v in node.arguments.items()}
        try:
            raw = (
                definition.resolve(value, arguments, ctx)
                if definition.resolve
                else (value.get(node.name) if isinstance(value, dict) else None)
            )
        except FieldError as exc:
            ctx.errors.append(
                GraphQLProblem(exc.message, code=exc.code, locations=[(node.line, node.column)], path=[*path, key])
            )
            result[key] = None
            continue
        result[key] = _complete(ctx, definition, raw, merged, [*path, key])
    return result


def _complete(
    ctx: ExecutionContext, definition: FieldDef, raw: Any, selections: list[Any], path: list[str | int]
) -> Any:
    if raw is None:
        return None
    if definition.is_list:
        items = raw if isinstance(raw, list) else [raw]
        single = FieldDef(definition.named_type)
        return [_complete(ctx, single, item, selections, [*path, index]) for index, item in enumerate(items)]
    if ctx.schema.is_leaf(definition.named_type):
        return raw
    return _execute_object(ctx, definition.named_type, raw, selections, path)


def execute(
    schema: Schema,
    source: Any,
    variables: Any = None,
    operation_name: str | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Parse, validate and run one request; the GraphQL response (``data`` and/or ``errors``)."""
    if not isinstance(source, str) or not source.strip():
        return {"errors": [GraphQLProblem("No query string was present", code="missingQuery").as_dict()]}
    if variables is not None and not isinstance(variables, dict):
        return {"errors": [GraphQLProblem("Variables must be a JSON object", code="variablesNotObject").as_dict()]}
    try:
        document = parse(source)
    except GraphQLProblem as problem:
        return {"errors": [problem.as_dict()]}
    if operation_name:
        chosen = [op for op in document.operations if op.name == operation_name]
        if not chosen:
            return {
                "errors": [GraphQLProblem(f'No operation named "{operation_name}"', code="operationNotFound").as_dict()]
            }
        operation = chosen[0]
    elif len(document.operations) > 1:
        return {
            "errors": [
                GraphQLProblem(
                    "An operation name is required when the document has several operations",
                    code="operationNameRequired",
                ).as_dict()
            ]
        }
    else:
        operation = document.operations[0]
    problems = _validate(schema, document, operation)
    if problems:
        return {"errors": [p.as_dict() for p in problems]}
    try:
        values = _coerce_variables(schema, operation, variables or {})
    except GraphQLProblem as problem:
        return {"errors": [problem.as_dict()]}
    ctx = ExecutionContext(schema, document, values, context or {})
    root = "Query" if operation.kind == "query" else "Mutation"
    data = _execute_object(ctx, root, {}, operation.selections, [])
    response: dict[str, Any] = {"data": data}
    if ctx.errors:
        response["errors"] = [e.as_dict() for e in ctx.errors]
    return response
