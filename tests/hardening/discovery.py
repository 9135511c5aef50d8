"""What the bad-input suite sweeps, found from the code itself so new routes are covered.

- `query_models()`: every model a view reads its query string with (`query(Model)` or
  `@api_view(query=Model)`).
- `form_models(view)`: the models a page view (or a helper of its module that it calls)
  reads a posted form with (`form(Model)`, `parse(Model, ...)`, `submit_form(Model, ...)`).
- `sample(model)`: a valid value for every required field, as a form or JSON sends it.
- `bad_values(annotation)`: what to put in a field of that type instead.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import types
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("companion", "integrations")
_READERS = {"form", "parse", "submit_form"}


def _modules() -> list[tuple[ModuleType, ast.Module]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            if not any(word in text for word in ("query(", "query=", "form(", "parse(")):
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((importlib.import_module(name), ast.parse(text)))
    return found


def _model(module: ModuleType, node: ast.expr) -> type[BaseModel] | None:
    if isinstance(node, ast.Name):
        value = getattr(module, node.id, None)
        if isinstance(value, type) and issubclass(value, BaseModel):
            return value
    return None


@cache
def query_models() -> frozenset[type[BaseModel]]:
    """Every model a view reads a query string with."""
    models: set[type[BaseModel]] = set()
    for module, tree in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None)
            if name == "query" and node.args:
                model = _model(module, node.args[0])
                if model is not None:
                    models.add(model)
            if name == "api_view":
                for keyword in node.keywords:
                    if keyword.arg == "query":
                        model = _model(module, keyword.value)
                        if model is not None:
                            models.add(model)
    return frozenset(models)


@cache
def _module_functions() -> dict[tuple[str, str], tuple[ModuleType, ast.FunctionDef]]:
    functions = {}
    for module, tree in _modules():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                functions[module.__name__, node.name] = (module, node)
    return functions


def form_models(view: Any) -> list[type[BaseModel]]:
    """The models a page view reads posted forms with (directly or through its module's own
    helpers, two calls deep)."""
    original = inspect.unwrap(view)
    functions = _module_functions()
    start = functions.get((original.__module__, original.__name__))
    if start is None:
        return []
    models: list[type[BaseModel]] = []
    todo, seen = [(start, 0)], set()
    while todo:
        (module, node), depth = todo.pop()
        if (module.__name__, node.name) in seen:
            continue
        seen.add((module.__name__, node.name))
        for call in ast.walk(node):
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                continue
            if call.func.id in _READERS and call.args:
                model = _model(module, call.args[0])
                if model is not None and model not in models:
                    models.append(model)
            helper = functions.get((module.__name__, call.func.id))
            if helper is not None and depth < 2:
                todo.append((helper, depth + 1))
    return models


# --- values ---------------------------------------------------------------------------------


def _options(annotation: Any) -> list[Any]:
    """The types an annotation allows (Optional and unions unpacked, Annotated unwrapped)."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [t for arg in get_args(annotation) for t in _options(arg)]
    if origin is Annotated:
        return _options(get_args(annotation)[0])
    return [annotation]


def kind_of(info: FieldInfo) -> str:
    """ "int", "date", "time", "datetime", "bool", "text", "list", "literal", "enum" or
    "other" for a field."""
    for option in _options(info.annotation):
        if option is type(None):
            continue
        if get_origin(option) is list:
            return "list"
        if get_origin(option) is Literal:
            return "literal"
        if option is bool:
            return "bool"
        if option is int:
            return "int"
        if option is datetime:
            return "datetime"
        if option is date:
            return "date"
        if option is time:
            return "time"
        if isinstance(option, type) and issubclass(option, enum.Enum):
            return "enum"
        if option is str:
            return "text"
    return "other"


def _bound(info: FieldInfo, name: str) -> Any:
    for item in info.metadata:
        value = getattr(item, name, None)
        if value is not None:
            return value
    return None


def sample_value(name: str, info: FieldInfo, *, as_form: bool) -> Any:
    """A valid value for the field."""
    kind = kind_of(info)
    if kind == "int":
        value = _bound(info, "ge") or 1
        return str(value) if as_form else value
    if kind == "date":
        return "2030-01-15"
    if kind == "datetime":
        return "2030-01-15T09:00"
    if kind == "time":
        return "09:00"
    if kind == "bool":
        return "on" if as_form else True
    if kind == "list":
        return []
    if kind == "literal":
        for option in _options(info.annotation):
            if get_origin(option) is Literal:
                return get_args(option)[0]
    if kind == "enum":
        for option in _options(info.annotation):
            if isinstance(option, type) and issubclass(option, enum.Enum):
                return next(iter(option)).value
    if "email" in name:
        return "sample@example.org"
    if "url" in name or name in ("website", "linkedin"):
        return "https://example.org/"
    if "zone" in name:
        return "Europe/Helsinki"
    if name == "language":
        return "fi"
    return "x"


def sample(model: type[BaseModel], *, as_form: bool) -> dict[str, Any]:
    """Values for the model's required fields (and the first of a pair of dates)."""
    values = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            values[info.alias or name] = sample_value(name, info, as_form=as_form)
    return values


#: Wrong values per kind of field: JSON sends the first list, forms and queries the second.
BAD_JSON: dict[str, tuple[Any, ...]] = {
    "int": (True, "1", 2**63, -(2**63) - 1, 10**30, 1.5),
    "date": ("9999-12-31", "0001-01-01", 0, "2030-02-30", True),
    "datetime": ("9999-12-31T23:59", "0001-01-01T00:00", 0),
    "time": ("24:00", 0, "9"),
    "bool": ("maybe", 2, "1"),
    "text": ("a\x00b", "\x07", 12, ["x"]),
    "list": ({"a": 1}, [2**63], "x"),
}
BAD_FORM: dict[str, tuple[str, ...]] = {
    "int": ("²", "٣", "99999999999999999999", "-99999999999", "1e3", "0x10"),
    "date": ("9999-12-31", "0001-01-01", "0", "2030-02-30", "31.12.2030"),
    "datetime": ("9999-12-31T23:59", "0001-01-01T00:00", "0"),
    "time": ("24:00", "0", "9.00"),
    "text": ("a\x00b", "\x1b[31m"),
}
