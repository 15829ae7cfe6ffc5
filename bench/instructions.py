"""Warm getTodo in instructions: valgrind's callgrind counts what the CPU executes, the same on a
busy machine as on an idle one, so the full handler and the hand-written one of bench/warm.py
compare without the noise a shared machine adds to their times.

Each count comes from its own child process under callgrind, set up as bench/warm.py sets up
(the handler's client on one botocore Stubber), both sides warmed up with a few requests, then
``requests`` responses queued and ``requests`` requests made by one side ("none": by neither).
A request's count is (the child's count - the "none" child's count) / ``requests``. The hash
seed and the address layout are fixed so that repeated runs agree.

Run as ``python -m bench.instructions <full|minimal|none> <requests>`` it is such a child.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from bench import common, warm
from bench.common import Config, Row, Section

SIDES = ("full", "minimal", "none")
GOAL = 1.03  # warm getTodo, a repeated caller, in instructions (issue 21)
WARM_UP = 5
_COLLECTED = re.compile(r"Collected : (\d+)")


def child(side: str, requests: int) -> None:
    """The work one callgrind child counts (its set-up is counted too, and cancels out)."""
    handler, stubber, minimal = warm.stubbed()
    case = warm.cases(minimal)[0]  # getTodo, owner rule, one event repeated
    [(operation, response)] = case.responses
    calls = {
        "full": lambda: handler.lambda_handler(case.event, None),
        "minimal": lambda: case.baseline(case.event),
    }
    for call in calls.values():
        for _ in range(WARM_UP):
            stubber.add_response(operation, response)
            call()
    for _ in range(requests):
        stubber.add_response(operation, response)
    if side != "none":
        for _ in range(requests):
            calls[side]()
        stubber.assert_no_pending_responses()


def count(side: str, requests: int) -> int:
    """Instructions callgrind counted in one child."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        side,
        str(requests),
    ]
    if shutil.which("setarch"):  # one address layout: id()-keyed lookups then hash alike every run
        command = ["setarch", "-R", *command]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=common.ROOT, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind child {side!r} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def run(config: Config) -> Section:
    section = Section("Instructions")
    label = "warm getTodo, instructions (callgrind)"
    if shutil.which("valgrind") is None:
        section.rows.append(
            Row(label, "not measured", "valgrind not installed", None, common.at_most(GOAL), None)
        )
        return section
    requests = config.batch * 5
    with ThreadPoolExecutor(len(SIDES)) as pool:
        counts = dict(zip(SIDES, pool.map(lambda side: count(side, requests), SIDES), strict=True))
    full, minimal = ((counts[side] - counts["none"]) / requests for side in ("full", "minimal"))
    section.rows.append(
        Row(
            label,
            f"{full / 1e6:.3f} M (+{(full - minimal) / 1e3:,.1f} k)",
            f"{minimal / 1e6:.3f} M",
            full / minimal,
            common.at_most(GOAL),
            full / minimal <= GOAL,
        )
    )
    section.details.append(
        f"Instructions: valgrind's callgrind, {requests:,} getTodo requests per side in its own child "
        "(hash seed and address layout fixed), less a child making none. The count is what the code "
        "asks of the CPU and does not move with the machine's load; the time ratio above it also "
        "holds how fast the CPU runs that code, which on this shared machine varies from run to run."
    )
    return section


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in SIDES or not sys.argv[2].isdigit():
        raise SystemExit(f"usage: python -m bench.instructions <{'|'.join(SIDES)}> <requests>")
    child(sys.argv[1], int(sys.argv[2]))
