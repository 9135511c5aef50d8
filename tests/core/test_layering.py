"""Core stands at the bottom: no module under companion/core/ imports a domain package.

Domains plug into core through its registration seams (`register_channel`,
`register_identity`), so core can be read, tested and reused without them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "companion" / "core"
#: What core may import from this project: itself and the configuration.
ALLOWED = ("companion.core", "companion.config")


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports (relative imports made absolute), with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.append((node.lineno, base))
    return found


def _forbidden(module: str) -> bool:
    ours = module == "companion" or module.startswith(("companion.", "integrations"))
    allowed = any(module == a or module.startswith(f"{a}.") for a in ALLOWED)
    return ours and not allowed


CORE_MODULES = sorted(CORE.rglob("*.py"))


def test_the_walk_sees_every_core_module() -> None:
    names = {_module_name(p) for p in CORE_MODULES}
    assert {"companion.core.events", "companion.core.mail.delivery"} <= names
    assert {"companion.core.live", "companion.core.live.server"} <= names


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_imports_no_domain(path: Path) -> None:
    bad = [f"line {line}: {module}" for line, module in _imported(path) if _forbidden(module)]
    assert bad == [], f"{_module_name(path)} imports outside core: {bad}"


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("companion.accounts.identity", True),
        ("companion.programmes", True),
        ("integrations.zoom", True),
        ("companion", True),
        ("companion.core.db", False),
        ("companion.config", False),
        ("companion.configuration", True),
        ("sqlalchemy", False),
    ],
)
def test_the_rule_tells_domains_from_core(module: str, forbidden: bool) -> None:
    assert _forbidden(module) is forbidden
