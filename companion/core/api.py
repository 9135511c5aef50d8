"""JSON API plumbing: validated bodies in, models out, and the OpenAPI 3.1 description.

A view decorated with `@api_view(body=Model, response=Model)` receives the validated body as
`body=`, returns a pydantic model (or a list of them), and appears in `/api/openapi.json`
with its schemas, generated from the same models that validate it.

Order of checks: who is asking (`auth`: a 401 problem before anything else, see also the
CSRF check in `security`), then the query string and the body (422), then the view's own
access checks. The body is read by `validation.parse_json` (bounded, strict JSON types).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from flask import Flask, Response, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from companion.core.errors import Invalid, NotSignedIn
from companion.core.identity import require_actor
from companion.core.validation import parse, parse_json, query_data

#: Who may call a view: anyone signed in (facilitator or participant), facilitators only, or
#: anyone (the view authenticates the caller itself, e.g. a signed platform request).
Auth = Literal["actor", "facilitator", "public"]


@dataclass(frozen=True)
class ApiMeta:
    """What the OpenAPI document says about one view."""

    summary: str
    body: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    query: type[BaseModel] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    auth: Auth = "actor"


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _serialise(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_serialise(item) for item in result]
    return result


def api_view(
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    tags: tuple[str, ...] = (),
    auth: Auth = "actor",
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Check who is asking, validate the query and JSON body, serialise the returned model(s)."""
    meta = ApiMeta(summary, body, response, status, query, tags, auth)

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            authenticate(meta)
            if query is not None:
                kwargs["query"] = parse(query, query_data(request.args, query))
            if body is not None:
                kwargs["body"] = parse_json(body, _json_body())
            result = view(*args, **kwargs)
            if isinstance(result, Response):
                return result
            if result is None:
                return Response(status=204)
            response_obj = jsonify(_serialise(result))
            response_obj.status_code = status
            return response_obj

        wrapper.__api__ = meta  # type: ignore[attr-defined]
        return wrapper

    return decorate


def authenticate(meta: ApiMeta) -> None:
    """NotSignedIn (a 401 problem) unless the caller is someone `meta.auth` lets in."""
    if meta.auth == "public":
        return
    actor = require_actor()
    if meta.auth == "facilitator" and not actor.is_facilitator:
        raise NotSignedIn(_("Sign in as a facilitator to do this."))


def api_meta(view: Any) -> ApiMeta | None:
    """What `@api_view` recorded about a view function, or None for other views."""
    meta: ApiMeta | None = getattr(view, "__api__", None)
    return meta


def _json_body() -> bytes:
    if not request.is_json:
        raise Invalid(_("Send the request body as JSON (Content-Type: application/json)."))
    return request.get_data(cache=True)


#: Path arguments as the app's converters read them: `<int:...>` is `app.DatabaseId`, a
#: database id (a larger number is read as no row, so it is simply not found).
_CONVERTERS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "string": {"type": "string", "pattern": "^[^/]+$"},
    "default": {"type": "string", "pattern": "^[^/]+$"},
}
#: pydantic writes bounds it cannot push into the core schema (a bound after a
#: `BeforeValidator`, or on an optional) under their Python names; JSON Schema ignores those.
_BOUND_KEYWORDS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
    "min_length": "minLength",
    "max_length": "maxLength",
}


def standard_keywords(node: Any) -> Any:
    """`node` (a JSON Schema) with pydantic's Python-named bounds under their JSON Schema names."""
    if isinstance(node, list):
        return [standard_keywords(item) for item in node]
    if not isinstance(node, dict):
        return node
    is_schema = "type" in node or "anyOf" in node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            result[key] = {name: standard_keywords(sub) for name, sub in value.items()}
        elif is_schema and key in _BOUND_KEYWORDS and not isinstance(value, (dict, list)):
            result[_BOUND_KEYWORDS[key]] = value
        else:
            result[key] = standard_keywords(value)
    return result


_RULE_ARG = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every `@api_view` route of the app."""
    models: set[type[BaseModel]] = set()
    operations: list[tuple[str, str, ApiMeta, list[dict[str, Any]], Callable[..., Any]]] = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        meta: ApiMeta | None = getattr(view, "__api__", None)
        if meta is None or view is None:
            continue
        parameters: list[dict[str, Any]] = []

        def _path_param(match: re.Match[str], params: list[dict[str, Any]] = parameters) -> str:
            schema = dict(_CONVERTERS.get(match.group("conv") or "default", _CONVERTERS["default"]))
            params.append(
                {"name": match.group("name"), "in": "path", "required": True, "schema": schema}
            )
            return "{" + match.group("name") + "}"

        path = _RULE_ARG.sub(_path_param, rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), meta, list(parameters), view))
        for candidate in (meta.body, meta.query, meta.response, *get_args(meta.response)):
            if _is_model(candidate):
                models.add(candidate)

    refs, schema = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: (m.__module__, m.__name__))],
        ref_template="#/components/schemas/{model}",
    )
    # Two packages may each have e.g. a `GroupOut`; pydantic then names them apart, so the
    # references come from its mapping rather than from the class names.
    ref_of: dict[Any, str] = {model: ref["$ref"] for (model, _mode), ref in refs.items()}
    components: dict[str, Any] = standard_keywords(dict(schema.get("$defs", {})))
    components["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, Any] = {}
    for path, method, meta, parameters, view in operations:
        operation: dict[str, Any] = {
            "operationId": view.__name__,
            "summary": meta.summary,
            "tags": list(meta.tags),
            "responses": _responses(meta, ref_of),
            "security": ([] if meta.auth == "public" else [{"cookieAuth": []}, {"bearerAuth": []}]),
        }
        if view.__doc__:
            operation["description"] = view.__doc__.strip()
        if parameters:
            operation["parameters"] = parameters
        if meta.query is not None:
            # The same schema as the model validates with (integers, bounds, patterns).
            properties = standard_keywords(meta.query.model_json_schema()["properties"])
            for name, info in meta.query.model_fields.items():
                key = info.alias or name
                operation.setdefault("parameters", []).append(
                    {
                        "name": key,
                        "in": "query",
                        "required": info.is_required(),
                        "schema": properties.get(key, {"type": "string"}),
                    }
                )
        if meta.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": ref_of[meta.body]}}},
            }
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kollega API",
            "version": "1",
            "description": "Programmes, groups, participants and sessions of peer-mentoring "
            "programmes. Errors are RFC 9457 problem documents (application/problem+json).",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": app.config.get("SESSION_COOKIE_NAME", "session"),
                },
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _responses(meta: ApiMeta, ref_of: dict[Any, str]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses: dict[str, Any] = {}
    if meta.response is None:
        responses[str(meta.status if meta.status != 200 else 204)] = {"description": "Done"}
    elif get_origin(meta.response) is list:
        (item,) = get_args(meta.response)
        responses[str(meta.status)] = {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"$ref": ref_of[item]}}}
            },
        }
    else:
        responses[str(meta.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": ref_of[meta.response]}}},
        }
    for status, text in (
        ("401", "Not signed in"),
        ("403", "Not allowed"),
        ("404", "Not found"),
        ("409", "Conflict"),
        ("422", "Invalid input"),
    ):
        responses[status] = {"description": text, "content": problem}
    return responses


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
