"""The Python ``gql`` client's AppSync support, unchanged, against the local endpoint.

gql's own transports and auth classes do everything: ``AIOHTTPTransport`` with
``AppSyncApiKeyAuthentication`` / ``AppSyncJWTAuthentication`` / ``AppSyncIAMAuthentication``
(SigV4 with identity-pool credentials) over HTTP, and ``AppSyncWebsocketsTransport`` for
subscriptions (credentials in the ``header`` query parameter, each ``start`` signed or carrying
its token). The only local thing is the URL: ``http://`` / ``ws://`` on loopback, where AppSync
has ``https://…appsync-api…`` and gql derives ``wss://…appsync-realtime-api…`` from it. A refusal
reaches the caller as gql's ``TransportQueryError`` with AppSync's ``errorType``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from botocore.credentials import Credentials

pytest.importorskip("gql", reason="gql is a dev dependency: pip install -e '.[dev]'")

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.appsync_auth import (
    AppSyncApiKeyAuthentication,
    AppSyncAuthentication,
    AppSyncIAMAuthentication,
    AppSyncJWTAuthentication,
)
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport
from gql.transport.exceptions import TransportQueryError

from tests.local.conftest import identity_pool_credentials

T = TypeVar("T")

CREATE_TODO = """mutation ($content: String) {
  createTodo(input: {content: $content}) { id content done owner _storedOwner }
}"""  # _storedOwner: what the subscription's owner filter compares (Amplify's selection has it)
GET_TODO = "query ($id: ID!) { getTodo(id: $id) { id content done owner } }"
LIST_TODOS = "query ($content: String) { listTodos(filter: {content: {eq: $content}}) { items { id } } }"
UPDATE_TODO = "mutation ($id: ID!) { updateTodo(input: {id: $id, done: true}) { id done } }"
DELETE_TODO = "mutation ($id: ID!) { deleteTodo(input: {id: $id}) { id } }"
ON_CREATE_TODO = "subscription { onCreateTodo { id content owner } }"


class Endpoint:
    """The local endpoint as gql sees it: its URLs, and one auth object per caller."""

    def __init__(self, server: Any, backend: Any) -> None:
        self.url = server.url
        self.realtime_url = server.url.replace("http://", "ws://") + "/realtime"
        self.host = urlsplit(server.url).netloc
        self.server, self.backend = server, backend

    def api_key(self) -> AppSyncApiKeyAuthentication:
        return AppSyncApiKeyAuthentication(host=self.host, api_key=next(iter(self.backend.api_keys)))

    def user(self, name: str) -> AppSyncJWTAuthentication:
        return AppSyncJWTAuthentication(host=self.host, jwt=self.backend.token(name))

    def identity(self, user: str | None = None) -> AppSyncIAMAuthentication:
        """SigV4 with the identity pool's credentials: a guest, or ``user`` signed in."""
        return self.iam(identity_pool_credentials(self.server, self.backend, user))

    def iam(self, signing: Credentials) -> AppSyncIAMAuthentication:
        return AppSyncIAMAuthentication(host=self.host, region_name=self.backend.region, credentials=signing)

    @asynccontextmanager
    async def http(self, auth: AppSyncAuthentication) -> AsyncIterator[AsyncClientSession]:
        async with Client(transport=AIOHTTPTransport(self.url, auth=auth)) as session:
            yield session

    @asynccontextmanager
    async def websocket(self, auth: AppSyncAuthentication) -> AsyncIterator[AsyncClientSession]:
        async with Client(transport=AppSyncWebsocketsTransport(self.realtime_url, auth=auth)) as session:
            yield session


@pytest.fixture(scope="module")
def endpoint(server: Any, backend: Any) -> Endpoint:
    return Endpoint(server, backend)


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), timeout=60))


