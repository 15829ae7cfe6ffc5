"""`make lint` runs AWS's @aws-appsync/eslint-plugin (`recommended`, with TypeScript type
information) on the APPSYNC_JS code: today's files pass, and code the APPSYNC_JS runtime rejects at
deploy time is rejected here - including what only the type-aware rules find.

Needs node_modules (`make node_modules`, which `make lint` and `make test-fast` run: `npm ci`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE, ROOT

ESLINT = ROOT / "node_modules" / ".bin" / "eslint"
#: the APPSYNC_JS code `make lint` checks: the library's (which `modelauth generate` copies into
#: a project's graphql/) and the example's copies
APPSYNC_JS = [ROOT / "src" / "modelauth" / "js", EXAMPLE / "graphql"]
REJECTED = Path(__file__).parent / "js" / "appsync_rejected"
#: snippet -> the rules that must reject it (the last two need the TypeScript program)
EXPECTED = {
    "for_continue.js": {"@aws-appsync/no-for", "@aws-appsync/no-continue"},
    "try_catch.js": {"@aws-appsync/no-try"},
    "async_request.js": {"@aws-appsync/no-async", "@aws-appsync/no-await"},
    "recursion.js": {"@aws-appsync/no-recursion"},
    "disallowed_method.js": {"@aws-appsync/no-disallowed-methods"},
}


def eslint(*paths: Path) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """eslint's exit code and its messages per file (path relative to the repository)."""
    if not ESLINT.is_file():
        pytest.fail(f"{ESLINT.relative_to(ROOT)} missing: run `make node_modules` (npm ci)")
    done = subprocess.run(
        [str(ESLINT), "--max-warnings", "0", "--format", "json", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 2: eslint itself failed (config, type info)
    report = json.loads(done.stdout)
    return done.returncode, {
        Path(item["filePath"]).relative_to(ROOT).as_posix(): item["messages"] for item in report
    }


@pytest.fixture(scope="module")
def rejected() -> tuple[int, dict[str, list[dict[str, Any]]]]:
    return eslint(REJECTED)


def test_todays_appsync_js_passes() -> None:
    code, messages = eslint(*APPSYNC_JS)
    assert code == 0, messages
    expected = {path.relative_to(ROOT).as_posix() for folder in APPSYNC_JS for path in folder.glob("*.js")}
    assert set(messages) == expected
    assert {"example/graphql/invoke.js", "src/modelauth/js/subscription.js"} <= expected
    assert not any(messages.values()), messages


def test_every_rejected_snippet_is_checked(rejected: tuple[int, dict[str, list[dict[str, Any]]]]) -> None:
    assert set(EXPECTED) == {path.name for path in REJECTED.glob("*.js")}
    code, messages = rejected
    assert code == 1
    assert {Path(name).name for name in messages} == set(EXPECTED)


@pytest.mark.parametrize(("snippet", "rules"), sorted(EXPECTED.items()))
def test_appsync_js_runtime_rejects(
    rejected: tuple[int, dict[str, list[dict[str, Any]]]], snippet: str, rules: set[str]
) -> None:
    _, messages = rejected
    reported = messages[(REJECTED / snippet).relative_to(ROOT).as_posix()]
    assert rules <= {message["ruleId"] for message in reported}, reported
    assert all(message["severity"] == 2 for message in reported)
