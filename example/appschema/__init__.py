"""The app's models and their rules: the one source of truth for resolvers, tables and SDL.

Edit this file to change who may do what; ``make schema`` regenerates graphql/schema.graphql
(a test fails while the committed file is out of date). Each model shows other strategies:

============  ================================================================================
Todo          owner; anyone with the API key may read; ``priority`` an enum, NORMAL by default
Post          co-owners listed in ``editors``; readers by the ``groups`` field; Admin group;
              identity-pool guests may read; ``comments``: a has_many of Comment
Comment       owner; signed-in users read (guests reading a Post do not see its comments);
              ``post``: the belongs_to back, read with Post's rules
CatalogItem   public catalogue: API key, guests and signed-in users read; Admin writes
Profile       signed-in users read; owners write; ``ssn`` readable by its owner only;
              ``address`` a custom type (a map in the item)
Note          identity-pool users own their notes (owner = cognitoIdentityId, beyond
              Amplify); the backend role ``modelauth-backend`` has full access
Ticket        Lambda-authorized callers read; the caller named in the token owns its tickets
Item          OIDC: owner by the ``sub`` claim; ``Moderator`` from the ``groups`` claim
============  ================================================================================

Custom operations (:mod:`modelauth.custom`; handlers in functions/graphql/app.py): ``whoAmI``
for any signed-in user or API key; ``completeTodo`` and ``todoSummary`` only for the owner of
the Todo their ``id`` names (loaded and judged before the handler runs); ``onCompleteTodo``
follows ``completeTodo`` with Todo's own subscription filter (an owner hears of their own).
"""

from __future__ import annotations

from modelauth.custom import mutation, query, subscription
from modelauth.rules import CustomType, Enum, Field, Model, Schema, allow, belongs_to, has_many

__all__ = [
    "ADDRESS",
    "CATALOG_ITEM",
    "COMMENT",
    "ITEM",
    "NOTE",
    "OPERATIONS",
    "POST",
    "PRIORITY",
    "PROFILE",
    "SCHEMA",
    "TICKET",
    "TODO",
]

READ = ["read"]

PRIORITY = Enum("Priority", ["LOW", "NORMAL", "HIGH"])
ADDRESS = CustomType("Address", fields=[Field("street"), Field("city", required=True), Field("postcode")])

TODO = Model(
    "Todo",
    fields=[Field("content"), Field("done", "Boolean"), Field("priority", PRIORITY, default="NORMAL")],
    rules=[allow.owner(), allow.public_api_key().to(READ)],
)

POST = Model(
    "Post",
    fields=[Field("title", required=True), Field("body")],
    relations=[has_many("comments", "Comment", references="postId")],
    rules=[
        allow.owners_defined_in("editors"),
        allow.groups_defined_in("groups").to(READ),
        allow.group("Admin"),
        allow.guest().to(READ),
    ],
)

COMMENT = Model(
    "Comment",
    fields=[Field("postId", "ID", required=True), Field("text", required=True)],
    relations=[belongs_to("post", "Post", references="postId")],
    rules=[allow.owner(), allow.authenticated().to(READ)],
)

CATALOG_ITEM = Model(
    "CatalogItem",
    fields=[Field("name", required=True), Field("price", "Float")],
    rules=[
        allow.public_api_key().to(READ),
        allow.guest().to(READ),
        allow.authenticated().to(READ),
        allow.authenticated("identityPool").to(READ),
        allow.group("Admin"),
    ],
)

PROFILE = Model(
    "Profile",
    fields=[
        Field("name"),
        Field("email", "AWSEmail"),
        Field("ssn", rules=[allow.owner()]),
        Field("address", ADDRESS),
    ],
    rules=[allow.authenticated().to(READ), allow.owner()],
)

NOTE = Model(
    "Note",
    fields=[Field("text")],
    rules=[allow.owner("identityPool"), allow.resource("modelauth-backend")],
)

TICKET = Model(
    "Ticket",
    fields=[Field("title"), Field("status")],
    rules=[allow.custom().to(READ), allow.owner("function")],
)

ITEM = Model(
    "Item",
    fields=[Field("name")],
    rules=[
        allow.owner("oidc").identity_claim("sub"),
        allow.groups(["Moderator"], "oidc").with_claim_in("groups"),
    ],
)

OPERATIONS = (
    query("whoAmI").returns("String").authorization([allow.authenticated(), allow.public_api_key()]),
    query("todoSummary")
    .arguments({"id": "ID!"})
    .returns("String")
    .item("Todo", "id")
    .authorization([allow.owner()]),
    mutation("completeTodo")
    .arguments({"id": "ID!", "note": "String"})
    .returns("Todo")
    .item("Todo", "id")
    .authorization([allow.owner()]),
    subscription("onCompleteTodo").for_("completeTodo").authorization([allow.authenticated()]),
)

SCHEMA = Schema(
    models=(TODO, POST, COMMENT, CATALOG_ITEM, PROFILE, NOTE, TICKET, ITEM), operations=OPERATIONS
)
