"""Store.batch_get: order kept, missing ids None, throttled keys retried a bounded number of times."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.errors import RetryableError
from modelauth.policy import Decision
from modelauth.rules import Operation
from modelauth.store import Store
from tests.fixtures.schema import TODO

ALLOW = Decision(True, "Todo", Operation.CREATE, "test")


def test_batch_get_keeps_order_and_answers_none_for_missing(store: Store) -> None:
    for n in range(3):
        store.create(TODO, {"id": f"t{n}", "content": str(n)}, ALLOW)
    found = store.batch_get(TODO, ["t2", "nope", "t0", "t2"])
    assert [item["id"] if item else None for item in found] == ["t2", None, "t0", "t2"]


def test_batch_get_retries_unprocessed_keys_then_gives_a_retryable_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create(TODO, {"id": "t0"}, ALLOW)
    calls: list[Any] = []

    def always_unprocessed(**request: Any) -> dict[str, Any]:
        calls.append(request)
        return {"Responses": {}, "UnprocessedKeys": request["RequestItems"]}

    monkeypatch.setattr(store._client, "batch_get_item", always_unprocessed)
    monkeypatch.setattr("modelauth.store.time.sleep", lambda _s: None)
    with pytest.raises(RetryableError):
        store.batch_get(TODO, ["t0"])
    assert len(calls) == 5
