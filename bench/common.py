"""What every benchmark shares: settings, interleaved timing with medians, and the result rows.

The machine is shared and noisy, so nothing here is judged by absolute time: each measurement is
timed in alternation with its baseline in the same process run, and rows report the median of
the per-run ratios (each run's pair ran back to back, so a drift in load cancels out).
"""

from __future__ import annotations

import gc
import itertools
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "src"  # the library (its runtime part is what the layer ships)
EXAMPLE = ROOT / "example"
GRAPHQL_HANDLER = ROOT / "example" / "functions" / "graphql" / "app.py"

# what the functions see in Lambda, minus real credentials: nothing here reaches AWS
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "TABLE_TODO": "Todo",
    "NEXT_TOKEN_SECRET": "bench-secret",
    "MODELAUTH_SCHEMA": "appschema:SCHEMA",  # the example app's models (example/appschema)
    "POWERTOOLS_SERVICE_NAME": "modelauth",
}


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, e.g. ``load_event("getTodo.alice")``."""
    data: dict[str, Any] = json.loads((ROOT / "tests" / "events" / f"{name}.json").read_text())
    return data


def configure_env() -> None:
    """Set :data:`ENV` where the environment does not say otherwise."""
    for name, value in ENV.items():
        os.environ.setdefault(name, value)
    if str(EXAMPLE) not in sys.path:  # the handler's schema module (MODELAUTH_SCHEMA) lives there
        sys.path.append(str(EXAMPLE))


@dataclass(frozen=True)
class Config:
    runs: int  # medians are taken over this many runs of each side
    batch: int  # calls timed together in one run of an in-process benchmark
    items: int  # list-by-owner: items in the table
    owners: int  # list-by-owner: distinct owners among them
    page_limit: int  # list-by-owner: page size
    #: bounded list work: the table grows to each of these sizes
    bound_sizes: tuple[int, ...] = (3_000, 15_000, 30_000)
    #: bounded list work: the item bound (None: the deployed default)
    bound_max_reads: int | None = None

    @classmethod
    def full(cls) -> Config:
        return cls(runs=25, batch=200, items=100_000, owners=2_000, page_limit=20)

    @classmethod
    def quick(cls) -> Config:
        """Smoke mode: checks every benchmark runs; its numbers mean nothing."""
        return cls(
            runs=3,
            batch=20,
            items=2_000,
            owners=40,
            page_limit=20,
            bound_sizes=(300, 1_000, 2_000),
            bound_max_reads=500,
        )


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    name: str
    measured: str
    baseline: str
    ratio: float | None
    goal: str
    met: bool | None  # None: reported, no goal
    note: str = ""


def compared(
    name: str, result: Comparison, unit: Callable[[float], str], goal: str = "report", met: bool | None = None
) -> Row:
    """The row of a :class:`Comparison`, its times shown with ``unit``."""
    return Row(name, unit(result.measured), unit(result.baseline), result.ratio, goal, met)


@dataclass
class Section:
    """A benchmark's rows plus the lines explaining them (printed under the table)."""

    title: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


def per_call(fn: Callable[[], object], calls: int, prepare: Callable[[int], None] | None = None) -> float:
    """Seconds per call of ``fn`` over ``calls`` calls; ``prepare(calls)`` runs untimed first."""
    if prepare is not None:
        prepare(calls)
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved_samples(samplers: Mapping[str, Callable[[], T]], runs: int) -> dict[str, list[T]]:
    """``runs`` samples of each sampler. Samplers take turns within every run (in reversed order
    every other run), so drifts in machine load hit them alike; one warm-up round is discarded."""
    names = list(samplers)
    for name in names:
        samplers[name]()
    samples: dict[str, list[T]] = {name: [] for name in names}
    for run in range(runs):
        for name in names if run % 2 == 0 else reversed(names):
            samples[name].append(samplers[name]())
    return samples


@dataclass(frozen=True)
class Comparison:
    """A measurement against its baseline over the same runs."""

    measured: float  # median
    baseline: float  # median
    ratio: float  # median of the per-run ratios: each run's pair ran back to back
    added: float  # median of the per-run differences

    @classmethod
    def of(cls, measured: list[float], baseline: list[float]) -> Comparison:
        pairs = list(zip(measured, baseline, strict=True))
        return cls(
            statistics.median(measured),
            statistics.median(baseline),
            statistics.median(m / b for m, b in pairs),
            statistics.median(m - b for m, b in pairs),
        )


BATCH_WRITE = 25  # DynamoDB's maximum per BatchWriteItem


def put_items(client: Any, table: str, items: Iterable[dict[str, Any]]) -> None:
    """Write ``items`` (DynamoDB JSON) into ``table`` with BatchWriteItem, retrying unprocessed ones."""
    remaining = iter(items)
    while batch := [{"PutRequest": {"Item": item}} for item in itertools.islice(remaining, BATCH_WRITE)]:
        request: dict[str, Any] = {table: batch}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def silence_logs(name: str = "modelauth") -> None:
    """Keep Powertools' JSON log lines (still formatted: that cost is real) off the terminal."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger(name).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


TIMES = "\N{MULTIPLICATION SIGN}"


def times(ratio: float) -> str:
    """The ratio with a multiplication sign."""
    return f"{ratio:.2f}{TIMES}"


def at_most(ratio: float) -> str:
    """A ratio goal: at most this ratio."""
    return f"≤ {times(ratio)}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs" if seconds < 1e-4 else f"{seconds * 1e6:,.0f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f} ms"


TABLE_HEADER = ("benchmark", "measured", "baseline", "ratio", "goal", "met")


def table_cells(row: Row) -> tuple[str, ...]:
    ratio = times(row.ratio) if row.ratio is not None else "—"
    met = {True: "yes", False: "NO", None: "—"}[row.met]
    return (row.name, row.measured, row.baseline, ratio, row.goal, met)


def render_table(rows: list[Row]) -> str:
    """A Markdown table (readable as plain text too)."""
    cells = [TABLE_HEADER, *(table_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE_HEADER))]

    def line(values: tuple[str, ...]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])
