"""schemathesis against the served API description (issue 13): every check, every phase.

The app is served by waitress on a real port; schemathesis (its command line, in a child
process) reads `/api/openapi.json` from it and runs the examples, coverage, fuzzing and
stateful phases with every check on, once as a facilitator and once as a participant (each
with their bearer token). A bounded number of examples per operation keeps both runs within
about three minutes on a small machine; the seed is fixed so a failure can be replayed.
Any failed check fails the test, which lists them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from companion.accounts.identity import facilitator_token
from companion.core.db import Db, utcnow
from tests.board.conftest import token_for
from tests.hardening.test_authz_matrix import EXPECTED, ROLES

pytestmark = pytest.mark.slow

#: Test cases per operation and phase: enough to find the classes of bugs, small enough for CI.
MAX_EXAMPLES = int(os.environ.get("KOLLEGA_SCHEMATHESIS_EXAMPLES", "3"))
#: A ceiling for one run (the examples bound it; this only stops a hung run).
MAX_SECONDS = 600
CONFIG = Path(__file__).with_name("schemathesis.toml")
#: The coverage phase (every boundary case of every operation, ~2 minutes here, and not
#: bounded by the number of examples) runs as the facilitator over every operation, and as a
#: participant over the operations a participant may reach (`PARTICIPANT_PATHS`): elsewhere
#: a participant's every case is the same 401/403/404.
PHASES = {
    "facilitator": "examples,coverage,fuzzing,stateful",
    "participant": "examples,coverage,fuzzing,stateful",
}


def participant_paths() -> str:
    """A regex of the API paths where the authorisation matrix lets a participant of the
    group through (its `member` column: A, or V for a body refused for what it says)."""
    member = ROLES.index("member")
    paths = sorted(
        {
            re.sub(r"<(?:int:)?(\w+)>", r"{\1}", key.split(" ", 1)[1])
            for key, row in EXPECTED.items()
            if key.split(" ", 1)[1].startswith("/api/v1/") and row[member] in "AV"
        }
    )
    return "^(?:" + "|".join(re.escape(path) for path in paths) + ")$"


#: Operations each role's run covers (None: all).
INCLUDE_PATHS = {"facilitator": None, "participant": participant_paths()}


@pytest.fixture()
def tokens(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
) -> dict[str, str]:
    """A programme with a running session; the facilitator's and a participant's tokens."""
    facilitator = make_facilitator(name="Fia Facilitator", language="en")
    programme = make_programme(facilitator=facilitator)
    group = programme.groups[0]
    aino = make_participant(programme, group=group, name="Aino Aalto")
    make_participant(programme, group=group, name="Bea Berg")
    make_session(group, starts_at=utcnow())
    with app.app_context():
        made = {"facilitator": facilitator_token(facilitator)}
    made["participant"] = token_for(app, db, aino)
    return made


def run_schemathesis(
    base_url: str, token: str, phases: str, report: Path, include_paths: str | None = None
) -> tuple[int, str, list[str]]:
    """Run `st run` against the served description (the operations whose path matches
    `include_paths`, or all); (exit code, output, failures)."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/api/openapi.json",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "13",
        "--workers",
        "1",
        "--no-color",
        "--suppress-health-check",
        "filter_too_much",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        *(["--include-path-regex", include_paths] if include_paths else []),
    ]
    environment = {**os.environ, "KOLLEGA_SCHEMATHESIS_TOKEN": token}
    # Run in the report's folder, where schemathesis also keeps its cache (not the repository).
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS,
        check=False,
        env=environment,
        cwd=report.parent,
    )
    return result.returncode, result.stdout + result.stderr, failures_in(report)


def failures_in(report: Path) -> list[str]:
    """Each distinct failed check in an ndjson report: `METHOD path: check: message`."""
    if not report.exists():
        return []
    found: dict[str, None] = {}
    for line in report.read_text().splitlines():
        event = json.loads(line).get("ScenarioFinished")
        recorder = (event or {}).get("recorder") or {}
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                message = " ".join(str(failure.get("message", "")).split())[:300]
                found[f"{failure.get('operation')}: {check['name']}: {message}"] = None
    return sorted(found)


@pytest.mark.parametrize("role", ["facilitator", "participant"])
def test_the_served_api_keeps_to_its_description(
    live_server: str, tokens: dict[str, str], role: str, tmp_path: Path
) -> None:
    """Every check of every phase passes for this role's token."""
    code, output, failures = run_schemathesis(
        live_server, tokens[role], PHASES[role], tmp_path / "events.ndjson", INCLUDE_PATHS[role]
    )
    summary = "\n".join(failures) or output[-6000:]
    assert code == 0, f"schemathesis found problems as a {role}:\n{summary}"
