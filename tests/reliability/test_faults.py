"""DynamoDB faults injected below botocore's retry layer: retried, then a clear retryable
error, with nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from modelauth.resolvers import GraphQLApp
from modelauth.store import INDEX_TABLE, Store
from tests.fixtures.schema import SCHEMA
from tests.functional.helpers import ALICE, Client


class _Fault:
    """Answers the next ``times`` calls of ``operation`` with an HTTP error instead of moto."""

    def __init__(self, operation: str, times: int, status: int, code: str) -> None:
        self.operation, self.left, self.status, self.code = operation, times, status, code
        self.seen = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if not target.endswith("." + self.operation) or self.left == 0:
            return None
        self.left -= 1
        self.seen += 1
        # botocore calls every before-send handler: moto would still apply the write unless
        # the request no longer looks like one it serves
        request.url = "http://fault-injected.invalid/"
        body = f'{{"__type": "com.amazonaws.dynamodb.v20120810#{self.code}", "message": "injected"}}'.encode()
        return AWSResponse(
            request.url, self.status, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body)
        )


class _NoSleep:
    @staticmethod
    def sleep(_seconds: float) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body

    def read(self, *_: Any) -> bytes:
        return self.body


@pytest.fixture
def inject(store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import botocore.endpoint

    # keep boto3's retry decisions, skip its back-off sleeps
    monkeypatch.setattr(botocore.endpoint, "time", _NoSleep())
    client = store._client
    faults: list[_Fault] = []

    def add(
        operation: str, times: int, status: int = 400, code: str = "ProvisionedThroughputExceededException"
    ) -> _Fault:
        fault = _Fault(operation, times, status, code)
        client.meta.events.register_first("before-send.dynamodb", fault)
        faults.append(fault)
        return fault

    yield add
    for fault in faults:
        client.meta.events.unregister("before-send.dynamodb", fault)


@pytest.fixture
def alice(store: Any) -> Client:
    return Client(GraphQLApp(SCHEMA, store), ALICE)


def test_a_throttled_write_is_retried_by_boto3_and_succeeds(alice: Client, inject: Any) -> None:
    fault = inject("PutItem", times=2)
    assert alice.mutate("createTodo", id="t1", content="x")["id"] == "t1"
    assert fault.seen == 2


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "ProvisionedThroughputExceededException"),
        (400, "ThrottlingException"),
        (500, "InternalServerError"),
    ],
)
def test_persistent_throttling_or_5xx_is_a_clear_retryable_error(
    alice: Client, inject: Any, status: int, code: str
) -> None:
    fault = inject("PutItem", times=100, status=status, code=code)
    error = alice.error("Mutation", "createTodo", input={"id": "t1", "content": "x"})
    assert error == {
        "message": "The data store is busy; retry the request",
        "errorType": "ServiceUnavailable",
    }
    assert fault.seen == 5  # boto3 standard mode, 5 attempts in all
    fault.left = 0
    assert alice.query("getTodo", id="t1") is None


def test_a_failed_transaction_writes_neither_the_item_nor_its_index(
    alice: Client, inject: Any, dynamodb: Any
) -> None:
    inject("TransactWriteItems", times=100, status=500, code="InternalServerError")
    error = alice.error("Mutation", "createPost", input={"id": "p1", "title": "x", "groups": ["Sales"]})
    assert error["errorType"] == "ServiceUnavailable"
    assert dynamodb.scan(TableName="Post")["Count"] == 0
    assert dynamodb.scan(TableName=INDEX_TABLE)["Count"] == 0


def test_throttled_list_is_a_retryable_error_not_a_partial_page(alice: Client, inject: Any) -> None:
    alice.mutate("createTodo", content="x")
    inject("Query", times=100)
    assert alice.error("Query", "listTodos")["errorType"] == "ServiceUnavailable"


def test_store_uses_standard_retries(store: Store) -> None:
    config = store._client.meta.config
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == 5
