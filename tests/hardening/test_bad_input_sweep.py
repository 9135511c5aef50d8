"""The classes of bad input, swept over every route and model the app has (issue 13).

Every route is found from the app's URL map and every model from the code
(`tests.hardening.discovery`), so a route or field added later is swept too. Each answer must
be a 4xx: problem+json on the API, a page in the asker's language elsewhere; and nothing may
be half-written (the row counts of every table stay as they were).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from companion.core import api as core_api
from companion.core import validation
from companion.core.api import api_meta
from companion.core.db import Db
from tests.hardening.conftest import BAD_NUMBERS, FINNISH, Site, row_counts, warm_up
from tests.hardening.discovery import (
    BAD_FORM,
    BAD_JSON,
    form_models,
    kind_of,
    query_models,
    sample,
)

PROBLEM = "application/problem+json"


def _rules(app: Flask, method: str) -> list[Rule]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if method in (rule.methods or ()) and rule.endpoint != "static"
        ),
        key=lambda rule: rule.rule,
    )


def _is_api(app: Flask, rule: Rule) -> bool:
    return api_meta(app.view_functions[rule.endpoint]) is not None


#: The language each browser's pages come in: the facilitator chose English, the
#: participant's programme is Finnish, and nobody's browser asks for Finnish.
LANGUAGE = {"facilitator": "en", "participant": "fi", "nobody": "fi"}
#: The expert's own pages speak the language they were invited in (the site's expert: English),
#: whoever's browser opens their link.
EXPERT_LANGUAGE = "en"


def language_of(rule: Any, who: str) -> str:
    """The language a route's pages answer this browser in."""
    return EXPERT_LANGUAGE if rule.endpoint.startswith("experts.expert") else LANGUAGE[who]


def check_answer(response: Any, *, api: bool, language: str = "en") -> str | None:
    """What is wrong with a refusal (None if it is right): a 4xx, problem+json on the API,
    otherwise an HTML page in the asker's language."""
    status = response.status_code
    if not 400 <= status < 500:
        return f"status {status}"
    if api:
        if response.mimetype != PROBLEM:
            return f"{status} as {response.mimetype}, not problem+json"
        body = response.get_json()
        if body.get("status") != status or not body.get("title"):
            return f"problem document {body}"
        return None
    if response.mimetype != "text/html":
        return f"{status} as {response.mimetype}, not a page"
    page = response.get_data(as_text=True)
    if f'<html lang="{language}">' not in page:
        return f"{status} page not in {language}"
    return None


def _int_query_names() -> set[str]:
    return {
        info.alias or name
        for model in query_models()
        for name, info in model.model_fields.items()
        if kind_of(info) in ("int", "list")
    }


@pytest.fixture(autouse=True)
def zoom_set_up(config_changed: Any) -> None:
    """Zoom set up (no request here reaches it), so its pages answer as they would."""
    config_changed(zoom_client_id="id", zoom_client_secret="secret", zoom_webhook_secret="s")


@pytest.fixture()
def parsed_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[type[Any]]]:
    """The query models the app parsed since the last `clear()` (both readers patched)."""
    seen: list[type[Any]] = []
    original = validation.query_data

    def recording(args: Any, model: Any) -> dict[str, Any]:
        seen.append(model)
        return original(args, model)

    monkeypatch.setattr(validation, "query_data", recording)
    monkeypatch.setattr(core_api, "query_data", recording)
    yield seen


# --- query strings ----------------------------------------------------------------------------


def test_every_integer_query_parameter_of_every_route(
    app: Flask, db: Db, site: Site, parsed_queries: list[type[Any]]
) -> None:
    names = _int_query_names()
    assert {"group", "session", "participant", "after"} <= names  # the discovery works
    warm_up(app, site)
    before = row_counts(db)
    problems: list[str] = []
    exercised: set[type[Any]] = set()
    rules = _rules(app, "GET")
    for bad in BAD_NUMBERS:
        query = "&".join(f"{name}={bad}" for name in sorted(names))
        for rule in rules:
            api = _is_api(app, rule)
            for who in ("facilitator", "participant", "nobody"):
                parsed_queries.clear()
                client: FlaskClient = site.clients[who]
                headers = FINNISH if who == "nobody" else {}
                response = client.get(f"{site.path(rule)}?{query}", headers=headers)
                models = [m for m in parsed_queries if _takes_numbers(m, names)]
                exercised.update(models)
                where = f"{who} {rule.rule}?…={bad!r}"
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code}")
                elif models and bad != "":  # (an empty optional parameter is one not given)
                    wrong = check_answer(response, api=api, language=LANGUAGE[who])
                    if wrong or response.status_code != 422:
                        problems.append(f"{where}: {wrong or response.status_code}")
    assert problems == [], "\n".join(problems)
    # Every query model of the code was reached, so no route escaped the sweep.
    assert {m for m in query_models() if _takes_numbers(m, names)} <= exercised
    assert row_counts(db) == before


def _takes_numbers(model: type[Any], names: set[str]) -> bool:
    return any((info.alias or n) in names for n, info in model.model_fields.items())


# --- path ids -----------------------------------------------------------------------------------


def test_every_id_in_an_address(app: Flask, db: Db, site: Site) -> None:
    warm_up(app, site)
    before = row_counts(db)
    problems: list[str] = []
    client = site.clients["facilitator"]
    for bad in ("²", "٣", "99999999999999999999", "-1", "0"):
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            for rule in _rules(app, method):
                for name in rule.arguments:
                    if name in ("token", "direction", "filename"):
                        continue
                    path = site.path(rule, **{name: bad})
                    response = client.open(path, method=method, json={})
                    status = response.status_code
                    if status == 405 or (method == "GET" and status == 200):
                        # The address exists for other methods; a page shell whose script
                        # fetches the data (the side panels) shows no row.
                        continue
                    wrong = check_answer(response, api=_is_api(app, rule))
                    if wrong:
                        problems.append(f"{method} {path}: {wrong}")
    assert problems == [], "\n".join(problems)
    assert row_counts(db) == before


