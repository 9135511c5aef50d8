"""Who is acting, as core sees it: an interface that a domain package implements.

Core (the live server, the live channel registry) must know who is asking without knowing
what a facilitator or a participant is. The accounts package registers the implementation
when it is imported (`register_identity(...)`); core only passes the actor on, to the
channel rules and snapshots the domains registered, and to live tokens as a reference.

- `current_actor()` / `require_actor()`: who made the current request.
- `actor_reference(db, actor)`: a small JSON value naming the actor, for a signed token.
- `actor_from_reference(db, reference)`: the actor again, or None if that account or join
  link is no longer valid (deactivated, signed out everywhere, revoked).
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from companion.core.db import Db
from companion.core.errors import NotSignedIn


class Actor(Protocol):
    """The person behind a request; core reads nothing else of it."""

    @property
    def is_facilitator(self) -> bool:
        """Whether a facilitator (rather than a participant) is acting."""
        ...


ActorT = TypeVar("ActorT", bound=Actor)


class IdentityProvider(Protocol[ActorT]):
    """What a domain package implements so that core can tell who is acting."""

    def current_actor(self) -> ActorT | None:
        """The actor of the current request, or None."""
        ...

    def reference(self, db: Db, actor: ActorT) -> dict[str, Any]:
        """A JSON value naming the actor (goes into a signed token)."""
        ...

    def resolve(self, db: Db, reference: object) -> ActorT | None:
        """The actor a reference names, if its account or join link is still valid."""
        ...


_provider: IdentityProvider[Any] | None = None


def register_identity(provider: IdentityProvider[ActorT]) -> None:
    """Install the implementation (the accounts package does this when imported)."""
    global _provider
    _provider = provider


def identity_provider() -> IdentityProvider[Any]:
    """The installed implementation; a RuntimeError if no package registered one."""
    if _provider is None:
        raise RuntimeError("no identity provider registered (is companion.accounts imported?)")
    return _provider


def current_actor() -> Actor | None:
    """The actor of the current request, or None."""
    actor: Actor | None = identity_provider().current_actor()
    return actor


def require_actor() -> Actor:
    """The actor of the current request, or NotSignedIn."""
    actor = current_actor()
    if actor is None:
        raise NotSignedIn()
    return actor


def actor_reference(db: Db, actor: Actor) -> dict[str, Any]:
    """A JSON value naming the actor, checked again whenever it is resolved."""
    return identity_provider().reference(db, actor)


def actor_from_reference(db: Db, reference: object) -> Actor | None:
    """The actor a reference names, or None if it is no longer valid."""
    actor: Actor | None = identity_provider().resolve(db, reference)
    return actor
