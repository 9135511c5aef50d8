"""Checking Microsoft's signed tokens: a sign-in's id_token and the Teams tab's SSO token.

Both are RS256 JWTs signed with a key from the authority's JWKS (NOTES §1.4, §4.4). The keys
rotate, so a token naming an unknown key id makes the key set be fetched again once; a key id
still unknown after that is refused (and not fetched for again for a while, so forged key ids
cannot make Kollega hammer Microsoft). Nothing here logs a token.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from companion.config import Config

#: Clock difference allowed on `exp`, `nbf` and `iat` (seconds).
SKEW_SECONDS = 120
#: The Teams clients that may ask for the tab's SSO token (NOTES §4.3: desktop/mobile, web).
TEAMS_CLIENT_IDS = frozenset(
    {"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"}
)
#: The scope the tab's SSO token must carry (NOTES §4.3, "Expose an API").
SSO_SCOPE = "access_as_user"
#: Personal Microsoft accounts live in this tenant; Teams meetings need work or school ones.
PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
#: v1.0 access tokens name this issuer (NOTES §4.4).
V1_ISSUER = "https://sts.windows.net/{tenantid}/"
#: Keys and metadata are fetched again after this long even if every key id is known.
KEYS_MAX_AGE_SECONDS = 24 * 3600
#: A key id still unknown after a refetch is not fetched for again within this time.
UNKNOWN_KID_QUIET_SECONDS = 300
#: At most this many refetches for unknown key ids per minute, whatever the key ids.
REFETCHES_PER_MINUTE = 10
#: Seconds to wait for the metadata or the key set.
FETCH_TIMEOUT_SECONDS = 10.0

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TokenRejected(Exception):
    """The token is not acceptable; `reason` says why (for logs and tests, never shown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: "malformed", "algorithm", "unknown_key", "signature", "issuer", "tenant",
        #: "personal_account", "audience", "expired", "not_yet_valid", "nonce", "version",
        #: "client", "scope" or "unavailable" (the keys could not be fetched).
        self.reason = reason


@dataclass(frozen=True)
class MicrosoftUser:
    """Who a checked token is about."""

    tenant_id: str
    object_id: str
    name: str
    #: `preferred_username` (v2) or `upn` (v1): shown, never used as a key (NOTES §1.4).
    username: str
    #: The `email` claim, else the username when it looks like an address; lower case.
    email: str
    #: An email Microsoft vouches for (`xms_edov` or `verified_primary_email`), else "".
    verified_email: str
    claims: dict[str, Any] = field(repr=False)


def _guid(value: Any) -> str:
    text = str(value or "").lower()
    return text if _GUID.fullmatch(text) else ""


class KeyStore:
    """An authority's OIDC metadata and signing keys, cached for the whole process."""

    def __init__(self, login_url: str, tenant: str) -> None:
        self.metadata_url = f"{login_url}/{tenant}/v2.0/.well-known/openid-configuration"
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, RSAKey] = {}
        self._fetched_at = 0.0
        self._quiet_until: dict[str, float] = {}
        self._refetches: deque[float] = deque()

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError):
            raise TokenRejected("unavailable") from None
        if not isinstance(data, dict):
            raise TokenRejected("unavailable")
        return data

    def _fetch(self) -> None:
        metadata = self._get(self.metadata_url)
        jwks_uri = str(metadata.get("jwks_uri") or "")
        if not jwks_uri.startswith(("https://", "http://")):
            raise TokenRejected("unavailable")
        keys: dict[str, RSAKey] = {}
        for entry in self._get(jwks_uri).get("keys") or []:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not entry.get("kid"):
                continue
            if entry.get("use", "sig") != "sig":
                continue
            try:
                keys[str(entry["kid"])] = RSAKey.import_key(
                    {k: entry[k] for k in ("kty", "n", "e", "kid") if k in entry}
                )
            except (JoseError, ValueError, TypeError):
                continue
        self._metadata, self._keys, self._fetched_at = metadata, keys, time.monotonic()

    def metadata(self) -> dict[str, Any]:
        """The OpenID configuration (fetched on first use and after a day)."""
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched_at > KEYS_MAX_AGE_SECONDS:
                self._fetch()
            assert self._metadata is not None
            return self._metadata

    def key(self, kid: str) -> RSAKey:
        """The signing key named `kid`; an unknown one makes the set be fetched again once."""
        with self._lock:
            now = time.monotonic()
            if self._metadata is None or now - self._fetched_at > KEYS_MAX_AGE_SECONDS:
                self._fetch()
            if kid in self._keys:
                return self._keys[kid]
            if self._quiet_until.get(kid, 0.0) > now:
                raise TokenRejected("unknown_key")
            while self._refetches and now - self._refetches[0] > 60:
                self._refetches.popleft()
            if len(self._refetches) >= REFETCHES_PER_MINUTE:
                raise TokenRejected("unknown_key")
            # NOTES §1.4: keys rotate; a new key id means the published set changed.
            self._refetches.append(now)
            self._fetch()
            if kid in self._keys:
                return self._keys[kid]
            self._quiet_until[kid] = now + UNKNOWN_KID_QUIET_SECONDS
            raise TokenRejected("unknown_key")

    def issuer(self, tenant_id: str) -> str:
        """The v2.0 issuer for a tenant: the metadata's template with `{tenantid}` filled in.

        With a single-tenant authority the metadata names one issuer and no template, so a
        token from any other tenant fails the comparison.
        """
        template = str(self.metadata().get("issuer") or "")
        if not template:
            raise TokenRejected("unavailable")
        return template.replace("{tenantid}", tenant_id)


