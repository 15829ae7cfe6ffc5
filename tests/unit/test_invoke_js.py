"""graphql/invoke.js (the APPSYNC_JS step of every resolver) run under node with a stubbed util.

The contract: request = the direct-resolver event + authType; response = the Lambda's
{data, errors} envelope turned into GraphQL errors (util.error / util.appendError).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

INVOKE_JS = ROOT / "src" / "modelauth" / "js" / "invoke.js"
SUBSCRIPTION_JS = ROOT / "src" / "modelauth" / "js" / "subscription.js"
JS_DIR = Path(__file__).parent / "js"

DENIED = {"message": "Not Authorized to access getTodo on type Query", "errorType": "Unauthorized"}
MASKED = {
    "message": "Not Authorized to access content on type Todo",
    "errorType": "Unauthorized",
    "errorInfo": {"path": ["content"]},
}
TODO = {"id": "todo-alice-1", "content": None, "owner": "a1b2c3d4::alice"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding invoke.js next to node_modules/@aws-appsync/utils (the stub)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js (>= 18) to test graphql/invoke.js")
    root = tmp_path_factory.mktemp("appsync_js")
    package = root / "node_modules" / "@aws-appsync" / "utils"
    package.mkdir(parents=True)
    manifest = {"name": "@aws-appsync/utils", "exports": "./index.mjs"}
    (package / "package.json").write_text(json.dumps(manifest))
    shutil.copy(JS_DIR / "aws-appsync-utils.mjs", package / "index.mjs")
    (root / "package.json").write_text(json.dumps({"type": "module"}))
    shutil.copy(INVOKE_JS, root / "invoke.js")
    shutil.copy(SUBSCRIPTION_JS, root / "subscription.js")
    return root


def run_handler(
    sandbox: Path, handler: str, ctx: dict[str, Any], auth_type: str | None = None, module: str = "invoke.js"
) -> Any:
    case = json.dumps({"handler": handler, "ctx": ctx, "authType": auth_type})
    proc = subprocess.run(
        ["node", str(JS_DIR / "harness.mjs"), str(sandbox / module)],
        input=case,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, f"node failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    "auth_type",
    ["API Key Authorization", "User Pool Authorization", "IAM Authorization", "Lambda Authorization"],
)
def test_request_invokes_lambda_with_every_event_part_and_auth_type(sandbox: Path, auth_type: str) -> None:
    ctx = {
        "arguments": {"id": "todo-alice-1"},
        "identity": {"sub": "a1b2c3d4", "username": "alice", "claims": {"sub": "a1b2c3d4"}},
        "source": None,
        "request": {"headers": {"host": "example.appsync-api.us-east-1.amazonaws.com"}, "domainName": None},
        "info": {"fieldName": "getTodo", "parentTypeName": "Query", "selectionSetList": ["id"]},
        "prev": None,
        "stash": {"k": "v"},
    }

    out = run_handler(sandbox, "request", ctx, auth_type)

    assert out == {
        "returned": {"operation": "Invoke", "payload": {**ctx, "authType": auth_type}},
        "halted": False,
        "calls": [],
        "stash": {"k": "v"},  # untouched
    }


@pytest.mark.parametrize(
    ("result", "expected_data"),
    [
        ({"data": TODO, "errors": []}, TODO),
        ({"data": TODO}, TODO),
        ({"data": None, "errors": []}, None),
        (None, None),
    ],
    ids=["data", "data-without-errors-key", "null-data", "null-result"],
)
def test_response_without_errors_returns_data(sandbox: Path, result: Any, expected_data: Any) -> None:
    out = run_handler(sandbox, "response", {"result": result})

    assert out == {"returned": expected_data, "halted": False, "calls": []}


@pytest.mark.parametrize(
    ("error", "expected_args"),
    [
        (DENIED, [DENIED["message"], "Unauthorized", None, None]),
        (MASKED, [MASKED["message"], "Unauthorized", None, {"path": ["content"]}]),
    ],
    ids=["without-errorInfo", "with-errorInfo"],
)
def test_response_errors_with_null_data_fail_the_field_with_the_first_error(
    sandbox: Path, error: dict[str, Any], expected_args: list[Any]
) -> None:
    second = {"message": "ignored", "errorType": "Other"}

    out = run_handler(sandbox, "response", {"result": {"data": None, "errors": [error, second]}})

    assert out == {"returned": None, "halted": True, "calls": [{"fn": "error", "args": expected_args}]}


def test_response_partial_errors_are_appended_and_data_returned(sandbox: Path) -> None:
    out = run_handler(sandbox, "response", {"result": {"data": TODO, "errors": [MASKED, DENIED]}})

    assert out == {
        "returned": TODO,
        "halted": False,
        "calls": [
            {"fn": "appendError", "args": [MASKED["message"], "Unauthorized", None, {"path": ["content"]}]},
            {"fn": "appendError", "args": [DENIED["message"], "Unauthorized", None, None]},
        ],
    }


def test_response_invoke_error_is_raised_with_its_type(sandbox: Path) -> None:
    timeout = {"message": "Task timed out after 10.00 seconds", "type": "Lambda:Unhandled"}
    ctx = {"error": timeout, "result": None}

    out = run_handler(sandbox, "response", ctx)

    assert out["halted"] is True
    assert out["calls"] == [
        {"fn": "error", "args": ["Task timed out after 10.00 seconds", "Lambda:Unhandled", None, None]}
    ]


# APPSYNC_JS rejects these at deploy time (AppSync "supported runtime features"); node would not.
UNSUPPORTED_SYNTAX = {
    "try/catch/finally": r"\b(try|catch|finally)\b",
    "throw": r"\bthrow\b",
    "while/do-while": r"\b(while|do)\b",
    "continue": r"\bcontinue\b",
    "++/--": r"\+\+|--",
    "C-style for loop": r"\bfor\s*\([^)]*;",
    "in operator": r"\bin\b(?!\w)",
    "class": r"\bclass\b",
}


@pytest.mark.parametrize("source_file", [INVOKE_JS, SUBSCRIPTION_JS], ids=lambda p: p.name)
@pytest.mark.parametrize("construct", sorted(UNSUPPORTED_SYNTAX))
def test_appsync_js_code_uses_only_the_supported_subset(construct: str, source_file: Path) -> None:
    source = source_file.read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.DOTALL)
    code = re.sub(r"'[^'\n]*'", "''", code)

    assert not re.search(UNSUPPORTED_SYNTAX[construct], code), f"{construct} is not supported by APPSYNC_JS"


OWNER_FILTER = {
    "filterGroup": [{"filters": [{"fieldName": "owner", "operator": "in", "value": ["alice", "a1"]}]}]
}


def test_invoke_response_hands_the_subscription_filter_to_the_resolver_via_the_stash(sandbox: Path) -> None:
    envelope = {"data": None, "errors": [], "subscriptionFilter": OWNER_FILTER}

    out = run_handler(sandbox, "response", {"result": envelope, "stash": {}})

    assert out == {
        "returned": None,
        "halted": False,
        "calls": [],
        "stash": {"subscriptionFilter": OWNER_FILTER},
    }


def test_subscription_response_installs_the_filter(sandbox: Path) -> None:
    out = run_handler(
        sandbox, "response", {"stash": {"subscriptionFilter": OWNER_FILTER}}, module="subscription.js"
    )

    assert out["returned"] is None
    assert out["calls"] == [{"fn": "setSubscriptionFilter", "args": [OWNER_FILTER]}]


def test_subscription_without_a_filter_installs_none(sandbox: Path) -> None:
    out = run_handler(sandbox, "response", {"stash": {}}, module="subscription.js")

    assert out["calls"] == []


def test_denied_subscription_fails_in_the_function_before_the_resolver_response(sandbox: Path) -> None:
    denied = {
        "message": "Not Authorized to access onCreateTodo on type Subscription",
        "errorType": "Unauthorized",
    }

    out = run_handler(sandbox, "response", {"result": {"data": None, "errors": [denied]}, "stash": {}})

    assert out["halted"] is True
    assert out["stash"] == {}
