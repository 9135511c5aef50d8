"""The id_token of a Microsoft sign-in is checked as NOTES §1.4 says: signature from the
JWKS (with key rotation), issuer built from the token's tenant, audience, times, nonce."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from joserfc.jwk import RSAKey

from companion.config import Config
from integrations.teams.claims import TokenRejected, check_id_token
from tests.fakes.microsoft_identity import FakeMicrosoftIdentity

NONCE = "n-0S6_WzA2Mj"


def _rejected(config: Config, token: str, nonce: str = NONCE) -> str:
    with pytest.raises(TokenRejected) as caught:
        check_id_token(config, token, nonce=nonce)
    return caught.value.reason


def test_a_good_token_names_the_account(
    microsoft: FakeMicrosoftIdentity, config: Callable[[], Config]
) -> None:
    account = microsoft.default_account
    user = check_id_token(config(), microsoft.id_token(account, nonce=NONCE), nonce=NONCE)
    assert (user.tenant_id, user.object_id) == (account.tenant_id, account.object_id)
    assert user.verified_email == account.email
    assert user.username == account.upn


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # Issued by another tenant than the one it claims to be from.
        ({"iss": "ISSUER:0badc0de-0000-4000-8000-000000000666"}, "issuer"),
        ({"tid": "0badc0de-0000-4000-8000-000000000666"}, "issuer"),
        ({"aud": "00000003-0000-0000-c000-000000000000"}, "audience"),
        ({"exp": -600}, "expired"),
        ({"nbf": +600}, "not_yet_valid"),
        ({"iat": +600}, "not_yet_valid"),
        ({"nonce": "somebody-elses-nonce"}, "nonce"),
        ({"tid": "9188040d-6c67-4c5b-b112-36a304b66dad"}, "personal_account"),
    ],
)
def test_bad_tokens_are_refused(
    microsoft: FakeMicrosoftIdentity,
    config: Callable[[], Config],
    change: dict[str, str | int],
    reason: str,
) -> None:
    now = int(time.time())
    claims: dict[str, object] = {}
    for name, value in change.items():
        if name in ("exp", "nbf", "iat"):
            claims[name] = now + int(value)
        elif isinstance(value, str) and value.startswith("ISSUER:"):
            claims[name] = microsoft.issuer(value.removeprefix("ISSUER:"))
        else:
            claims[name] = value
    nonce = str(claims.pop("nonce", NONCE))
    token = microsoft.id_token(microsoft.default_account, nonce=nonce, **claims)
    assert _rejected(config(), token) == reason


def test_small_clock_differences_are_tolerated(
    microsoft: FakeMicrosoftIdentity, config: Callable[[], Config]
) -> None:
    now = int(time.time())
    token = microsoft.id_token(
        microsoft.default_account, nonce=NONCE, exp=now - 60, nbf=now + 60, iat=now + 60
    )
    assert check_id_token(config(), token, nonce=NONCE).object_id


def test_a_token_without_the_nonce_we_sent_is_refused(
    microsoft: FakeMicrosoftIdentity, config: Callable[[], Config]
) -> None:
    token = microsoft.id_token(microsoft.default_account)
    assert _rejected(config(), token) == "nonce"
    assert _rejected(config(), microsoft.id_token(microsoft.default_account, nonce=NONCE), "") == (
        "nonce"
    )


def test_a_forged_signature_is_refused(
    microsoft: FakeMicrosoftIdentity, config: Callable[[], Config]
) -> None:
    # Signed by another key that claims the published key's id.
    published = microsoft.signing_key
    forger = RSAKey.generate_key(2048, parameters={"kid": published.kid})
    token = microsoft.sign(
        {
            "iss": microsoft.issuer(microsoft.tenant_id),
            "aud": microsoft.client_id,
            "tid": microsoft.tenant_id,
            "oid": microsoft.default_account.object_id,
            "exp": int(time.time()) + 600,
            "nonce": NONCE,
        },
        key=forger,
    )
    assert _rejected(config(), token) == "signature"


def test_an_unsigned_token_is_refused(
    microsoft: FakeMicrosoftIdentity, config: Callable[[], Config]
) -> None:
    good = microsoft.id_token(microsoft.default_account, nonce=NONCE)
    header, payload, _signature = good.split(".")
    none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    assert _rejected(config(), f"{none_header}.{payload}.") == "algorithm"
    assert _rejected(config(), "not a token") == "malformed"
    assert header  # the real one had a header


def test_a_rotated_key_is_fetched_once_and_then_accepted(
    microsoft: FakeMicrosoftIdentity, config: Callable[[], Config]
) -> None:
    account = microsoft.default_account
    check_id_token(config(), microsoft.id_token(account, nonce=NONCE), nonce=NONCE)
    fetched = microsoft.count("jwks")
    microsoft.rotate_keys()  # Microsoft signs with a key Kollega has not seen yet
    user = check_id_token(config(), microsoft.id_token(account, nonce=NONCE), nonce=NONCE)
    assert user.object_id == account.object_id
    assert microsoft.count("jwks") == fetched + 1
    # Known from now on: no further fetch.
    check_id_token(config(), microsoft.id_token(account, nonce=NONCE), nonce=NONCE)
    assert microsoft.count("jwks") == fetched + 1


def test_a_key_id_still_unknown_after_one_refetch_is_refused(
    microsoft: FakeMicrosoftIdentity, config: Callable[[], Config]
) -> None:
    account = microsoft.default_account
    check_id_token(config(), microsoft.id_token(account, nonce=NONCE), nonce=NONCE)
    fetched = microsoft.count("jwks")
    stranger = RSAKey.generate_key(2048, parameters={"kid": "never-published"})
    token = microsoft.sign(
        {
            "iss": microsoft.issuer(account.tenant_id),
            "aud": microsoft.client_id,
            "tid": account.tenant_id,
            "oid": account.object_id,
            "exp": int(time.time()) + 600,
            "nonce": NONCE,
        },
        key=stranger,
    )
    assert _rejected(config(), token) == "unknown_key"
    assert microsoft.count("jwks") == fetched + 1
    # The same unknown key id again does not make Kollega fetch again.
    assert _rejected(config(), token) == "unknown_key"
    assert microsoft.count("jwks") == fetched + 1


def test_a_single_tenant_setup_refuses_other_tenants(
    microsoft: FakeMicrosoftIdentity,
    config: Callable[[], Config],
    teams_config: Callable[..., Config],
) -> None:
    teams_config(teams_tenant=microsoft.tenant_id)
    own = microsoft.default_account
    assert check_id_token(config(), microsoft.id_token(own, nonce=NONCE), nonce=NONCE)
    guest = microsoft.add_account(tenant_id="0badc0de-0000-4000-8000-000000000666")
    assert _rejected(config(), microsoft.id_token(guest, nonce=NONCE)) == "tenant"
