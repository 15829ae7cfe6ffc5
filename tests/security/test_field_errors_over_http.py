"""Issue 16.5 and 16.6 against the local endpoint (``modelauth serve``), over real HTTP and the
real-time WebSocket: the engine fills ``info.selectionSetList`` as AppSync does, so a client
gets errors only for the denied fields it selected, and subscribers get the masked mutation
result cut to their own selection.

Profile (appschema): every signed-in user reads a profile, only its owner reads ``ssn``.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.local import conftest as local_endpoint
from tests.local import test_subscriptions_ws as ws
from tests.local.conftest import Client
from tests.local.test_subscriptions_ws import RealtimeClient, open_as

# the local endpoint's fixtures, by their names (this module starts its own server)
template, backend, server, clients = (
    local_endpoint.template,
    local_endpoint.backend,
    local_endpoint.server,
    local_endpoint.clients,
)
realtime = ws.realtime


def alices_profile(clients: dict[str, Client]) -> str:
    profile = f"profile-{uuid.uuid4().hex[:8]}"
    clients["alice"].data(
        f'mutation {{ createProfile(input: {{id: "{profile}", name: "A", ssn: "123"}}) {{ id }} }}'
    )
    return profile


def test_over_http_a_query_not_selecting_the_denied_field_gets_no_error(clients: dict[str, Client]) -> None:
    profile = alices_profile(clients)
    # Client.data asserts the response has no errors at all
    assert clients["bob"].data(f'{{ getProfile(id: "{profile}") {{ id name }} }}') == {
        "getProfile": {"id": profile, "name": "A"}
    }
    items = clients["bob"].data("{ listProfiles(limit: 1000) { items { id name } nextToken } }")[
        "listProfiles"
    ]
    assert {"id": profile, "name": "A"} in items["items"]


def test_over_http_a_selected_denied_field_gets_one_error(clients: dict[str, Client]) -> None:
    profile = alices_profile(clients)
    body = clients["bob"].post(f'{{ getProfile(id: "{profile}") {{ id name ssn }} }}').json()
    assert body["data"] == {"getProfile": {"id": profile, "name": "A", "ssn": None}}
    assert [(e["message"], e["errorType"]) for e in body["errors"]] == [
        ("Not Authorized to access ssn on type Profile", "Unauthorized")
    ]
    listed = clients["bob"].post("{ listProfiles(limit: 1000) { items { id ssn } } }").json()
    assert [e["message"] for e in listed["errors"]] == ["Not Authorized to access ssn on type Profile"]


def test_over_websocket_subscribers_get_the_masked_result_cut_to_their_selection(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client]
) -> None:
    """``ssn`` is masked in mutation results (signed-in readers may not read it): a subscriber
    selecting it gets null and no error; one selecting only ``name`` gets just that."""
    everything, headers = open_as(realtime, server, clients["bob"])
    assert (
        everything.start("subscription { onCreateProfile { id name ssn } }", headers)["type"] == "start_ack"
    )
    names, headers = open_as(realtime, server, clients["carol"])
    assert names.start("subscription { onCreateProfile { name } }", headers)["type"] == "start_ack"
    profile = f"profile-{uuid.uuid4().hex[:8]}"
    created = clients["alice"].data(
        f'mutation {{ createProfile(input: {{id: "{profile}", name: "A", ssn: "123"}}) {{ id name ssn }} }}'
    )
    assert created == {"createProfile": {"id": profile, "name": "A", "ssn": None}}  # alice: no error either
    assert everything.receive()["payload"] == {
        "data": {"onCreateProfile": {"id": profile, "name": "A", "ssn": None}}
    }
    assert names.receive()["payload"] == {"data": {"onCreateProfile": {"name": "A"}}}
