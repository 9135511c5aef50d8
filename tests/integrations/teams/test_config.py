"""COMPANION_TEAMS_* settings: defaults, validation with a message naming the setting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from companion.config import Config, ConfigError, load_config

CLIENT_ID = "0A1B2C3D-0000-4000-8000-00000000C1D0"


def _load(tmp_path: Path, **values: str) -> object:
    return load_config({"instance_path": tmp_path, "secret_key": "x" * 20, **values})


def test_defaults_are_microsofts_and_teams_is_off(tmp_path: Path) -> None:
    config = load_config({"instance_path": tmp_path, "secret_key": "x" * 20})
    assert config.teams_tenant == "organizations"
    assert config.teams_login_url == "https://login.microsoftonline.com"
    assert config.teams_graph_url == "https://graph.microsoft.com/v1.0"
    assert not config.teams_configured


def test_a_complete_setup_is_configured(tmp_path: Path) -> None:
    config = load_config(
        {
            "instance_path": tmp_path,
            "secret_key": "x" * 20,
            "teams_client_id": CLIENT_ID,
            "teams_client_secret": "s3cret",
            "teams_tenant": "Contoso.onmicrosoft.com",
            "teams_login_url": "http://127.0.0.1:9999/",
        }
    )
    assert config.teams_configured
    assert config.teams_client_id == CLIENT_ID.lower()
    assert config.teams_tenant == "contoso.onmicrosoft.com"
    assert config.teams_login_url == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"teams_client_id": "my-app", "teams_client_secret": "x"}, "COMPANION_TEAMS_CLIENT_ID"),
        ({"teams_client_id": CLIENT_ID}, "COMPANION_TEAMS_CLIENT_SECRET go together"),
        ({"teams_tenant": "common"}, "COMPANION_TEAMS_TENANT"),
        ({"teams_tenant": "not a tenant!"}, "COMPANION_TEAMS_TENANT"),
        ({"teams_login_url": "login.microsoftonline.com"}, "COMPANION_TEAMS_LOGIN_URL"),
        ({"teams_graph_url": "ftp://graph"}, "COMPANION_TEAMS_GRAPH_URL"),
    ],
)
def test_wrong_values_stop_the_start_with_a_message(
    tmp_path: Path, values: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, **values)
    assert named in str(caught.value)


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPANION_TEAMS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("COMPANION_TEAMS_CLIENT_SECRET", "from-env")
    monkeypatch.setenv("COMPANION_TEAMS_TENANT", "7e57a000-0000-4000-8000-000000000001")
    config = load_config({"instance_path": tmp_path, "secret_key": "x" * 20})
    assert config.teams_configured
    assert config.teams_tenant == "7e57a000-0000-4000-8000-000000000001"


def test_the_programme_form_offers_teams_only_once_it_is_set_up(
    client: FlaskClient,
    sign_in: Any,
    make_facilitator: Any,
    teams_config: Callable[..., Config],
) -> None:
    sign_in(client, make_facilitator())
    teams_config(teams_client_id="", teams_client_secret="")
    page = client.get("/programmes/new?lang=en").get_data(as_text=True)
    assert '<option value="teams"' not in page
    assert (
        "Microsoft Teams is not set up on this Kollega yet: an administrator must set "
        "COMPANION_TEAMS_CLIENT_ID, COMPANION_TEAMS_CLIENT_SECRET"
    ) in page
    teams_config(teams_client_id=CLIENT_ID.lower(), teams_client_secret="s3cret")
    page = client.get("/programmes/new?lang=en").get_data(as_text=True)
    assert '<option value="teams"' in page
    assert "Microsoft Teams is not set up" not in page
