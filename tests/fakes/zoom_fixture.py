"""The ``fake_zoom`` pytest fixture: a running :class:`FakeZoom`, reset for every test.

Use it from a conftest or test module with ``from tests.fakes.zoom_fixture import fake_zoom``.
One server is started per test process (lazily, on first use) and :meth:`FakeZoom.reset`
between tests, so the port stays the same and tests stay fast. At teardown the test fails
if the fake recorded requests that do not match Zoom's API (``fake.violations``) or if the
fake's own answers left the spec (``fake.self_violations``). A test that provokes violations
on purpose takes them with ``fake.take_violations()``.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator

import pytest

from tests.fakes.zoom import FakeZoom

__all__ = ["check_no_violations", "fake_zoom", "shared_fake_zoom"]

_shared: FakeZoom | None = None
_shared_lock = threading.Lock()


def shared_fake_zoom() -> FakeZoom:
    """The process-wide running FakeZoom (started on first call, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeZoom().start()
            atexit.register(_shared.stop)
        return _shared


def check_no_violations(fake: FakeZoom) -> None:
    """Fail the current test if ``fake`` recorded violations (they are cleared either way)."""
    problems = fake.take_violations()
    own = list(fake.self_violations)
    fake.self_violations.clear()
    lines: list[str] = []
    if problems:
        lines.append(f"Fake Zoom got {len(problems)} request(s) that Zoom's API does not accept:")
        lines.extend(problems)
    if own:
        lines.append(f"Fake Zoom answered {len(own)} time(s) outside meetings-openapi.json:")
        lines.extend(own)
    if lines:
        pytest.fail("\n".join(lines), pytrace=False)


@pytest.fixture
def fake_zoom() -> Iterator[FakeZoom]:
    """A reset, running FakeZoom; fails the test at teardown on any recorded violation."""
    fake = shared_fake_zoom()
    fake.reset()
    try:
        yield fake
        check_no_violations(fake)
    finally:
        fake.reset()  # also wakes slow answers still sleeping
