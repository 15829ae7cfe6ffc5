"""Cold init and peak memory: a fresh interpreter importing each function's handler vs its minimal
hand-written equivalent:

- GraphQL (functions/graphql/app.py: layer + Powertools + boto3 client) vs boto3 + a DynamoDB client;
- REST (functions/rest/app.py) vs Powertools' ``APIGatewayRestResolver`` with a route + a DynamoDB
  client;
- the authorizer (functions/authorizer/app.py, configured as template.yaml deploys it) vs PyJWT +
  a ``PyJWKClient`` for the pool's JWKS URL.

The handler is imported from a copy laid out like Lambda's ``/opt/python`` + ``/var/task``, in
two variants:

- *bytecode cached*: the layer's own code compiled ahead (``compileall``), dependencies from the
  venv (which has ``.pyc``) — what example/layers/modelauth/Makefile ships (it compiles everything);
- *without .pyc*: the layer's code **and** its requirements (Powertools, PyJWT, …) as source
  only, as SAM's stock ``BuildMethod: python3.12`` leaves them; ``/opt`` is read-only in Lambda,
  so every cold start would compile these modules again.

The baseline's boto3 always has bytecode (the Lambda runtime's boto3 comes with it). Init time is
measured inside each child around the import; peak RSS is the child's own high-water mark.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import Distribution, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bench.common import (
    ENV,
    EXAMPLE,
    GRAPHQL_HANDLER,
    LAYER,
    ROOT,
    Comparison,
    Config,
    Section,
    at_most,
    compared,
    interleaved_samples,
    ms,
    times,
)

GOAL = 1.10  # each function's cold init vs its minimal equivalent (issue 21)
IMPORTTIME_RUNS = 5

# Installed in the venv as dev dependencies (of moto, the SAM CLI), absent from Lambda's runtime;
# botocore and s3transfer import them when present, which would add ~150 ms to both sides.
NOT_IN_LAMBDA = ("awscrt", "OpenSSL")
_PRELUDE = (
    f"import sys, time\nfor _m in {NOT_IN_LAMBDA!r}:\n    sys.modules[_m] = None\n_t0 = time.perf_counter()\n"
)
# Peak RSS from VmHWM: ru_maxrss survives exec on Linux, so a child would report its parent's peak.
_REPORT = """
import gc, json, resource, sys
_ORIGINS = ("app", "modelauth", "aws_lambda_powertools")
try:
    with open("/proc/self/status") as _status:
        _peak = next(int(line.split()[1]) for line in _status if line.startswith("VmHWM:"))
except OSError:
    _peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "init": _t1 - _t0,
    "rss_kb": _peak,
    "full_gcs": gc.get_stats()[2]["collections"],
    "files": {m: getattr(sys.modules.get(m), "__file__", None) for m in _ORIGINS},
}))
"""


def _timed(code: str) -> str:
    """A child's code: ``code`` timed from the prelude to its end, then the report."""
    return _PRELUDE + code + "\n_t1 = time.perf_counter()\n" + _REPORT


HANDLER_CODE = _timed("import app")
BASELINE_CODE = _timed("import boto3\nboto3.client('dynamodb')")
BENCH_POOL = "us-east-1_Bench0001"


@dataclass(frozen=True)
class Function:
    """A Lambda function of example/ and the minimal hand-written equivalent of its init."""

    name: str
    handler: Path
    baseline: str  # the baseline child's code
    baseline_label: str
    env: dict[str, str]  # beyond common.ENV: what template.yaml gives this function


GRAPHQL = Function("GraphQL", GRAPHQL_HANDLER, BASELINE_CODE, "boto3 + DynamoDB client", {})
REST = Function(
    "REST",
    ROOT / "example" / "functions" / "rest" / "app.py",
    _timed(
        "import boto3\nfrom aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
        "app = APIGatewayRestResolver()\nclient = boto3.client('dynamodb')\n"
        "@app.get('/todos/<todo_id>')\ndef get_todo(todo_id):\n"
        "    return client.get_item(TableName='Todo', Key={'id': {'S': todo_id}})\n"
    ),
    "Powertools APIGatewayRestResolver + DynamoDB client",
    {},
)
AUTHORIZER = Function(
    "authorizer",
    ROOT / "example" / "functions" / "authorizer" / "app.py",
    _timed(
        "import jwt\njwks = jwt.PyJWKClient("
        f"'https://cognito-idp.us-east-1.amazonaws.com/{BENCH_POOL}/.well-known/jwks.json')"
    ),
    "PyJWT + PyJWKClient",
    {
        "USER_POOL_ID": BENCH_POOL,
        "USER_POOL_CLIENT_IDS": "benchclient",
        "MODELAUTH_TOKEN_USE": "access",
        "MODELAUTH_API_KEYS_PARAMETER": "/modelauth/bench/api-keys",
        "MODELAUTH_AUTHORIZER_TTL": "60",
    },
)


