"""The programme form offers the platforms that are set up, and says what the others lack."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from companion.config import Config
from tests.fakes.platform import FakePlatform, install


class UnreadyPlatform(FakePlatform):
    """A platform that needs two settings nobody gave."""

    name = "unready"
    label = "Unready Meet"

    @staticmethod
    def missing_settings(config: Config) -> list[str]:
        return ["COMPANION_UNREADY_ID", "COMPANION_UNREADY_SECRET"]


class ReadyPlatform(FakePlatform):
    name = "ready"
    label = "Ready Meet"

    @staticmethod
    def missing_settings(config: Config) -> list[str]:
        return []


def test_only_ready_platforms_are_offered_and_the_rest_explained(
    monkeypatch: pytest.MonkeyPatch,
    client: FlaskClient,
    sign_in: Any,
    make_facilitator: Any,
) -> None:
    install(monkeypatch, UnreadyPlatform, down=False)
    install(monkeypatch, ReadyPlatform, down=False)
    sign_in(client, make_facilitator())
    page = client.get("/programmes/new?lang=en").get_data(as_text=True)
    assert '<option value="ready"' in page
    assert '<option value="unready"' not in page
    assert (
        "Unready Meet is not set up on this Kollega yet: an administrator must set "
        "COMPANION_UNREADY_ID, COMPANION_UNREADY_SECRET"
    ) in page
    assert '<option value="jitsi"' in page  # needs nothing
