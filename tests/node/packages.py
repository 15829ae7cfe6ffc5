"""tests/node's npm packages (package-lock.json; `make node` runs `npm ci` there) as the Python
tests find them: a test that needs one is skipped without it, unless ``MODELAUTH_REQUIRE_NODE=1``
(the Makefile's test-fast sets it), when it fails."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["NODE_DIR", "NODE_MODULES", "installed", "unavailable"]

NODE_DIR = Path(__file__).parent
NODE_MODULES = NODE_DIR / "node_modules"


def unavailable(reason: str) -> NoReturn:
    """Fail under ``MODELAUTH_REQUIRE_NODE=1``, skip otherwise."""
    if os.environ.get("MODELAUTH_REQUIRE_NODE") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def installed(package: str) -> Path:
    """The directory of ``package`` in tests/node/node_modules."""
    path = NODE_MODULES / package
    if not path.is_dir():
        unavailable(f"tests/node/node_modules has no {package}: run `make node` (npm ci in tests/node)")
    return path