# --- JSON bodies --------------------------------------------------------------------------------


def _api_writes(app: Flask) -> Iterator[tuple[str, Rule, Any]]:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for rule in _rules(app, method):
            meta = api_meta(app.view_functions[rule.endpoint])
            if meta is not None:
                yield method, rule, meta


def test_every_field_of_every_json_body(app: Flask, db: Db, site: Site) -> None:
    client = site.clients["facilitator"]
    before = row_counts(db)
    problems: list[str] = []
    count = 0
    for method, rule, meta in _api_writes(app):
        if meta.body is None:
            continue
        base = sample(meta.body, as_form=False)
        for name, info in meta.body.model_fields.items():
            for bad in BAD_JSON.get(kind_of(info), ()):
                count += 1
                body = {**base, (info.alias or name): bad}
                response = client.open(site.path(rule), method=method, json=body)
                wrong = check_answer(response, api=True)
                fields = [e["field"] for e in (response.get_json() or {}).get("errors", [])]
                if wrong or response.status_code != 422:
                    problems.append(f"{method} {rule.rule} {name}={bad!r}: {wrong or 'not 422'}")
                elif not any(f == name or f.startswith(f"{name}.") for f in fields):
                    problems.append(f"{method} {rule.rule} {name}={bad!r}: errors on {fields}")
    assert count > 300  # every body model was found and swept
    assert problems == [], "\n".join(problems)
    assert row_counts(db) == before


def test_bodies_that_are_not_what_json_should_be(app: Flask, db: Db, site: Site) -> None:
    client = site.clients["facilitator"]
    deep = "[" * 100_000 + "]" * 100_000
    bodies = {
        "deep": deep,
        "deep object": '{"a":' * 5000 + "1" + "}" * 5000,
        "huge number": '{"x": ' + "9" * 5000 + "}",
        "nan": '{"x": NaN}',
        "not json": "{'x': 1}",
        "latin-1": '{"x": "\xe4"}'.encode("latin-1"),
    }
    before = row_counts(db)
    problems: list[str] = []
    for method, rule, meta in _api_writes(app):
        if meta.body is None:
            continue
        for label, raw in bodies.items():
            response = client.open(
                site.path(rule), method=method, data=raw, content_type="application/json"
            )
            wrong = check_answer(response, api=True)
            if wrong or response.status_code != 422:
                problems.append(f"{method} {rule.rule} {label}: {wrong or response.status_code}")
    assert problems == [], "\n".join(problems)
    assert row_counts(db) == before


def test_an_unauthenticated_write_is_401_before_csrf_and_validation(
    app: Flask, db: Db, site: Site, csrf_on: None
) -> None:
    before = row_counts(db)
    nobody = site.clients["nobody"]
    problems: list[str] = []
    for method, rule, meta in _api_writes(app):
        if meta.auth == "public":
            continue
        response = nobody.open(site.path(rule), method=method, json={"x": [True]})
        wrong = check_answer(response, api=True)
        if wrong or response.status_code != 401:
            problems.append(f"{method} {rule.rule}: {wrong or response.status_code}")
    assert problems == [], "\n".join(problems)
    assert row_counts(db) == before


# --- page forms ---------------------------------------------------------------------------------


def _page_forms(app: Flask) -> Iterator[tuple[Rule, type[Any]]]:
    for rule in _rules(app, "POST"):
        view = app.view_functions[rule.endpoint]
        if api_meta(view) is None and not rule.endpoint.split(".")[0].endswith("_api"):
            for model in form_models(view):
                yield rule, model


@pytest.mark.parametrize("who", ["facilitator", "participant"])
def test_every_field_of_every_page_form(app: Flask, db: Db, site: Site, who: str) -> None:
    client = site.clients[who]
    warm_up(app, site)
    before = row_counts(db)
    problems: list[str] = []
    forms = list(_page_forms(app))
    assert len(forms) > 20  # the discovery works
    for rule, model in forms:
        base = sample(model, as_form=True)
        for name, info in model.model_fields.items():
            for bad in BAD_FORM.get(kind_of(info), ()):
                data = {**base, (info.alias or name): bad}
                response = client.post(site.path(rule), data=data)
                if response.status_code >= 500 or 200 <= response.status_code < 300:
                    problems.append(
                        f"{rule.rule} {model.__name__}.{name}={bad!r}: {response.status_code}"
                    )
                elif response.status_code >= 400:
                    wrong = check_answer(response, api=False, language=language_of(rule, who))
                    if wrong:
                        problems.append(f"{rule.rule} {model.__name__}.{name}={bad!r}: {wrong}")
    assert problems == [], "\n".join(problems)
    assert row_counts(db) == before


def test_json_of_the_one_reader_is_bounded() -> None:
    from companion.core.safe_json import UnsafeJson, load_json

    for raw in ("[" * 40 + "]" * 40, '{"a": 99999999999999999999}', '{"a": 1e999}', "[NaN]"):
        with pytest.raises(UnsafeJson):
            load_json(raw)
    assert load_json(json.dumps({"a": [1, 2, {"b": -(2**63)}]})) == {"a": [1, 2, {"b": -(2**63)}]}
