"""The ``fake_microsoft`` pytest fixture: a running :class:`FakeMicrosoftIdentity`, reset for
every test; the test fails at teardown if Kollega sent a request Microsoft would refuse
(``fake.violations``; a test provoking them on purpose takes them with ``take_violations``).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator

import pytest

from tests.fakes.microsoft_identity import FakeMicrosoftIdentity

__all__ = ["fake_microsoft", "shared_fake_microsoft"]

_shared: FakeMicrosoftIdentity | None = None
_lock = threading.Lock()


def shared_fake_microsoft() -> FakeMicrosoftIdentity:
    """The process-wide running fake (started on first use, stopped at exit)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = FakeMicrosoftIdentity().start()
            atexit.register(_shared.stop)
        return _shared


@pytest.fixture
def fake_microsoft() -> Iterator[FakeMicrosoftIdentity]:
    """A reset, running fake Microsoft identity platform."""
    fake = shared_fake_microsoft()
    fake.reset()
    try:
        yield fake
        problems = fake.take_violations()
        if problems:
            pytest.fail(
                "Kollega sent requests Microsoft would refuse:\n" + "\n".join(problems),
                pytrace=False,
            )
    finally:
        fake.reset()
