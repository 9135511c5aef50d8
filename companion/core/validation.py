"""One validation path for pages and the API: pydantic models with translated messages.

`parse(Model, data)` returns the model or raises `Invalid` whose `errors` map a field path
(`email`, `rows.3.group`) to a message in the user's language. The request's parts each have
one reader built on it, so no view reads `request.args` or `request.form` by hand:
`query(Model)` (the query string), `form(Model)` (a posted form) and `parse_json(Model, raw)`
(a JSON body: bounded by `safe_json`, then validated strictly, so `true` is no number and `0`
no date). The field types they are built from are in `schema_types`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar, get_args, get_origin

from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from companion.core.errors import Invalid
from companion.core.safe_json import UnsafeJson, load_json

M = TypeVar("M", bound=BaseModel)


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("rows", 3, "group")` -> `rows.3.group`."""
    return ".".join(str(part) for part in loc) or "body"


def translate_error(error: Mapping[str, Any]) -> str:
    """A readable, translated message for one pydantic error."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in ("string_too_short",) and ctx.get("min_length") == 1:
        return _("This field is required.")
    if kind == "string_too_short":
        return _("Use at least %(n)s characters.", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("Use at most %(n)s characters.", n=ctx.get("max_length"))
    if kind in ("int_parsing", "int_type", "int_from_float", "int_parsing_size"):
        return _("Enter a whole number.")
    if kind in ("float_parsing", "float_type"):
        return _("Enter a number.")
    if kind == "greater_than_equal":
        return _("Enter %(n)s or more.", n=ctx.get("ge"))
    if kind == "less_than_equal":
        return _("Enter %(n)s or less.", n=ctx.get("le"))
    if kind == "greater_than":
        return _("Enter more than %(n)s.", n=ctx.get("gt"))
    if kind == "less_than":
        return _("Enter less than %(n)s.", n=ctx.get("lt"))
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type"):
        return _("Enter a date and time as YYYY-MM-DDTHH:MM.")
    if kind in ("time_parsing", "time_type"):
        return _("Enter a time as HH:MM.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Choose yes or no.")
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        return _("Choose one of: %(options)s.", options=expected)
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return _("Enter a valid email address.")
    if kind in ("url_parsing", "url_scheme", "url_type"):
        return _("Enter a web address starting with https://.")
    if kind == "extra_forbidden":
        return _("This field is not allowed here.")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("Expected an object.")
    if kind == "list_type":
        return _("Expected a list.")
    if kind == "string_type":
        return _("Expected text.")
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    if kind == "too_long":
        return _("Give at most %(n)s items.", n=ctx.get("max_length"))
    if kind == "too_short":
        return _("Give at least %(n)s items.", n=ctx.get("min_length"))
    if kind == "string_pattern_mismatch":
        return _("This value is not in the expected form.")
    if kind == "kollega":
        # Our own validators already produce translated text.
        return str(ctx.get("message") or error.get("msg", ""))
    # pydantic's own messages are English only: a generic one in the user's language.
    return _("This value is not valid.")


def errors_of(exc: ValidationError) -> dict[str, str]:
    """Field path -> message for every error in `exc` (the first message per field)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        errors.setdefault(field_path(error["loc"]), translate_error(error))
    return errors


def parse(model: type[M], data: Any) -> M:
    """Validate `data` into `model`, raising Invalid with translated field messages."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(_("Please correct the marked fields."), errors=errors_of(exc)) from None


def parse_json(model: type[M], raw: bytes | str) -> M:
    """A JSON document (a request body) into `model`: bounded, then validated strictly."""
    try:
        # Numbers are left to the model, whose bounds name the field that is out of range.
        load_json(raw, int64=False)
    except UnsafeJson as exc:
        if exc.reason == "depth":
            raise Invalid(_("The request body nests too deeply.")) from None
        if exc.reason == "number":
            raise Invalid(_("The request body holds a number out of range.")) from None
        if exc.reason == "size":
            raise Invalid(_("The request body is too large.")) from None
        raise Invalid(_("The request body is not valid JSON.")) from None
    try:
        return model.model_validate_json(_integral_numbers(raw), strict=True)
    except ValidationError as exc:
        raise Invalid(_("Please correct the marked fields."), errors=errors_of(exc)) from None


def _integral_number(text: str) -> int | float:
    number = Decimal(text)
    # JSON Schema's `integer` is any number without a fraction (`3.0`, `1e3`); strict pydantic
    # would refuse those where an int belongs. Huge ones stay floats and fail their bounds.
    if number == number.to_integral_value() and abs(number) < 2**63:
        return int(number)
    return float(number)


def _integral_numbers(raw: bytes | str) -> bytes | str:
    """The document with whole numbers written as `3.0` or `1e3` as JSON integers."""
    if not re.search(rb"[.eE]" if isinstance(raw, bytes) else r"[.eE]", raw):  # type: ignore[arg-type]
        return raw
    return json.dumps(json.loads(raw, parse_float=_integral_number), ensure_ascii=False)


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in get_args(annotation))


def _list_fields(model: type[BaseModel]) -> set[str]:
    return {
        info.alias or name for name, info in model.model_fields.items() if _is_list(info.annotation)
    }


def query_data(args: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """A query string as a dict for `model`: its list fields from every repeat, others once."""
    lists = _list_fields(model)
    getlist = getattr(args, "getlist", None)
    data: dict[str, Any] = {}
    for key in args:
        if key in lists and getlist is not None:
            data[key] = list(getlist(key))
        else:
            data[key] = args[key]
    return data


def query(model: type[M]) -> M:
    """The request's query string validated into `model` (Invalid: a 422 page or problem)."""
    from flask import request

    return parse(model, query_data(request.args, model))


def form(model: type[M], *, lists: tuple[str, ...] = ()) -> M:
    """The posted form validated into `model` (`lists`: fields that repeat)."""
    from flask import request

    return parse(model, form_data(request.form, lists=lists))


def form_data(form: Mapping[str, Any], *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """HTML form fields as a dict: empty strings dropped, named fields read as lists."""
    data: dict[str, Any] = {}
    getlist = getattr(form, "getlist", None)
    for key in form:
        if key == "csrf_token":
            continue
        if key in lists and getlist is not None:
            data[key] = [v for v in getlist(key) if v != ""]
            continue
        value = form[key]
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        data[key] = value
    return data


def submit_form(
    model: type[M],
    action: Callable[[M], ResponseReturnValue],
    *,
    lists: tuple[str, ...] = (),
    defaults: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str], ResponseReturnValue | None]:
    """Handle a page form: on POST validate, run `action`, commit; on errors roll back.

    Returns (values to show again, field errors, the response to send or None to re-render).
    """
    from flask import request

    from companion.core.db import get_db
    from companion.core.errors import Conflict

    values: dict[str, Any] = dict(defaults or {})
    if request.method != "POST":
        return values, {}, None
    values = form_data(request.form, lists=lists)
    db = get_db()
    try:
        response = action(parse(model, values))
        db.commit()
    except Invalid as exc:
        db.rollback()
        errors = dict(exc.errors) or {"form": exc.detail or _("Please check the input.")}
        return values, errors, None
    except Conflict as exc:
        db.rollback()
        key = str(exc.extra.get("field", "form"))
        return values, {key: exc.detail or str(exc.title)}, None
    return values, {}, response
