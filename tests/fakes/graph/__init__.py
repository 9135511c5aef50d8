"""A fake Microsoft Graph for tests: a local HTTP server that validates every request.

``FakeGraph`` (``server.py``) answers like Graph v1.0 for the operations in
``graph-openapi.json`` (a verbatim copy of ``shared/specs/teams/``) and records every request
that the description or the service's own rules would refuse; ``fixture.py`` has the pytest
fixture that fails a test on any such violation.
"""

from tests.fakes.graph.server import Delivery, FakeGraph, GraphUser, Injection, RecordedRequest

__all__ = ["Delivery", "FakeGraph", "GraphUser", "Injection", "RecordedRequest"]
