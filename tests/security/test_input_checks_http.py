"""Input checks (issue 16.7, 16.8) over HTTP against the local endpoint (``modelauth serve``):
the same refusals as the resolver's, nothing written. The SDL marks ``CreatePostInput.title``
required, so the endpoint (as AppSync) refuses a create without it before any resolver runs;
formats and the editors limit are the resolver's ``BadRequest``."""

from __future__ import annotations

import itertools

from modelauth.store import max_index_values
from tests.fixtures.schema import POST
from tests.local.conftest import Client

_ids = itertools.count()


def new_id(prefix: str) -> str:
    return f"{prefix}-input-{next(_ids)}"


CREATE_POST = "mutation($input: CreatePostInput!) { createPost(input: $input) { id title } }"
GET_POST = "query($id: ID!) { getPost(id: $id) { id } }"


def test_create_post_without_title_over_http_is_refused_before_the_resolver(
    clients: dict[str, Client],
) -> None:
    post = new_id("post")
    response = clients["alice"].post(CREATE_POST, {"input": {"id": post, "body": "no title"}})
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert "title" in error["message"], error
    assert clients["carol"].data(GET_POST, {"id": post}) == {"getPost": None}


def test_a_value_not_of_its_scalar_format_over_http_is_bad_request(clients: dict[str, Client]) -> None:
    profile = new_id("profile")
    query = "mutation($input: CreateProfileInput!) { createProfile(input: $input) { id } }"
    error = clients["alice"].error(query, {"input": {"id": profile, "email": "not an email"}})
    assert error["errorType"] == "BadRequest", error
    assert error["message"].startswith("CreateProfileInput: 'email' must be AWSEmail"), error
    get = "query($id: ID!) { getProfile(id: $id) { id } }"
    assert clients["alice"].data(get, {"id": profile}) == {"getProfile": None}


def test_one_editor_too_many_over_http_is_bad_request_and_the_largest_post_stays_updatable(
    clients: dict[str, Client],
) -> None:
    limit = max_index_values(POST)
    assert limit is not None
    alice = clients["alice"]
    editors = ["alice", *(f"user{i}" for i in range(limit))]  # limit + 1 values
    post = new_id("post")
    error = alice.error(CREATE_POST, {"input": {"id": post, "title": "t", "editors": editors}})
    assert error["errorType"] == "BadRequest", error
    assert error["message"].startswith(f"editors: at most {limit} values"), error
    assert clients["carol"].data(GET_POST, {"id": post}) == {"getPost": None}

    alice.data(CREATE_POST, {"input": {"id": post, "title": "typo", "editors": editors[:limit]}})
    update = "mutation($input: UpdatePostInput!) { updatePost(input: $input) { title } }"
    fixed = clients["carol"].data(update, {"input": {"id": post, "title": "fixed"}})
    assert fixed == {"updatePost": {"title": "fixed"}}
