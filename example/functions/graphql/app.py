"""AppSync resolver for every model of the app (invoked through graphql/invoke.js), and the
handlers of the schema's custom operations: each runs only after its rules allowed the caller
(and, with ``.item(...)``, the Todo its ``id`` names was loaded and judged)."""

from typing import Any

from modelauth.custom import Call
from modelauth.resolvers import GraphQLApp

app = GraphQLApp.from_env()  # the schema: $MODELAUTH_SCHEMA (template Globals)


@app.operation("whoAmI")
def who_am_i(call: Call) -> str:
    return call.principal.username or f"a caller with the {call.principal.mode.value} mode"


@app.operation("todoSummary")
def todo_summary(call: Call) -> str:
    assert call.item is not None  # loaded by the library: alice's own Todo
    return f"{call.item.get('content')!r}: {'done' if call.item.get('done') else 'to do'}"


@app.operation("completeTodo")
def complete_todo(call: Call) -> dict[str, Any]:
    # written only while the caller still owns it and it is the version that was judged
    return call.update_item({"done": True})


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
