"""The production settings: shared rate limits, live addresses that browsers can reach, checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.config import ConfigError, load_config


def _config(tmp_path: Path, **settings: object):  # type: ignore[no-untyped-def]
    return load_config({"instance_path": tmp_path, **settings})


def test_sign_in_limits_are_counted_in_redis_when_there_is_one(tmp_path: Path) -> None:
    key = "k" * 20
    alone = _config(tmp_path, secret_key=key)
    assert alone.effective_ratelimit_storage_url == "memory://"
    shared = _config(tmp_path, secret_key=key, redis_url="redis://10.0.0.5:6379/2")
    assert shared.effective_ratelimit_storage_url == "redis://10.0.0.5:6379/2"
    chosen = _config(
        tmp_path, secret_key=key, redis_url="redis://a/0", ratelimit_storage_url="redis://b/1"
    )
    assert chosen.effective_ratelimit_storage_url == "redis://b/1"


def test_the_live_address_never_names_port_0(tmp_path: Path) -> None:
    key = "k" * 20
    behind_proxy = _config(tmp_path, secret_key=key, live_port=0, base_url="https://k.example")
    assert behind_proxy.public_live_url == "wss://k.example/ws"
    direct = _config(tmp_path, secret_key=key, live_port=5001, base_url="http://127.0.0.1:5000")
    assert direct.public_live_url == "ws://127.0.0.1:5001/ws"
    with pytest.raises(ConfigError, match="COMPANION_LIVE_URL"):
        _config(tmp_path, secret_key=key, live_url="ws://127.0.0.1:0/ws")
    with pytest.raises(ConfigError, match="COMPANION_LIVE_URL"):
        _config(tmp_path, secret_key=key, live_url="https://k.example/ws")


def test_a_generated_secret_key_is_known_as_such(tmp_path: Path) -> None:
    assert _config(tmp_path).secret_key_generated
    assert not _config(tmp_path, secret_key="a-configured-key-0123456789").secret_key_generated


def test_metrics_addresses_are_validated(tmp_path: Path) -> None:
    assert _config(tmp_path, metrics_allow="10.0.0.0/8, ::1").metrics_allow
    with pytest.raises(ConfigError, match="COMPANION_METRICS_ALLOW"):
        _config(tmp_path, metrics_allow="everyone")
