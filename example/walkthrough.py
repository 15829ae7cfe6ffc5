"""The example app's walkthrough (`make demo`): every model of example/appschema through the local
AppSync endpoint, in every auth mode, each call with the verdict its rules must give.

It is modelauth's demo engine (:mod:`modelauth.local.demo`) with the example's own script of
calls; `modelauth demo` in any project runs a tour derived from that project's models instead.

    cd example && python walkthrough.py
"""

from __future__ import annotations

import sys

from modelauth.local.demo import ALLOW, DENY, INVALID, REJECT, Call, Section, run
from modelauth.project import Project


def sections() -> list[Section]:
    """The example's calls, each with the verdict its rules must give."""
    todo = "{ id content done priority owner }"
    return [
        Section(
            "Todo - owner; anyone with the API key may read; `priority` an enum, NORMAL by default",
            (
                Call(
                    "alice",
                    f'mutation {{ createTodo(input: {{id: "todo-1", content: "buy milk"}}) {todo} }}',
                    ALLOW,
                    "priority: the default",
                ),
                Call(
                    "alice",
                    'mutation { createTodo(input: {id: "todo-2", priority: URGENT}) { id } }',
                    INVALID,
                    "not a Priority: refused by AppSync's check (REST: modelauth's, the same)",
                ),
                Call(
                    "alice",
                    "query { listTodos(filter: {priority: {eq: NORMAL}}) { items { id priority } } }",
                    ALLOW,
                    "an enum filter",
                ),
                Call("bob", f'query {{ getTodo(id: "todo-1") {todo} }}', DENY, "bob is not the owner"),
                Call("bob", 'mutation { updateTodo(input: {id: "todo-1", done: true}) { id } }', DENY),
                Call(
                    "api key",
                    "query { listTodos { items { id content owner } } }",
                    ALLOW,
                    "public API-key read",
                ),
                Call(
                    "api key",
                    'mutation { createTodo(input: {content: "spam"}) { id } }',
                    DENY,
                    "API key: read only",
                ),
                Call(
                    "alice", f'mutation {{ updateTodo(input: {{id: "todo-1", done: true}}) {todo} }}', ALLOW
                ),
                Call("guest", 'query { getTodo(id: "todo-1") { id } }', DENY, "Todo has no @aws_iam"),
            ),
        ),
        Section(
            "Post - co-owners in `editors`; readers by the `groups` field; Admin group; guests read",
            (
                Call(
                    "alice",
                    'mutation { createPost(input: {id: "post-1", title: "Hello", editors: ["alice"], '
                    'groups: ["editors"]}) { id title editors groups } }',
                    ALLOW,
                ),
                Call("bob", 'query { getPost(id: "post-1") { id title } }', DENY, "not an editor, no group"),
                Call(
                    "carol",
                    'mutation { updatePost(input: {id: "post-1", body: "by Admin"}) { id body } }',
                    ALLOW,
                ),
                Call("guest", 'query { getPost(id: "post-1") { id title body } }', ALLOW, "guests read"),
                Call(
                    "guest",
                    'mutation { deletePost(input: {id: "post-1"}) { id } }',
                    DENY,
                    "AppSync: no @aws_iam",
                ),
            ),
        ),
        Section(
            "Comment - a Post's comments, each level read with its own model's rules",
            (
                Call(
                    "bob",
                    'mutation { createComment(input: {id: "comment-1", postId: "post-1", text: "Nice"}) '
                    "{ id owner } }",
                    ALLOW,
                    "any signed-in user comments (owner rule)",
                ),
                Call(
                    "alice",
                    'query { getPost(id: "post-1") { title comments { items { text owner } } } }',
                    ALLOW,
                    "Post.comments: the Comment rules (signed-in users read)",
                ),
                Call(
                    "guest",
                    'query { getPost(id: "post-1") { title comments { items { text } } } }',
                    ALLOW,
                    "the post, but comments is null: Comment has no guest rule",
                ),
                Call(
                    "bob",
                    'query { getComment(id: "comment-1") { text post { title } } }',
                    ALLOW,
                    "post is null for bob: Post's rules (not an editor)",
                ),
                Call(
                    "alice",
                    'mutation { updateComment(input: {id: "comment-1", text: "mine now"}) { id } }',
                    DENY,
                    "only its owner edits it",
                ),
            ),
        ),
        Section(
            "CatalogItem - public catalogue: API key, guests and signed-in users read; Admin writes",
            (
                Call(
                    "carol",
                    'mutation { createCatalogItem(input: {id: "pen", name: "Pen", price: 1.5}) { id } }',
                    ALLOW,
                ),
                Call("alice", 'mutation { createCatalogItem(input: {name: "Hat", price: 9}) { id } }', DENY),
                Call("api key", 'query { getCatalogItem(id: "pen") { id name price } }', ALLOW),
                Call("alice (identity pool)", "query { listCatalogItems { items { id name } } }", ALLOW),
            ),
        ),
        Section(
            "Profile - signed-in users read; owners write; `ssn` readable by its owner only; "
            "`address` a custom type",
            (
                Call(
                    "alice",
                    'mutation { createProfile(input: {id: "prof-alice", name: "Alice", ssn: "123-45-6789", '
                    'address: {street: "1 Main St", city: "Springfield"}}) '
                    "{ id name ssn address { city } } }",
                    ALLOW,
                    "mutation results null protected fields, as Amplify",
                ),
                Call(
                    "alice",
                    'mutation { updateProfile(input: {id: "prof-alice", email: "alice at home"}) { id } }',
                    INVALID,
                    "not an AWSEmail: modelauth's input check",
                ),
                Call(
                    "bob",
                    'query { getProfile(id: "prof-alice") { id name ssn } }',
                    ALLOW,
                    "ssn nulled for bob",
                ),
                Call("bob", 'mutation { updateProfile(input: {id: "prof-alice", ssn: "0"}) { id } }', DENY),
                Call("alice", 'query { getProfile(id: "prof-alice") { id name ssn } }', ALLOW),
            ),
        ),
        Section(
            "Note - signed-in identity-pool users own their notes; the backend role sees all",
            (
                Call(
                    "guest",
                    'mutation { createNote(input: {text: "hi"}) { id owner } }',
                    DENY,
                    "a guest's identity id is anonymous: it owns nothing",
                ),
                Call(
                    "alice (identity pool)",
                    'mutation { createNote(input: {id: "note-alice", text: "mine"}) { id owner } }',
                    ALLOW,
                ),
                Call("bob (identity pool)", 'query { getNote(id: "note-alice") { id text } }', DENY),
                Call("backend role", "query { listNotes { items { id owner text } } }", ALLOW),
                Call("alice", "query { listNotes { items { id } } }", DENY, "user pools can't reach Note"),
            ),
        ),
        Section(
            "Ticket - Lambda authorizer: its callers read; the caller named in the token owns its tickets",
            (
                Call(
                    "dave (lambda)",
                    'mutation { createTicket(input: {id: "t-1", title: "VPN"}) { id owner } }',
                    ALLOW,
                ),
                Call("lambda key", "query { listTickets { items { id title owner } } }", ALLOW),
                Call(
                    "lambda key",
                    'mutation { createTicket(input: {title: "x"}) { id } }',
                    DENY,
                    "deniedFields",
                ),
                Call("bad token", "query { listTickets { items { id } } }", REJECT),
            ),
        ),
        Section(
            "Item - OIDC: owner by the `sub` claim; `Moderator` from the `groups` claim",
            (
                Call(
                    "erin (oidc)",
                    'mutation { createItem(input: {id: "item-1", name: "Lamp"}) { id owner } }',
                    ALLOW,
                ),
                Call(
                    "frank (oidc Moderator)",
                    'mutation { updateItem(input: {id: "item-1", name: "Desk"}) { id name } }',
                    ALLOW,
                ),
                Call("gina (oidc)", 'mutation { deleteItem(input: {id: "item-1"}) { id } }', DENY),
            ),
        ),
        Section(
            "Custom operations - their rules decide before the handler runs; `todoSummary` and "
            "`completeTodo` only for the owner of the Todo their `id` names",
            (
                Call("api key", "query { whoAmI }", ALLOW, "allow.public_api_key()"),
                Call("alice", "query { whoAmI }", ALLOW, "allow.authenticated()"),
                Call("guest", "query { whoAmI }", DENY, "whoAmI has no @aws_iam"),
                Call(
                    "bob",
                    'query { todoSummary(id: "todo-1") }',
                    DENY,
                    "todo-1 loaded and judged: not bob's, the handler never runs",
                ),
                Call("alice", 'query { todoSummary(id: "todo-1") }', ALLOW, "the handler gets alice's Todo"),
                Call(
                    "bob", 'mutation { completeTodo(id: "todo-1") { id done } }', DENY, "bob is not the owner"
                ),
                Call("alice", 'mutation { completeTodo(id: "todo-1") { id done owner } }', ALLOW),
                Call(
                    "alice",
                    'mutation { completeTodo(id: "todo-1", note: 5) { id } }',
                    INVALID,
                    "note must be a String: refused before any function",
                ),
                Call("alice", 'mutation { completeTodo(id: "") { id } }', INVALID, "an empty id: BadRequest"),
            ),
        ),
        Section(
            "Credentials refused before any resolver (HTTP 401)",
            (
                Call("unknown api key", "query { listTodos { items { id } } }", REJECT),
                Call("expired api key", "query { listTodos { items { id } } }", REJECT),
                Call("forged signature", "query { listNotes { items { id } } }", REJECT),
            ),
        ),
    ]


def main() -> int:
    project = Project.find()
    ref, _ = project.schema_ref()
    users = {"alice": ["editors"], "bob": [], "carol": ["Admin"]}
    return run(
        project.load_schema(), project.path("template"), schema_ref=str(ref), sections=sections(), users=users
    )


if __name__ == "__main__":
    sys.exit(main())
