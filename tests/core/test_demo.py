"""`companion demo`: its links follow the port it serves on, and its programme's name fits the
season its sessions are in."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from companion.demo import programme_name
from tests.core.test_cli import _env, _run


def _every_three_weeks(first: date) -> list[date]:
    return [first + timedelta(weeks=3 * n) for n in range(6)]


@pytest.mark.parametrize(
    ("first", "name"),
    [
        (date(2026, 12, 7), "eKollega, talvi 2026–2027"),  # December to March: not "spring"
        (date(2027, 1, 11), "eKollega, talvi 2026–2027"),
        (date(2027, 3, 1), "eKollega, kevät 2027"),
        (date(2026, 6, 1), "eKollega, kesä 2026"),
        (date(2026, 9, 7), "eKollega, syksy 2026"),
        (date(2026, 11, 2), "eKollega, talvi 2026–2027"),  # two in autumn, four in winter
    ],
)
def test_the_programme_is_named_after_the_season_of_its_sessions(first: date, name: str) -> None:
    assert programme_name(_every_three_weeks(first)) == name


def test_a_tie_goes_to_the_earlier_season() -> None:
    days = [date(2027, 2, 1), date(2027, 2, 22), date(2027, 3, 15), date(2027, 4, 5)]
    assert programme_name(days) == "eKollega, talvi 2026–2027"


def test_demo_links_follow_the_port_unless_the_base_url_is_set(tmp_path: Path) -> None:
    moved = _run(["demo", "--no-serve", "--port", "5123"], _env(tmp_path))
    assert moved.returncode == 0, moved.stderr
    assert "Sign in:    http://127.0.0.1:5123/sign-in" in moved.stdout
    assert moved.stdout.count("http://127.0.0.1:5123/j/") == 3
    assert ":5000" not in moved.stdout

    everywhere = _run(["demo", "--no-serve", "--host", "0.0.0.0", "--port", "5124"], _env(tmp_path))
    assert "http://127.0.0.1:5124/sign-in" in everywhere.stdout  # an address a browser opens

    configured = _env(tmp_path, COMPANION_BASE_URL="https://kollega.example.org")
    kept = _run(["demo", "--no-serve", "--port", "5123"], configured)
    assert kept.returncode == 0, kept.stderr
    assert "Sign in:    https://kollega.example.org/sign-in" in kept.stdout
    assert kept.stdout.count("https://kollega.example.org/j/") == 3
