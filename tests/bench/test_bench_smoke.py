"""The benchmarks run (smoke mode: small N, few runs). Their numbers are not judged here: the
machine is shared and noisy, and `make bench` reports ratios, not pass/fail timings."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

ROWS = [
    "cold init, bytecode cached",
    "cold init REST, bytecode cached",
    "cold init authorizer, bytecode cached",
    "cold init, without .pyc",
    "peak RSS, cold handler",
    "warm getTodo (owner rule)",
    "warm listTodos (owner rule)",
    "warm updateTodo (owner rule)",
    "warm getTodo, a caller never seen before",
    "warm createTodo (owner rule)",
    "warm deleteTodo (owner rule)",
    "warm getTodo, instructions (callgrind)",
    "authorizer: verify + AppSync response",
    "authorizer: repeated token (cache hit)",
    "authorizer: repeated token + AppSync response",
    "authorizer as deployed: verify + AppSync answer",
    *(
        f"DynamoDB items per {field}"
        for field in ("getTodo", "listTodos", "updateTodo", "createTodo", "deleteTodo")
    ),
    "list-by-owner: items read / returned",
    "list-by-owner: non-final pages full",
    "multi-owner list (Post editors, index items): items read / returned",
    "list attack: items read per request",
    "list attack: DynamoDB calls per request",
    "list attack: requests to the end (nextToken)",
    "1 MB Scan page: parse + load",
    "index query by owner (createdAt): read / returned",
    "index query by owner (priority): read / returned",
    "index query by owner (priority): requests",
    "Post.comments (every comment readable): read / returned",
    "Post.comments (owner-constrained author): read / returned",
]


@pytest.fixture(scope="module")
def smoke_output() -> str:
    results = ROOT / "bench" / "results.md"
    before = results.read_bytes() if results.exists() else None
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (results.read_bytes() if results.exists() else None) == before, "--smoke must not write results"
    return done.stdout


@pytest.mark.parametrize("row", ROWS)
def test_the_table_has_the_row(smoke_output: str, row: str) -> None:
    [line] = [line for line in smoke_output.splitlines() if line.startswith(f"| {row} ")]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert len(cells) == 6, line
    assert all(cells), line


def test_instructions_are_counted_where_valgrind_is(smoke_output: str) -> None:
    """Every machine of this project's kind has valgrind: the row then holds counts, not a note."""
    [line] = [line for line in smoke_output.splitlines() if line.startswith("| warm getTodo, instructions")]
    if shutil.which("valgrind") is None:
        assert "valgrind not installed" in line, line
        return
    counts = r"\| \d+\.\d{3} M \(\+[\d,.]+ k\) +\| \d+\.\d{3} M +"
    assert re.search(counts + r"\| \d+\.\d{2}\N{MULTIPLICATION SIGN} ", line), line


@pytest.mark.parametrize("row", [row for row in ROWS if row.startswith(("list attack:", "multi-owner list"))])
def test_the_list_attack_stays_within_the_bound(smoke_output: str, row: str) -> None:
    """Counts of calls and items read, not times: they hold on any machine (so does a
    multi-owner list's items read per item returned)."""
    [line] = [line for line in smoke_output.splitlines() if line.startswith(f"| {row} ")]
    assert line.rstrip().endswith("| yes |"), line
