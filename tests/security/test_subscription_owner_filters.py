"""Issue 16.3: a subscriber receives exactly what a get of the item would let them read.

Owners are stored as ``<sub>::<username>`` and shown as the username part. A filter on the
shown value let a later user who got a reused username (new ``sub``), or a user of a second
user pool with the same name, receive updates of ``<old sub>::alice``'s items that get and list
refuse them. The filter now compares the stored value (``_storedOwner`` / ``_storedEditors``,
carried by every result) with the caller's owner values, as the store does: through the
resolver's subscribe path, and over the local endpoint's WebSocket.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelauth.identity import AuthMode, Principal
from modelauth.local import appsync_event
from modelauth.policy import decide, present
from modelauth.resolvers import GraphQLApp
from modelauth.rules import Model, Operation
from modelauth.subscriptions import event_passes, subscription_filter
from tests.fixtures.schema import POST, TODO
from tests.functional.helpers import Client, user
from tests.local.conftest import Client as HttpClient
from tests.local.test_subscriptions_ws import RealtimeClient, open_as

OLD_ALICE = user("alice", "0ld-a11ce")  # the first alice: her items are stored as 0ld-a11ce::alice
NEW_ALICE = user("alice", "new-a11ce")  # the pool gave the name "alice" to someone else later
OTHER_POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Zz99Yy88X"
OTHER_POOL_ALICE = {
    **user("alice", "p00l2-a11ce"),
    "issuer": OTHER_POOL,
    "claims": {**user("alice", "p00l2-a11ce")["claims"], "iss": OTHER_POOL},
}
TODO_SELECTION = ("id", "content", "done", "owner", "_storedOwner", "createdAt", "updatedAt", "_version")
POST_SELECTION = ("id", "title", "editors", "groups", "_storedEditors", "createdAt", "updatedAt", "_version")


def subscriber_filter(app: GraphQLApp, field: str, identity: dict[str, Any]) -> Any:
    event = appsync_event("Subscription", field, {}, identity, auth_type="User Pool Authorization")
    answer = app.resolve(event, None)
    assert answer["errors"] == [], answer
    return answer["subscriptionFilter"]


def payload(result: dict[str, Any], selection: tuple[str, ...]) -> dict[str, Any]:
    """What AppSync filters on: the mutation result, as far as the mutation selected it."""
    return {key: result.get(key) for key in selection}


@pytest.mark.parametrize("subscriber", [NEW_ALICE, OTHER_POOL_ALICE], ids=["reused username", "second pool"])
@pytest.mark.parametrize("field", ["onCreateTodo", "onUpdateTodo", "onDeleteTodo"])
def test_another_alice_receives_no_events_of_old_alices_todos(
    graphql_app: GraphQLApp, subscriber: dict[str, Any], field: str
) -> None:
    old = Client(graphql_app, OLD_ALICE)
    created = old.mutate("createTodo", id="t-old", content="the first alice's")
    assert created["owner"] == "alice"  # shown as the username part, as before
    results = {
        "onCreateTodo": created,
        "onUpdateTodo": old.mutate("updateTodo", id="t-old", content="still hers"),
        "onDeleteTodo": old.mutate("deleteTodo", id="t-old"),
    }
    listening = subscriber_filter(graphql_app, field, subscriber)
    assert not event_passes(listening, payload(results[field], TODO_SELECTION))
    # and it is what get says: the other alice may not read the item
    old.mutate("createTodo", id="t-old-2", content="x")
    other = Client(graphql_app, subscriber)
    assert other.error("Query", "getTodo", id="t-old-2")["errorType"] == "Unauthorized"


def test_the_owner_still_receives_her_events(graphql_app: GraphQLApp) -> None:
    old = Client(graphql_app, OLD_ALICE)
    created = old.mutate("createTodo", id="t-1", content="mine")
    for field in ("onCreateTodo", "onUpdateTodo"):
        assert event_passes(
            subscriber_filter(graphql_app, field, OLD_ALICE), payload(created, TODO_SELECTION)
        )


def test_a_reused_username_receives_no_events_of_posts_the_old_user_co_owns(graphql_app: GraphQLApp) -> None:
    old = Client(graphql_app, OLD_ALICE)
    post = old.mutate("createPost", id="p-old", title="draft")
    assert post["editors"] == ["alice"]
    assert not event_passes(
        subscriber_filter(graphql_app, "onUpdatePost", NEW_ALICE), payload(post, POST_SELECTION)
    )
    assert event_passes(
        subscriber_filter(graphql_app, "onUpdatePost", OLD_ALICE), payload(post, POST_SELECTION)
    )


def test_a_mutation_that_does_not_select_the_stored_owner_reaches_no_owner_filtered_subscriber(
    graphql_app: GraphQLApp,
) -> None:
    created = Client(graphql_app, OLD_ALICE).mutate("createTodo", id="t-2", content="x")
    assert not event_passes(
        subscriber_filter(graphql_app, "onCreateTodo", OLD_ALICE), payload(created, ("id", "owner"))
    )


# ----------------------------------------------------------------------------- property: filter == get

names = st.sampled_from(["alice", "bob"])
subs = st.sampled_from(["s-1", "s-2", "s-3"])


def stored_value(sub: str, name: str, form: str) -> str:
    return {"composite": f"{sub}::{name}", "sub": sub, "username": name}[form]


forms = st.sampled_from(["composite", "sub", "username"])


def assert_delivered_exactly_when_readable(
    model: Model, item: dict[str, Any], caller: tuple[str, str]
) -> None:
    sub, name = caller
    principal = Principal(AuthMode.USER_POOLS, sub=sub, username=name, claims={"sub": sub, "username": name})
    listen = decide(principal, model, Operation.LISTEN)
    assert listen.allowed
    assert listen.constraint is not None
    delivered = event_passes(subscription_filter(model, listen.constraint), present(model, item))
    assert delivered == decide(principal, model, Operation.GET, item=item).allowed


@given(owner=st.tuples(subs, names, forms), caller=st.tuples(subs, names))
def test_a_todo_event_reaches_a_subscriber_exactly_when_get_would_return_the_todo(
    owner: tuple[str, str, str], caller: tuple[str, str]
) -> None:
    item = {"id": "t", "content": "x", "owner": stored_value(*owner), "_version": 1}
    assert_delivered_exactly_when_readable(TODO, item, caller)


@given(editors=st.lists(st.tuples(subs, names, forms), max_size=3), caller=st.tuples(subs, names))
def test_a_post_event_reaches_a_co_owner_subscriber_exactly_when_get_would(
    editors: list[tuple[str, str, str]], caller: tuple[str, str]
) -> None:
    item = {"id": "p", "title": "x", "editors": [stored_value(*e) for e in editors], "_version": 1}
    assert_delivered_exactly_when_readable(POST, item, caller)


# ----------------------------------------------------------------------------- the local endpoint


def test_a_reused_username_hears_nothing_of_the_old_users_todo_over_the_websocket(
    realtime: list[RealtimeClient], server: Any, backend: Any
) -> None:
    name = f"reused-{uuid.uuid4().hex[:8]}"
    old_sub = backend.add_user(name)
    old = HttpClient(server.url, {"authorization": backend.token(name)})
    todo = old.data('mutation { createTodo(input: {content: "old"}) { id owner _storedOwner } }')[
        "createTodo"
    ]
    assert (todo["owner"], todo["_storedOwner"]) == (name, f"{old_sub}::{name}")
    # the user is deleted and the name given to someone new: a new sub
    backend.client("cognito-idp").admin_delete_user(UserPoolId=backend.user_pool_id, Username=name)
    del backend.users[name]
    new_sub = backend.add_user(name)
    assert new_sub != old_sub
    new = HttpClient(server.url, {"authorization": backend.token(name)})
    connection, headers = open_as(realtime, server, new)
    query = "subscription { onUpdateTodo { id content owner } }"
    assert connection.start(query, headers)["type"] == "start_ack"
    selection = "{ id content owner _storedOwner }"  # as Amplify's codegen selects: every field
    update = 'mutation U($id: ID!) { updateTodo(input: {id: $id, content: "%s"}) ' + selection + " }"
    old.data(update % "the old user's update", {"id": todo["id"]})
    with pytest.raises(TimeoutError):
        connection.receive(timeout=0.5)
    assert new.error("query G($id: ID!) { getTodo(id: $id) { id } }", {"id": todo["id"]})["errorType"] == (
        "Unauthorized"
    )
    # the new user's own items still reach them
    mine = new.data('mutation { createTodo(input: {content: "new"}) { id _storedOwner } }')["createTodo"]
    new.data(update % "mine", {"id": mine["id"]})
    message = connection.receive()
    assert message["payload"]["data"] == {
        "onUpdateTodo": {"id": mine["id"], "content": "mine", "owner": name}
    }
    assert json.dumps(message).count(old_sub) == 0
