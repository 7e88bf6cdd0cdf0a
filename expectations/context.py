"""Great Expectations itself, for both runners: an ephemeral context (imported late: it
takes seconds), its Data Docs site, and a validation outcome turned into a check of the
gate (its tier from the expectation's severity)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from expectations.results import CheckResult
from warehouse.settings import quiet_great_expectations, verbose

# counts and a sample of unexpected values, no value counts (SUMMARY hashes every column
# it checks, a third of the checks' time on a million rows)
RESULT_FORMAT = "BASIC"


DOCS_KEEP_RUNS = 10  # runs whose validation pages the Data Docs keep


def gx_context(docs_dir: Path | None = None):
    """Great Expectations (imported here: it takes seconds) and an ephemeral context, with
    the chiso Data Docs site in ``docs_dir`` if given."""
    quiet_great_expectations()
    import great_expectations as gx

    if not verbose():
        for name in list(logging.root.manager.loggerDict):  # GX sets INFO on some of its own
            if name.startswith("great_expectations"):
                logging.getLogger(name).setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="chiso",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return gx, context


def detail_of(result: dict) -> str:
    if "observed_value" in result and "unexpected_count" not in result:
        return f"observed {result['observed_value']}"
    count = result.get("unexpected_count", 0)
    sample = result.get("partial_unexpected_list", [])[:5]
    return f"{count} unexpected row(s), e.g. {sample}" if count else "passed"


def check_of(outcome, label: str, note: str) -> CheckResult:
    config = outcome.expectation_config
    severity = str(getattr(config.severity, "value", config.severity)).lower()
    if outcome.exception_info.get("raised_exception"):
        passed = False
        detail = f"error: {outcome.exception_info.get('exception_message')}"
    else:
        passed = bool(outcome.success)
        detail = detail_of(outcome.result) + note
    return CheckResult(
        check=config.meta.get("check", config.type),
        source="great_expectations",
        table=label,
        tier="blocking" if severity == "critical" else "warning",
        passed=passed,
        detail=detail,
    )


def sum_over_no_rows_is_zero(check: CheckResult, outcome, parameters: dict) -> CheckResult:
    """SQL's sum over no rows is NULL where pandas' is 0: a row-count band summed over the
    partitions of an empty table (no source loaded yet) sees 0 rows, on either path."""
    config = outcome.expectation_config
    if (
        check.passed
        or config.type != "expect_column_sum_to_be_between"
        or outcome.exception_info.get("raised_exception")
        or outcome.result.get("observed_value") is not None
    ):
        return check

    def bound(name: str):
        value = config.kwargs.get(name)
        return parameters.get(value["$PARAMETER"]) if isinstance(value, dict) else value

    low, high = bound("min_value"), bound("max_value")
    passed = (low is None or low <= 0) and (high is None or high >= 0)
    return replace(check, passed=passed, detail="observed 0 (no rows)")


def validate_into_docs(context, batches, suite, frame, parameters: dict, run_name):
    """Validate through a validation definition: its result stays in the context's store,
    which :func:`run_suites` renders into the Data Docs once every suite has run (no
    checkpoint: it only adds bookkeeping to every suite)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batches, suite=suite)
    )
    return definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format=RESULT_FORMAT,
        run_id=RunIdentifier(run_name=run_name) if run_name else None,
    )


def prune_docs(docs_dir: Path, keep: int = DOCS_KEEP_RUNS) -> None:
    """Keep the validation pages of the last ``keep`` runs (run ids sort by time): the index
    links the latest run's; the pipeline may run many times a month."""
    import re
    import shutil

    run_dirs = [
        path
        for path in (docs_dir / "validations").rglob("*")
        if path.is_dir() and re.fullmatch(r"\d{8}T\d{6}\d*Z_.+", path.name)
    ]
    kept = sorted({path.name for path in run_dirs})[-keep:]
    for path in run_dirs:
        if path.name not in kept:
            shutil.rmtree(path, ignore_errors=True)
