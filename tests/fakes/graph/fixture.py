"""The ``fake_graph`` pytest fixture: a running :class:`FakeGraph`, reset for every test.

One server per test process (started on first use), reset between tests. At teardown the
test fails if Kollega sent a request Graph would refuse (``fake.violations``) or if the fake's
own answers left the description (``fake.self_violations``). A test that provokes violations
on purpose takes them with ``fake.take_violations()``.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator

import pytest

from tests.fakes.graph.server import FakeGraph

__all__ = ["check_no_violations", "fake_graph", "shared_fake_graph"]

_shared: FakeGraph | None = None
_shared_lock = threading.Lock()


def shared_fake_graph() -> FakeGraph:
    """The process-wide running FakeGraph (started on first call, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeGraph().start()
            atexit.register(_shared.stop)
        return _shared


def check_no_violations(fake: FakeGraph) -> None:
    """Fail the current test if ``fake`` recorded violations (they are cleared either way)."""
    problems = fake.take_violations()
    own = list(fake.self_violations)
    fake.self_violations.clear()
    lines: list[str] = []
    if problems:
        lines.append(f"Fake Graph got {len(problems)} request(s) that Graph does not accept:")
        lines.extend(problems)
    if own:
        lines.append(f"Fake Graph answered {len(own)} time(s) outside graph-openapi.json:")
        lines.extend(own)
    if lines:
        pytest.fail("\n".join(lines), pytrace=False)


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    """A reset, running FakeGraph; fails the test at teardown on any recorded violation."""
    fake = shared_fake_graph()
    fake.reset()
    try:
        yield fake
        check_no_violations(fake)
    finally:
        fake.reset()
