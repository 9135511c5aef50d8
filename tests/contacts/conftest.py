"""The notes tests' world (a session, its people and their browsers) serves the contacts too."""

from tests.notes.conftest import World, breakouts, world  # noqa: F401 - re-exported fixtures

__all__ = ["World"]
