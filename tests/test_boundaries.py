"""The window and the command line hold Services and nothing below them.

import-linter forbids their importing the context module (pyproject.toml); this checks what an
import contract cannot see: reaching the context through the ``ctx`` attribute of Services.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import seatledger
from seatledger.services.operators.session import Services

PACKAGE = Path(seatledger.__file__).parent


@pytest.mark.parametrize("layer", ["ui", "cli"])
def test_no_module_above_the_services_reaches_their_context(layer: str) -> None:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += [
            f"{path.relative_to(PACKAGE)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "ctx"
        ]
    assert found == []


def test_services_load_position_usage_and_signing_on_first_use(admin: Services) -> None:
    assert admin.position is admin.position  # one of each per session, made when first asked
    assert admin.usage_history is admin.usage_history
    assert admin.signing is admin.signing
