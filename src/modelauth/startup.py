"""Cold-start housekeeping shared by the functions' ``from_env`` builders.

What a handler module builds at import (modules, classes, the boto3 client and its service
model, the router, the schema) lives as long as the execution environment. CPython's collector
does not know that: about halfway through creating a boto3 client after Powertools and boto3 are
imported, it runs a full collection that walks every one of those objects and frees none (≈17 ms
of a cold start, measured in bench/cold.py), and every later full collection on a warm request
walks them again. :func:`freeze_startup_heap` moves them to the permanent generation
(:func:`gc.freeze`), so collections only look at what requests allocate. Reference counting still
frees frozen objects that become unreachable; only cycles among them would outlive the process's
need, and import-time objects have none worth collecting.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from modelauth.rules import Schema

__all__ = ["build_from_env", "freeze_startup_heap"]

_App = TypeVar("_App")


def freeze_startup_heap() -> None:
    """Exempt every object alive now from future garbage collections (see the module doc).

    Call it once imports are done and again when the app is built. Example::

        >>> freeze_startup_heap()
        >>> import gc; gc.get_freeze_count() > 0
        True
    """
    gc.freeze()


def build_from_env(factory: Callable[..., _App], schema: Schema | None) -> _App:
    """``factory(schema, store, identity_config=..., auth_config=...)`` configured from the
    environment: the schema ``$MODELAUTH_SCHEMA`` names unless given, the DynamoDB tables, the
    issuers and the identity pool. What ``GraphQLApp.from_env`` and ``RestApp.from_env`` share."""
    from modelauth.identity import IdentityConfig
    from modelauth.policy import AuthConfig
    from modelauth.project import load_schema
    from modelauth.store import Store

    if schema is None:
        schema = load_schema()
    freeze_startup_heap()  # the imports are done: keep them out of the collector's way
    identity, auth = IdentityConfig.from_env(), AuthConfig.from_env()
    app = factory(schema, Store.from_env(schema.models), identity_config=identity, auth_config=auth)
    freeze_startup_heap()
    return app
