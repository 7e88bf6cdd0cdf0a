"""The build stage: ``dbt build`` (seeds, models and dbt data tests) on the work warehouse.

dbt runs in-process through its programmatic runner, so a run pays dbt's start-up once.
Results are read back from ``run_results.json``: a model that fails to build stops the run
here; failing dbt tests are handed to the quality gate, which decides on publication.

dbt's unit tests are not part of a run: they check the models' logic on fixed inputs, so
their verdict depends on the code, not on the month's data, and dbt's own guidance is to
run them in development and CI only: :func:`dbt_unit_tests` (``chiso dbt-unit-tests``),
which the test suite runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warehouse import raw_schema
from warehouse.budget import Budget, run_budget
from warehouse.errors import ChisoError
from warehouse.settings import (
    Settings,
    dbt_environment,
    environment_for,
)
from warehouse.transaction import transaction


class BuildError(ChisoError):
    """A model or seed failed to build: nothing downstream can be trusted. ``failed``: the
    nodes that failed, with dbt's message for each."""

    def __init__(self, message: str, failed: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.failed = failed or {}


OUT_OF_MEMORY = "Out of Memory Error"  # DuckDB's, with what it could not allocate


@dataclass(frozen=True)
class TestOutcome:
    name: str
    model: str | None
    status: str  # pass, fail, warn, error, skipped
    severity: str  # error or warn, as configured in dbt
    failures: int
    message: str
    failures_relation: str | None = None  # where dbt stored the failing rows

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TestOutcome:
        return cls(**data)


@dataclass
class BuildResult:
    models_built: int = 0
    skipped: list[str] = field(default_factory=list)  # models dbt skipped after a failure
    tests: list[TestOutcome] = field(default_factory=list)
    full_refresh: bool = False  # the incremental models were rebuilt from raw

    @property
    def tests_passed(self) -> int:
        return sum(test.status == "pass" for test in self.tests)


# called as each node (seed, model, test) finishes: (nodes done, nodes in the run, what)
NodeDone = Callable[[int, int, str], None]
# dbt's events that end a node, with the "index of total" the run counts
_RESULT_EVENTS = {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"}


def dbt_log_file(settings: Settings) -> Path:
    """dbt's full log (every model, test and query, at debug level): always written."""
    return settings.dbt_log_dir / "dbt.log"


def dbt_args(
    settings: Settings, command: str, *extra: str, target_path: Path | None = None
) -> list[str]:
    """dbt's command line. Its console log only with CHISO_VERBOSE (``--verbose``); the
    full log always goes to :func:`dbt_log_file`."""
    project = str(settings.dbt_project_dir)
    return [
        command,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(target_path or settings.dbt_target_dir),
        "--log-path",
        str(settings.dbt_log_dir),
        "--no-use-colors",
        "--log-level",
        "info" if settings.verbose else "none",
        "--log-level-file",  # said, or dbt takes --log-level's for the file too
        "debug",
        *(["--target", settings.warehouse] if command != "deps" else []),
        *extra,
    ]


def run_dbt(
    settings: Settings,
    command: str,
    *extra: str,
    target_path: Path | None = None,
    as_of_period: str = "",
    on_node: NodeDone | None = None,
    figures: int = 0,
) -> Budget:
    """Invoke dbt in-process against the configured warehouse (its dbt target), the marts
    as of ``as_of_period`` (empty: the latest month observed), within the run's memory
    budget for ``figures`` figures; ``on_node`` hears of each node as it finishes. Returns
    the budget dbt ran with."""
    from dbt.cli.main import dbtRunner

    def heard(event) -> None:
        if on_node is not None and event.info.name in _RESULT_EVENTS:
            data = event.data  # a test's event calls the run's total num_models
            total = getattr(data, "total", 0) or getattr(data, "num_models", 0)
            on_node(int(data.index), int(total), data.node_info.node_name)

    runner = dbtRunner(callbacks=[heard])
    budget = run_budget(settings, figures)
    with environment_for({**dbt_environment(settings, as_of_period), **budget.dbt_environment()}):
        result = runner.invoke(dbt_args(settings, command, *extra, target_path=target_path))
    if result.exception is not None:
        raise BuildError(
            f"dbt {command} could not run: {result.exception} (dbt's log: {dbt_log_file(settings)})"
        )
    return budget


def dbt_build(
    settings: Settings,
    as_of_period: str,
    full_refresh: bool = False,
    on_node: NodeDone | None = None,
    figures: int = 0,
) -> BuildResult:
    """Run ``dbt build`` as of a month (its log in :func:`dbt_log_file`), over ``figures``
    figures (the memory budget's split depends on them). ``full_refresh``: the
    incremental models are rebuilt from raw instead of by month. A model DuckDB could not
    build within the budget is named, with the budget, in a :class:`BuildError`."""
    results_path = settings.dbt_target_dir / "run_results.json"
    results_path.unlink(missing_ok=True)
    budget = run_dbt(
        settings,
        "build",
        "--exclude-resource-type",
        "unit_test",
        *(["--full-refresh"] if full_refresh else []),
        as_of_period=as_of_period,  # not --vars: a new month would re-parse the whole project
        on_node=on_node,
        figures=figures,
    )
    if not results_path.exists():
        raise BuildError(
            f"dbt build wrote no results ({results_path}); see dbt's log {dbt_log_file(settings)}"
        )
    try:
        return read_results(settings.dbt_target_dir, dbt_log_file(settings))
    except BuildError as error:
        starved = [name for name, message in error.failed.items() if OUT_OF_MEMORY in message]
        if not starved:
            raise
        message = budget.out_of_memory(starved)
        raise BuildError(f"{message} (dbt's log: {dbt_log_file(settings)})", error.failed) from None


BUILD_STATE_DDL = raw_schema.BUILD_STATE  # warehouse/raw_schema.py: every raw table


def project_fingerprint(settings: Settings) -> str:
    """What the incremental models' kept months were computed with: the dbt project's
    models, macros, seeds and settings file, every raw table and view it reads (the whole of
    warehouse/raw_schema.py) and the provinces served. Any change, an upgrade of chiso or a
    province editing a seed, makes the next build a full one."""
    project = settings.dbt_project_dir
    digest = hashlib.sha256()
    files = [project / "dbt_project.yml"] + sorted(
        path
        for folder in ("models", "macros", "seeds")
        for path in (project / folder).rglob("*")
        if path.is_file()
    )
    for path in files:
        digest.update(str(path.relative_to(project)).encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update(Path(raw_schema.__file__).read_bytes() + b"\0")
    digest.update(",".join(settings.provinces).encode("utf-8"))
    return digest.hexdigest()


def needs_full_refresh(conn, fingerprint: str) -> bool:
    """Whether the last build that finished was made with another project than
    ``fingerprint`` (or none is recorded)."""
    conn.execute(BUILD_STATE_DDL)
    row = conn.execute(
        "select project_fingerprint from raw.build_state order by built_at desc limit 1"
    ).fetchone()
    return row is None or row[0] != fingerprint


def record_build(conn, fingerprint: str) -> None:
    """After a build in which every model built: its project's fingerprint."""
    conn.execute(BUILD_STATE_DDL)
    with transaction(conn):
        conn.execute("delete from raw.build_state")
        conn.execute("insert into raw.build_state values (?, ?)", [fingerprint, datetime.now(UTC)])


def dbt_unit_tests(settings: Settings) -> BuildResult:
    """Every dbt unit test, on the work warehouse a run has built (dbt reads the columns of
    each tested model and its inputs there; the tests themselves read fixed inputs and
    write nothing)."""
    from warehouse.backends import open_warehouse  # the backends build with this module

    if not open_warehouse(settings).exists():
        raise BuildError(
            f"no work warehouse at {settings.warehouse_path}: the unit tests need the models "
            "built once (chiso demo, or chiso run)"
        )
    target = settings.dbt_target_dir.with_name(settings.dbt_target_dir.name + "-unit-tests")
    run_dbt(settings, "test", "--select", "test_type:unit", target_path=target)
    return read_results(target)


def read_results(target_dir: Path, log_file: Path | None = None) -> BuildResult:
    """Sort dbt's run results into built models, tests (data and unit) and errors."""
    run_results = json.loads((target_dir / "run_results.json").read_text(encoding="utf-8"))
    manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    build = BuildResult()
    broken: dict[str, str] = {}
    for item in run_results["results"]:
        node = nodes.get(item["unique_id"], {})
        kind = node.get("resource_type", item["unique_id"].split(".")[0])
        name = node.get("name", item["unique_id"])
        if kind in ("test", "unit_test"):
            attached = node.get("attached_node") or node.get("model") or ""
            build.tests.append(
                TestOutcome(
                    name=name if kind == "test" else f"unit_test {name}",
                    model=attached.split(".")[-1] or None,
                    status=item["status"],
                    severity=str(node.get("config", {}).get("severity") or "error").lower(),
                    failures=item.get("failures") or 0,
                    message=item.get("message") or "",
                    failures_relation=item.get("relation_name"),
                )
            )
        elif item["status"] == "error":
            broken[name] = str(item.get("message"))
        elif item["status"] == "skipped":
            build.skipped.append(name)
        elif kind == "model":
            build.models_built += 1
    if broken:
        where = f" (dbt's log: {log_file})" if log_file else ""
        failures = "; ".join(f"{name}: {message}" for name, message in broken.items())
        raise BuildError(f"dbt could not build: {failures}{where}", broken)
    return build
