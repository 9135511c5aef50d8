"""Checking requests (and the fake's own answers) against ``graph-openapi.json``.

The fragment is Microsoft's Graph v1.0 description for the operations Kollega uses (see
``shared/specs/teams/SOURCE.md``). As written it is too permissive for a strict fake, so this
module reads it the way Graph behaves (``shared/specs/teams/NOTES.md`` §8):

- every object schema is closed after flattening ``allOf`` (an undeclared or misspelt body
  property is refused); a schema without any declared property is free-form;
- OData's nullable structured property ``anyOf: [{$ref}, {type: object, nullable: true}]``
  means "the referenced type or null";
- a value is of the declared type unless its ``@odata.type`` names a derived type from the
  declared type's discriminator mapping; an abstract type needs ``@odata.type``;
- action parameters are matched case-insensitively (``Comment``/``comment``), and so are
  enum members (``"HTML"`` for ``html``); flags enums take comma-separated members;
- only declared query parameters are accepted, with their types; ``$select``/``$expand``
  name properties / navigation properties of the answered type.

Answers may carry ``@odata.*`` annotations beyond the schema (Graph adds them everywhere).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

#: The description the fake validates against (a verbatim copy of shared/specs/teams/).
SPEC_PATH = Path(
    os.environ.get("KOLLEGA_GRAPH_OPENAPI", Path(__file__).with_name("graph-openapi.json"))
)
#: Its sha256 as recorded in shared/specs/teams/SOURCE.md.
SPEC_SHA256 = "8fade124e9c4b43c882cd5ec3ab384c8013e7660425bf3fea5e2c05fc31e714f"

_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    """One declared operation: its path template, method and what it declares."""

    template: str
    method: str
    spec: dict[str, Any]
    pattern: re.Pattern[str]
    #: Declared parameters by (location, name).
    parameters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def is_action(self) -> bool:
        """An OData action (its body names are parameters, matched case-insensitively)."""
        return self.spec.get("x-ms-docs-operation-type") == "action"

    def path_values(self, raw_path: str) -> dict[str, str]:
        """The undecoded path parameter values of a matching path."""
        match = self.pattern.match(raw_path)
        assert match is not None
        names = _PARAM.findall(self.template)
        return dict(zip(names, match.groups(), strict=True))


class Spec:
    """The loaded description with its operations and a schema checker."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            shared = [self.deref(p) for p in item.get("parameters", [])]
            regex = (
                "^"
                + _PARAM.sub("([^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
                + "$"
            )
            for method, spec in item.items():
                if method in ("parameters", "description", "summary"):
                    continue
                params = {(p["in"], p["name"]): p for p in shared}
                for param in spec.get("parameters", []):
                    resolved = self.deref(param)
                    params[(resolved["in"], resolved["name"])] = resolved
                self.operations.append(
                    Operation(template, method.upper(), spec, re.compile(regex), params)
                )
        # A literal segment wins over a parameter (createOrGet before {onlineMeeting-id}).
        self.operations.sort(key=lambda op: (op.template.count("{"), -len(op.template)))

    def deref(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow a local ``$ref`` (possibly several)."""
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def find(self, method: str, raw_path: str) -> tuple[Operation | None, bool]:
        """The operation for a request, and whether the path is declared at all."""
        path_known = False
        for op in self.operations:
            if op.pattern.match(raw_path):
                path_known = True
                if op.method == method:
                    return op, True
        return None, path_known


@cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """The parsed description (cached per path)."""
    return Spec(json.loads(path.read_text(encoding="utf-8")))


# --- schemas ------------------------------------------------------------------------------------


def _name_of(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class Checker:
    """Validates JSON values against the spec's schemas as Graph reads them."""

    def __init__(self, spec: Spec, *, answer: bool = False) -> None:
        self.spec = spec
        #: Checking an answer of the fake: ``@odata.*`` annotations are allowed anywhere.
        self.answer = answer

    def properties(self, name: str) -> tuple[dict[str, Any], list[str]]:
        """A named schema's properties and required names, with its ``allOf`` bases."""
        schema = self.spec.schemas[name]
        props: dict[str, Any] = {}
        required: list[str] = []
        for part in schema.get("allOf", []):
            if "$ref" in part:
                base_props, base_required = self.properties(_name_of(part["$ref"]))
                props.update(base_props)
                required += base_required
            else:
                props.update(part.get("properties", {}))
                required += part.get("required", [])
        props.update(schema.get("properties", {}))
        required += schema.get("required", [])
        return props, required

    def _derived(self, name: str) -> dict[str, str]:
        """``@odata.type`` values allowed for a value declared as ``name`` (lower case)."""
        schema = self.spec.schemas[name]
        found = {f"#microsoft.graph.{name.removeprefix('microsoft.graph.')}".lower(): name}
        mapping = schema.get("discriminator", {}).get("mapping", {})
        for part in schema.get("allOf", []):
            mapping = {**part.get("discriminator", {}).get("mapping", {}), **mapping}
        for value, ref in mapping.items():
            found[value.lower()] = _name_of(ref)
        return found

    def check(self, value: Any, schema: dict[str, Any], where: str) -> list[str]:
        """Problems of ``value`` against ``schema`` (empty when it conforms)."""
        if "$ref" in schema:
            return self.check_named(value, _name_of(schema["$ref"]), where)
        if "anyOf" in schema or "oneOf" in schema:
            branches = schema.get("anyOf") or schema.get("oneOf") or []
            refs = [b for b in branches if "$ref" in b]
            if len(refs) == 1 and len(branches) == 2:
                # NOTES §8: "the referenced type or null", not "any object".
                return [] if value is None else self.check(value, refs[0], where)
            results = [self.check(value, b, where) for b in branches]
            return [] if any(not r for r in results) else min(results, key=len)
        if value is None:
            return [] if schema.get("nullable") else [f"{where}: null is not allowed"]
        kind = schema.get("type")
        if "enum" in schema:
            return self._enum(value, schema, where)
        if kind == "string":
            if not isinstance(value, str):
                return [f"{where}: {value!r} is not a string"]
            pattern = schema.get("pattern")
            if pattern and not re.match(pattern, value):
                return [f"{where}: {value!r} does not match {pattern}"]
            return []
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return [f"{where}: {value!r} is not an integer"]
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and value < low) or (high is not None and value > high):
                return [f"{where}: {value} is out of range"]
            return []
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return [f"{where}: {value!r} is not a number"]
            return []
        if kind == "boolean":
            return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a boolean"]
        if kind == "array":
            if not isinstance(value, list):
                return [f"{where}: {type(value).__name__} is not an array"]
            items = schema.get("items", {})
            return [
                p for i, item in enumerate(value) for p in self.check(item, items, f"{where}[{i}]")
            ]
        if kind == "object" or "properties" in schema:
            return self._object(
                value, schema.get("properties", {}), schema.get("required", []), where
            )
        return []

    def _enum(self, value: Any, schema: dict[str, Any], where: str) -> list[str]:
        if not isinstance(value, str):
            return [f"{where}: {value!r} is not a string"]
        members = {str(m).lower() for m in schema["enum"]}
        given = (
            [v.strip().lower() for v in value.split(",")]
            if schema.get("x-ms-enum-flags")
            else [value.lower()]
        )
        wrong = [v for v in given if v not in members]
        return [f"{where}: {value!r} is not one of {sorted(members)}"] if wrong else []

    def check_named(self, value: Any, name: str, where: str) -> list[str]:
        """Check against a component schema, honouring ``@odata.type`` and abstract types."""
        schema = self.spec.schemas[name]
        if "enum" in schema:
            return [] if value is None else self._enum(value, schema, where)
        if not isinstance(value, dict):
            if value is None:
                return [f"{where}: null is not allowed"]
            return [f"{where}: {type(value).__name__} is not an object ({name})"]
        if self.answer and set(schema.get("properties", {})) == {"@odata.type"}:
            return []  # declared without fields (NOTES §8: resourceData): free-form
        odata_type = value.get("@odata.type")
        target = name
        if isinstance(odata_type, str):
            allowed = self._derived(name)
            if odata_type.lower() not in allowed:
                return [f"{where}.@odata.type: {odata_type!r} is not {name} or derived from it"]
            target = allowed[odata_type.lower()]
        elif schema.get("x-ms-abstract") and not self.answer:
            return [f"{where}: {name} is abstract; @odata.type must name a derived type"]
        props, required = self.properties(target)
        return self._object(value, props, required, where)

    def _object(
        self,
        value: Any,
        props: dict[str, Any],
        required: Iterable[str],
        where: str,
        *,
        fold_case: bool = False,
    ) -> list[str]:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} is not an object"]
        problems: list[str] = []
        lookup = {k.lower(): k for k in props} if fold_case else {k: k for k in props}
        given = {(k.lower() if fold_case else k) for k in value}
        for name in required:
            if (name.lower() if fold_case else name) not in given:
                problems.append(f"{where}.{name}: required property is missing")
        # A type declared without fields is free-form (innerError, NOTES §8 resourceData).
        free_form = not props or (set(props) == {"@odata.type"} and self.answer)
        for key, item in value.items():
            declared = lookup.get(key.lower() if fold_case else key)
            if declared is None:
                if free_form or (self.answer and key.startswith("@odata.")):
                    continue
                problems.append(f"{where}.{key}: property is not declared")
                continue
            problems += self.check(item, props[declared], f"{where}.{key}")
        return problems

    def check_body(self, value: Any, schema: dict[str, Any], *, action: bool) -> list[str]:
        """A request or answer body; an action's parameter names are matched case-insensitively."""
        if action and "properties" in schema and "$ref" not in schema:
            return self._object(
                value,
                schema.get("properties", {}),
                schema.get("required", []),
                "body",
                fold_case=True,
            )
        return self.check(value, schema, "body")


