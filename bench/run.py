"""Run every benchmark, print the table and write bench/results.md.

python bench/run.py            # the full run (make bench): medians of 15 runs, 100k items
python bench/run.py --smoke    # checks every benchmark runs (small N, 3 runs); writes nothing
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import bench.* from the repository root
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import authorizer, bounds, capacity, cold, indexes, instructions, listing, relations, warm
from bench.common import ROOT, Config, Section, render_table

RESULTS = ROOT / "bench" / "results.md"
BENCHMARKS = (cold, warm, instructions, capacity, authorizer, listing, bounds, indexes, relations)


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    return (
        f"{cpu}, {os.cpu_count()} cores (shared), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def report(sections: list[Section], config: Config, took: float, load: tuple[str, str]) -> str:
    rows = [row for section in sections for row in section.rows]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, by `make bench` "
        f"(`python bench/run.py`, {took / 60:.1f} min). Each row compares a measurement with a baseline "
        f"timed in the same run, in {config.runs} interleaved runs per side: times are medians, ratios the "
        "median of the per-run ratios. The machine is shared and noisy (load average 1/5/15 min: "
        f"{load[0]} at the start, {load[1]} at the end): trust the ratios, not the absolute times.",
        "",
        render_table(rows),
        "",
        "## How each row was measured",
        "",
    ]
    for section in sections:
        lines += [f"- {section.details[0]}", *(_nested(detail) for detail in section.details[1:])]
    return "\n".join(lines) + "\n"


def _nested(detail: str) -> str:
    """A detail line as a Markdown sub-item, nested as deep as its indentation (two spaces a level)."""
    depth = max(1, (len(detail) - len(detail.lstrip(" "))) // 2)
    return f"{'  ' * depth}- {detail.strip()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="small N and few runs; prints, writes nothing")
    args = parser.parse_args(argv)
    config = Config.quick() if args.smoke else Config.full()
    started, load_before = time.perf_counter(), load_average()
    sections = []
    for benchmark in BENCHMARKS:
        print(f"running {benchmark.__name__} ...", file=sys.stderr, flush=True)
        sections.append(benchmark.run(config))
    took = time.perf_counter() - started
    print(render_table([row for section in sections for row in section.rows]))
    print()
    for section in sections:
        print("\n".join(section.details))
    if not args.smoke:
        RESULTS.write_text(report(sections, config, took, (load_before, load_average())))
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