def request(query: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(query, variable_values=variables)


async def refused(session: AsyncClientSession, query: str, **variables: Any) -> dict[str, Any]:
    """The one error gql raises for a refused call (its data null)."""
    with pytest.raises(TransportQueryError) as raised:
        await session.execute(request(query, **variables))
    [error] = raised.value.errors or []
    assert all(value is None for value in (raised.value.data or {}).values()), raised.value.data
    return dict(error)


def unauthorized(error: dict[str, Any], field: str, type_name: str) -> None:
    assert (error["errorType"], error["message"]) == (
        "Unauthorized",
        f"Not Authorized to access {field} on type {type_name}",
    )


def test_an_api_key_lists_the_public_catalogue_and_may_not_write_it(endpoint: Endpoint) -> None:
    name = f"lamp-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        async with endpoint.http(endpoint.user("carol")) as admin:  # Admin writes the catalogue
            mutation = "mutation ($name: String!) { createCatalogItem(input: {name: $name}) { id } }"
            created = (await admin.execute(request(mutation, name=name)))["createCatalogItem"]
        async with endpoint.http(endpoint.api_key()) as key:
            query = "query ($name: String) { listCatalogItems(filter: {name: {eq: $name}}) { items { id } } }"
            listed = await key.execute(request(query, name=name))
            assert listed == {"listCatalogItems": {"items": [{"id": created["id"]}]}}
            error = await refused(key, mutation, name="free lamp")
            unauthorized(error, "createCatalogItem", "Mutation")

    run(scenario)


def test_a_user_pool_owner_does_crud_and_another_user_sees_nothing(endpoint: Endpoint) -> None:
    content = f"milk-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        async with endpoint.http(endpoint.user("alice")) as alice, endpoint.http(endpoint.user("bob")) as bob:
            todo = (await alice.execute(request(CREATE_TODO, content=content)))["createTodo"]
            assert (todo["owner"], todo["done"]) == ("alice", None)
            got = await alice.execute(request(GET_TODO, id=todo["id"]))
            assert got["getTodo"]["content"] == content
            listed = await alice.execute(request(LIST_TODOS, content=content))
            assert listed["listTodos"]["items"] == [{"id": todo["id"]}]

            unauthorized(await refused(bob, GET_TODO, id=todo["id"]), "getTodo", "Query")
            assert (await bob.execute(request(LIST_TODOS, content=content)))["listTodos"]["items"] == []
            unauthorized(await refused(bob, UPDATE_TODO, id=todo["id"]), "updateTodo", "Mutation")
            unauthorized(await refused(bob, DELETE_TODO, id=todo["id"]), "deleteTodo", "Mutation")

            updated = await alice.execute(request(UPDATE_TODO, id=todo["id"]))
            assert updated["updateTodo"] == {"id": todo["id"], "done": True}  # bob changed nothing before
            deleted = await alice.execute(request(DELETE_TODO, id=todo["id"]))
            assert deleted["deleteTodo"] == {"id": todo["id"]}
            assert (await alice.execute(request(GET_TODO, id=todo["id"])))["getTodo"] is None

    run(scenario)


def test_sigv4_with_identity_pool_credentials_guest_and_signed_in(endpoint: Endpoint) -> None:
    text = f"note-{uuid.uuid4().hex[:8]}"
    get_note = "query ($id: ID!) { getNote(id: $id) { id text owner } }"
    create_note = "mutation ($text: String) { createNote(input: {text: $text}) { id text owner } }"

    async def scenario() -> None:
        async with endpoint.http(endpoint.identity()) as guest:
            posts = await guest.execute(request("query { listPosts { items { id } } }"))
            assert isinstance(posts["listPosts"]["items"], list)
            unauthorized(await refused(guest, create_note, text="guest"), "createNote", "Mutation")
        async with endpoint.http(endpoint.identity("alice")) as alice:
            note = (await alice.execute(request(create_note, text=text)))["createNote"]
            assert note["owner"].startswith(f"{endpoint.backend.region}:")  # her cognitoIdentityId
            assert (await alice.execute(request(get_note, id=note["id"])))["getNote"] == note
        async with endpoint.http(endpoint.identity("bob")) as bob:
            unauthorized(await refused(bob, get_note, id=note["id"]), "getNote", "Query")

    run(scenario)


def test_a_wrong_secret_key_is_refused_as_appsync_refuses_a_bad_signature(endpoint: Endpoint) -> None:
    good = identity_pool_credentials(endpoint.server, endpoint.backend)
    wrong = Credentials(good.access_key, "wrong", good.token)
    auth = endpoint.iam(wrong)

    async def scenario() -> None:
        async with endpoint.http(auth) as session:
            await session.execute(request("query { listPosts { items { id } } }"))

    with pytest.raises(TransportQueryError) as raised:
        run(scenario)
    [error] = raised.value.errors or []
    assert error["errorType"] == "InvalidSignatureException", error


def barrier_field(subscription: str) -> str:
    return subscription.split("{")[1].split()[0]


async def started(
    session: AsyncClientSession, query: str, barrier: str
) -> tuple[AsyncGenerator[Any, None], asyncio.Future[Any]]:
    """A subscription that hears every later mutation, and its first event to come.

    gql doesn't wait for AppSync's start_ack, so a refused ``barrier`` subscription follows on
    the same connection: the endpoint handles a connection's messages in order and registers a
    subscription before acknowledging it, so once the barrier's error is back, it is live."""
    events = session.subscribe(request(query))
    first = asyncio.ensure_future(anext(events))
    transport = session.transport
    assert isinstance(transport, AppSyncWebsocketsTransport)
    while not transport.listeners:  # gql listens for a subscription's answers once it sent its start
        await asyncio.sleep(0)
    with pytest.raises(TransportQueryError) as raised:
        await anext(session.subscribe(request(barrier)))
    # gql hands over the real-time error message's payload as is: [{"errors": [...]}]
    [[error]] = [payload["errors"] for payload in raised.value.errors or []]
    unauthorized(error, barrier_field(barrier), "Subscription")
    assert not first.done()
    return events, first


def test_a_websocket_subscriber_hears_its_own_items_and_not_another_users(endpoint: Endpoint) -> None:
    tag = uuid.uuid4().hex[:8]
    barrier = "subscription { onCreateNote { id } }"  # user-pool callers may not subscribe to notes

    async def scenario() -> None:
        async with (
            endpoint.websocket(endpoint.user("alice")) as alice_ws,
            endpoint.websocket(endpoint.user("bob")) as bob_ws,
            endpoint.http(endpoint.user("alice")) as alice,
            endpoint.http(endpoint.user("bob")) as bob,
        ):
            alice_events, alice_first = await started(alice_ws, ON_CREATE_TODO, barrier)
            bob_events, bob_first = await started(bob_ws, ON_CREATE_TODO, barrier)
            created = []
            for session, owner in ((bob, "bob"), (alice, "alice"), (bob, "bob")):
                todo = (await session.execute(request(CREATE_TODO, content=f"{tag} {owner}")))["createTodo"]
                created.append({"id": todo["id"], "content": todo["content"], "owner": owner})
            # events arrive in the order of the mutations: had the filter let the other user's item
            # through, it would come first (to alice) or between bob's two (to bob)
            assert await alice_first == {"onCreateTodo": created[1]}
            assert await bob_first == {"onCreateTodo": created[0]}
            assert await anext(bob_events) == {"onCreateTodo": created[2]}
            for events in (alice_events, bob_events):
                await events.aclose()  # gql sends stop; the endpoint answers complete

    run(scenario)


def test_an_iam_subscriber_signs_its_connection_and_hears_only_its_own_notes(endpoint: Endpoint) -> None:
    create_note = "mutation ($text: String) { createNote(input: {text: $text}) { id text owner } }"
    barrier = "subscription { onCreateTodo { id } }"  # todos: user-pool owners and the API key only

    async def scenario() -> None:
        alice_auth, bob_auth = endpoint.identity("alice"), endpoint.identity("bob")
        async with (
            endpoint.websocket(alice_auth) as alice_ws,  # gql signs /graphql/connect and each start
            endpoint.http(alice_auth) as alice,
            endpoint.http(bob_auth) as bob,
        ):
            subscription = "subscription { onCreateNote { id text owner } }"
            events, first = await started(alice_ws, subscription, barrier)
            await bob.execute(request(create_note, text="bob's"))
            mine = (await alice.execute(request(create_note, text="alice's")))["createNote"]
            assert await first == {"onCreateNote": mine}
            await events.aclose()

    run(scenario)