# --- query parameters ---------------------------------------------------------------------------


def _navigation(checker: Checker, schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(properties, navigation properties) of the entity an operation answers with."""
    node = schema
    if "anyOf" in node:
        refs = [b for b in node["anyOf"] if "$ref" in b]
        node = refs[0] if refs else node
    name = _name_of(node["$ref"]) if "$ref" in node else ""
    if not name:
        return set(), set()
    props, _ = checker.properties(name)
    if "value" in props and props["value"].get("type") == "array":
        item = props["value"].get("items", {})
        if "$ref" in item:
            props, _ = checker.properties(_name_of(item["$ref"]))
    plain = {k for k, v in props.items() if not v.get("x-ms-navigationProperty")}
    navigation = {k for k, v in props.items() if v.get("x-ms-navigationProperty")}
    return plain, navigation


def check_query(spec: Spec, operation: Operation, query: dict[str, list[str]]) -> list[str]:
    """Problems of the query string: undeclared names, repeated names, wrong types."""
    problems: list[str] = []
    checker = Checker(spec)
    answer = operation.spec.get("responses", {}).get("2XX", {})
    answer = spec.deref(answer) if "$ref" in answer else answer
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    for name, values in query.items():
        declared = operation.parameters.get(("query", name))
        if declared is None:
            problems.append(f"query parameter {name!r} is not declared for this operation")
            continue
        if len(values) != 1:
            problems.append(f"query parameter {name!r} is given {len(values)} times")
            continue
        raw = values[0]
        kind = declared.get("schema", {})
        if kind.get("type") == "integer":
            if not re.fullmatch(r"\d+", raw):
                problems.append(f"{name}={raw!r} is not a non-negative integer")
        elif kind.get("type") == "boolean":
            if raw not in ("true", "false"):
                problems.append(f"{name}={raw!r} is not true or false")
        elif kind.get("type") == "array":
            items = [item.strip() for item in raw.split(",")]
            plain, navigation = _navigation(checker, schema)
            allowed = navigation if name == "$expand" else plain | navigation
            if name in ("$select", "$expand") and allowed:
                for item in items:
                    base = item.split("(")[0].strip()
                    if base not in allowed:
                        problems.append(f"{name}: {base!r} is not a property of the answer")
    return problems