_stores: dict[tuple[str, str], KeyStore] = {}
_stores_lock = threading.Lock()


def key_store(config: Config) -> KeyStore:
    """The process-wide key store of the configured authority."""
    ident = (config.teams_login_url, config.teams_tenant)
    with _stores_lock:
        store = _stores.get(ident)
        if store is None:
            store = _stores[ident] = KeyStore(*ident)
        return store


def sso_resource(config: Config) -> str:
    """The Application ID URI of the tab's SSO (`api://{host}/{client id}`, NOTES §4.3)."""
    return f"api://{urlsplit(config.base_url).netloc}/{config.teams_client_id}"


def _verified_claims(store: KeyStore, token: str) -> dict[str, Any]:
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        header = compact.protected
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise TokenRejected("malformed") from None
    if not isinstance(claims, dict):
        raise TokenRejected("malformed")
    if header.get("alg") != "RS256":
        raise TokenRejected("algorithm")
    key = store.key(str(header.get("kid") or ""))
    try:
        jws.deserialize_compact(token, key, algorithms=["RS256"])
    except JoseError:
        raise TokenRejected("signature") from None
    return claims


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected("malformed")
    return float(value)


def _check_times(claims: dict[str, Any], now: float | None) -> None:
    now = time.time() if now is None else now
    expires = _number(claims, "exp")
    if expires is None:
        raise TokenRejected("malformed")
    if now > expires + SKEW_SECONDS:
        raise TokenRejected("expired")
    for name in ("nbf", "iat"):
        moment = _number(claims, name)
        if moment is not None and moment > now + SKEW_SECONDS:
            raise TokenRejected("not_yet_valid")


def _tenant(store: KeyStore, claims: dict[str, Any]) -> str:
    tenant_id = _guid(claims.get("tid"))
    if not tenant_id:
        raise TokenRejected("malformed")
    if tenant_id == PERSONAL_ACCOUNTS_TENANT:
        raise TokenRejected("personal_account")
    # A single-tenant authority's metadata names its one issuer (with the tenant's id)
    # instead of the `{tenantid}` template of `organizations`.
    template = str(store.metadata().get("issuer") or "")
    if "{tenantid}" not in template and f"/{tenant_id}/" not in template:
        raise TokenRejected("tenant")
    return tenant_id


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _user(tenant_id: str, claims: dict[str, Any]) -> MicrosoftUser:
    object_id = _guid(claims.get("oid"))
    if not object_id:
        raise TokenRejected("malformed")
    username = str(claims.get("preferred_username") or claims.get("upn") or "")
    email = str(claims.get("email") or "").strip().lower()
    if not email and "@" in username:
        email = username.strip().lower()
    verified = ""
    # Microsoft's `email` claim is not proof of ownership; these optional claims are.
    if _truthy(claims.get("xms_edov")) and claims.get("email"):
        verified = str(claims["email"]).strip().lower()
    else:
        primary = claims.get("verified_primary_email")
        if isinstance(primary, list) and primary:
            verified = str(primary[0]).strip().lower()
        elif isinstance(primary, str):
            verified = primary.strip().lower()
    return MicrosoftUser(
        tenant_id=tenant_id,
        object_id=object_id,
        name=str(claims.get("name") or ""),
        username=username,
        email=email,
        verified_email=verified,
        claims=claims,
    )


def check_id_token(
    config: Config, token: str, *, nonce: str, now: float | None = None
) -> MicrosoftUser:
    """The user of a sign-in's id_token, checked as NOTES §1.4 says; TokenRejected if not."""
    store = key_store(config)
    claims = _verified_claims(store, token)
    tenant_id = _tenant(store, claims)
    if claims.get("iss") != store.issuer(tenant_id):
        raise TokenRejected("issuer")
    if claims.get("aud") != config.teams_client_id:
        raise TokenRejected("audience")
    _check_times(claims, now)
    if not nonce or not secrets.compare_digest(str(claims.get("nonce") or ""), nonce):
        raise TokenRejected("nonce")
    return _user(tenant_id, claims)


def check_sso_token(config: Config, token: str, *, now: float | None = None) -> MicrosoftUser:
    """The user of a Teams tab's SSO token (v1.0 or v2.0, NOTES §4.4); TokenRejected if not."""
    store = key_store(config)
    claims = _verified_claims(store, token)
    tenant_id = _tenant(store, claims)
    version = claims.get("ver")
    if version == "2.0":
        issuer, audience, client = store.issuer(tenant_id), config.teams_client_id, "azp"
    elif version == "1.0":
        issuer = V1_ISSUER.replace("{tenantid}", tenant_id)
        audience, client = sso_resource(config), "appid"
    else:
        raise TokenRejected("version")
    if claims.get("iss") != issuer:
        raise TokenRejected("issuer")
    if claims.get("aud") != audience:
        raise TokenRejected("audience")
    _check_times(claims, now)
    if str(claims.get(client) or "").lower() not in TEAMS_CLIENT_IDS:
        raise TokenRejected("client")
    if SSO_SCOPE not in str(claims.get("scp") or "").split():
        raise TokenRejected("scope")
    return _user(tenant_id, claims)