@dataclass(frozen=True)
class Child:
    init: float  # seconds spent in the import (handler) or import + client (baseline)
    wall: float  # the whole process, interpreter start to exit
    rss_kb: int
    full_gcs: int  # full (generation 2) garbage collections up to the end of the import
    files: dict[str, str | None]


@dataclass(frozen=True)
class Variant:
    name: str
    code: str
    path: Path | None  # PYTHONPATH: the handler's tree
    env: dict[str, str] | None = None  # the function's own variables


def _env(path: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **ENV, **(extra or {}), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    # the tree holds the example's appschema; the venv variant finds it in the example project
    env["PYTHONPATH"] = str(path if path is not None else EXAMPLE)
    return env


def run_child(variant: Variant, *flags: str) -> tuple[Child, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *flags, "-c", variant.code],
        env=_env(variant.path, variant.env),
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Child(data["init"], wall, data["rss_kb"], data["full_gcs"], data["files"]), done.stderr


# -- the handler's trees ----------------------------------------------------------------------------


def _requirement_closure(requirements: list[str]) -> list[Distribution]:
    """The installed distributions the layer's requirements.txt pulls in (extras honoured)."""
    found: dict[str, Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        if key in found:
            continue
        found[key] = dist = distribution(req.name)
        for text in dist.requires or []:
            sub = Requirement(text)
            extras = req.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return list(found.values())


def _top_level_paths(dist: Distribution) -> set[Path]:
    """The packages and modules a distribution installs at the top of site-packages."""
    tops = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__", "bin"):
            continue
        tops.add(Path(str(dist.locate_file(first))))
    return tops


def _copy(source: Path, target_dir: Path) -> None:
    target = target_dir / source.name
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        shutil.copy2(source, target)


def build_tree(
    root: Path, *, with_requirements: bool, compiled: bool, handler: Path = GRAPHQL_HANDLER
) -> Path:
    """``/opt/python`` (the layer) and ``/var/task`` (the function) merged in one directory."""
    root.mkdir()
    _copy(LAYER / "modelauth", root)
    shutil.rmtree(root / "modelauth" / "local")  # the layer ships the runtime only
    _copy(EXAMPLE / "appschema", root)
    _copy(handler, root)
    if with_requirements:
        requirements = (EXAMPLE / "layers" / "modelauth" / "requirements.txt").read_text().split("\n")
        lines = [r.strip() for r in requirements if r.strip() and not r.startswith("#")]
        for dist in _requirement_closure(lines):
            for top in _top_level_paths(dist):
                _copy(top, root)
    if compiled:
        compileall.compile_dir(root, quiet=1)
    return root


# -- importtime -------------------------------------------------------------------------------------


def import_times(stderr: str) -> dict[str, float]:
    """Seconds of ``-X importtime`` self time per imported module."""
    times: dict[str, float] = {}
    for line in stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _cumulative, name = line.removeprefix("import time:").split("|")
            times[name.strip()] = int(self_us) / 1e6
    return times


def added_imports(handler: list[dict[str, float]], baseline: list[dict[str, float]]) -> dict[str, float]:
    """What the handler imports beyond the baseline, by top-level package: the median over runs
    of the summed self times. ``app`` is left out: its body builds the boto3 client, which the
    baseline does too (outside any import)."""
    known = set().union(*baseline)
    per_run = []
    for run in handler:
        totals: dict[str, float] = {}
        for module, seconds in run.items():
            top = module.split(".")[0]
            if module not in known and top != "app":
                totals[top] = totals.get(top, 0.0) + seconds
        per_run.append(totals)
    tops = set().union(*per_run)
    medians = {top: statistics.median(run.get(top, 0.0) for run in per_run) for top in tops}
    return dict(sorted(medians.items(), key=lambda kv: -kv[1]))


def _describe(label: str, added: dict[str, float], top: int = 6) -> str:
    parts = [f"{name} {ms(secs)}" for name, secs in list(added.items())[:top]]
    return f"    {label}: {ms(sum(added.values()))} in all; " + ", ".join(parts)


# -- the benchmark ----------------------------------------------------------------------------------


def run(config: Config) -> Section:
    section = Section("Cold init and memory")
    with tempfile.TemporaryDirectory(prefix="modelauth-bench-") as tmp:
        bytecode = build_tree(Path(tmp) / "bytecode", with_requirements=False, compiled=True)
        source = build_tree(Path(tmp) / "source", with_requirements=True, compiled=False)
        variants = {
            "baseline": Variant("boto3 + client", BASELINE_CODE, None),
            "bytecode": Variant("handler, bytecode cached", HANDLER_CODE, bytecode),
            "source": Variant("handler, layer without .pyc (stock python3.12 build)", HANDLER_CODE, source),
        }
        others = (REST, AUTHORIZER)
        for function in others:
            tree = build_tree(
                Path(tmp) / function.name, with_requirements=False, compiled=True, handler=function.handler
            )
            variants[function.name] = Variant(function.name, HANDLER_CODE, tree, function.env)
            variants[f"{function.name} baseline"] = Variant(
                function.baseline_label, function.baseline, None, function.env
            )
        samples = interleaved_samples(
            {k: (lambda v=v: run_child(v)[0]) for k, v in variants.items()}, config.runs
        )
        _check_origins(samples["bytecode"][0], bytecode, dependencies_from_tree=False)
        _check_origins(samples["source"][0], source, dependencies_from_tree=True)
        for function in others:
            path = variants[function.name].path
            assert path is not None
            _check_origins(samples[function.name][0], path, dependencies_from_tree=False)
        profiles = interleaved_samples(
            {k: (lambda v=v: import_times(run_child(v, "-X", "importtime")[1])) for k, v in variants.items()},
            min(config.runs, IMPORTTIME_RUNS),
        )
        added = {key: added_imports(profiles[key], profiles["baseline"]) for key in ("bytecode", "source")}
        added |= {f.name: added_imports(profiles[f.name], profiles[f"{f.name} baseline"]) for f in others}

    def compare(key: str, metric: str, baseline: str = "baseline") -> Comparison:
        values = {k: [getattr(child, metric) for child in samples[k]] for k in (key, baseline)}
        return Comparison.of(values[key], values[baseline])

    init = compare("bytecode", "init")
    section.rows.append(
        compared("cold init, bytecode cached (GraphQL)", init, ms, at_most(GOAL), init.ratio <= GOAL)
    )
    walls = {}
    for function in others:
        result = compare(function.name, "init", f"{function.name} baseline")
        walls[function.name] = compare(function.name, "wall", f"{function.name} baseline")
        section.rows.append(
            compared(
                f"cold init {function.name}, bytecode cached", result, ms, at_most(GOAL), result.ratio <= GOAL
            )
        )
    # what SAM's stock python3.12 build would ship (no .pyc): why example/layers/modelauth/Makefile exists
    section.rows.append(compared("cold init, without .pyc (stock build)", compare("source", "init"), ms))
    section.rows.append(compared("peak RSS, cold handler", compare("bytecode", "rss_kb"), _megabytes))
    wall = compare("bytecode", "wall")
    section.details += [
        f"Cold init: median of {config.runs} fresh `{Path(sys.executable).name}` processes per side, "
        "interleaved; time measured inside each child around the import. The handler runs from a copy laid "
        "out like Lambda's /opt/python + /var/task; 'without .pyc' also holds the layer's "
        "requirements (Powertools, PyJWT, ...) without .pyc, as SAM's stock python3.12 build leaves them "
        "(example/layers/modelauth/Makefile compiles them, so the deployed layer is the bytecode-cached "
        "row). "
        "awscrt and pyOpenSSL (dev dependencies here, not in Lambda's runtime) are hidden on both sides.",
        f"  whole process (interpreter start to exit): handler {ms(wall.measured)}, baseline "
        f"{ms(wall.baseline)}, ratio {times(wall.ratio)}",
        f"  full garbage collections during the import (median): handler {_median_gcs(samples['bytecode'])}, "
        f"baseline {_median_gcs(samples['baseline'])} (`modelauth.startup.freeze_startup_heap` keeps what "
        "the cold start built out of them; without it one full collection, about 17 ms, ran while the "
        "boto3 client was created)",
        "  What the handler imports beyond the baseline (`-X importtime` self time of the modules the "
        f"baseline does not import, by package; median of {min(config.runs, IMPORTTIME_RUNS)} runs, "
        "inflated by the tracing):",
        _describe("bytecode cached", added["bytecode"]),
        _describe("without .pyc", added["source"]),
        "  REST and authorizer (bytecode cached): baselines "
        + "; ".join(f"{f.name}: {f.baseline_label}" for f in others)
        + ". The authorizer has template.yaml's variables (user pool, API keys in an SSM parameter, TTL).",
        *(
            f"    {name}: whole process {ms(wall.measured)} vs {ms(wall.baseline)} ({times(wall.ratio)}); "
            + _describe("imports beyond its baseline", added[name]).strip()
            for name, wall in walls.items()
        ),
    ]
    return section


def _median_gcs(children: list[Child]) -> str:
    return f"{statistics.median(child.full_gcs for child in children):g}"


def _megabytes(kilobytes: float) -> str:
    return f"{kilobytes / 1024:.1f} MB"


def _check_origins(child: Child, tree: Path, *, dependencies_from_tree: bool) -> None:
    """The child imported the handler (and, if asked, Powertools) from the tree it was given."""
    wanted = ("app", "modelauth", "aws_lambda_powertools") if dependencies_from_tree else ("app", "modelauth")
    for module in wanted:
        origin = child.files.get(module)
        if origin is None or not Path(origin).is_relative_to(tree):
            raise RuntimeError(f"{module} was imported from {origin}, not from {tree}")
