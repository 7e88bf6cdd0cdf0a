"""The catalog: every target traceable to its sentence; bad edits named by file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from chiso.catalog import CatalogError, check, summary, validate
from tests.helpers.project import PROJECT_ROOT, shared_folder
from warehouse.reference import read_seed

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    folder = shared_folder("seeds")
    return {
        row["document_id"]: _normalise((folder / row["seed_file"]).read_text(encoding="utf-8"))
        for row in read_seed(SEEDS, "documents")
    }


def test_every_quote_and_section_occurs_verbatim_in_its_document(documents):
    targets = read_seed(SEEDS, "targets")
    assert len(targets) > 100
    missing = [
        (row["target_id"], column)
        for row in targets
        for column in ("quote_vi", "section_vi")
        if _normalise(row[column]) not in documents[row["document_id"]]
    ]
    assert missing == []


def _written(number: str) -> str:
    value = float(number)
    return f"{value:g}".replace(".", ",") if not value.is_integer() else str(int(value))


def test_every_number_of_a_target_appears_in_its_quote():
    kinds = {row["indicator_code"]: row["kind"] for row in read_seed(SEEDS, "indicators")}
    for row in read_seed(SEEDS, "targets"):
        if kinds[row["indicator_code"]] == "yes_no":  # 1 = the objective is met: no figure
            assert (row["comparator"], row["target_value"]) == ("=", "1"), row["target_id"]
            continue
        for column in ("target_value", "target_value_max"):
            if row[column]:
                number = _written(row[column])
                pattern = rf"(?<![\d.,]){re.escape(number)}(?![\d])"
                assert re.search(pattern, row["quote_vi"]), (row["target_id"], number)


def test_every_document_with_targets_and_every_indicator_is_used():
    targets = read_seed(SEEDS, "targets")
    used = {row["indicator_code"] for row in targets}
    assert {row["indicator_code"] for row in read_seed(SEEDS, "indicators")} == used
    per_document = {row["document_id"] for row in targets}
    documents = {row["document_id"] for row in read_seed(SEEDS, "documents")}
    assert documents - per_document == {"ls_cv548_2022"}  # the cover letter sets none


def test_the_shipped_catalog_is_consistent():
    assert validate(SEEDS) == []
    text = summary(SEEDS)
    assert "145 targets" in text and "tq_kh154_2022" in text


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    return Path(shutil.copytree(SEEDS, tmp_path / "seeds"))


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_an_unknown_indicator_in_a_target_is_named_by_line(seeds_copy):
    targets = seeds_copy / "targets.csv"
    line = _line_of(targets, "ls_ct04_2022__report_online_rate__department,")
    _edit(targets, "ls_ct04_2022,report_online_rate,", "ls_ct04_2022,report_onlin_rate,")
    with pytest.raises(CatalogError) as error:
        check(seeds_copy)
    assert (
        f"targets.csv line {line} (ls_ct04_2022__report_online_rate__department): "
        "indicator 'report_onlin_rate' is not in indicators.csv"
    ) in str(error.value)


def test_a_duplicate_indicator_code_is_named(seeds_copy):
    indicators = seeds_copy / "indicators.csv"
    _edit(indicators, "\nreport_online_rate,", "\nwork_record_online_rate,")
    messages = [str(p) for p in validate(seeds_copy)]
    assert any("indicators.csv line 2 (work_record_online_rate): duplicate" in m for m in messages)
    assert any("indicator 'report_online_rate' is not in indicators.csv" in m for m in messages)


def test_a_comparator_outside_the_set_and_a_bad_range_are_named(seeds_copy):
    targets = seeds_copy / "targets.csv"
    _edit(targets, ",department,>=,50,,2022-12-31,", ",department,=>,50,,2022-12-31,")
    _edit(targets, ",province,between,15,20,", ",province,between,25,20,")
    messages = [str(p) for p in validate(seeds_copy)]
    assert any("comparator '=>' is not one of" in m for m in messages)
    assert any(
        "ls_kh226_2021__digital_economy_grdp_share__province): a 'between' target needs" in m
        for m in messages
    )


@pytest.mark.slow
def test_a_bad_edit_stops_the_run_before_dbt_and_names_the_row(settings, seeds_copy):
    import dataclasses

    from chiso.pipeline import stage_build

    project = Path(shutil.copytree(PROJECT_ROOT / "dbt_project", settings.data_dir / "dbt_p"))
    shutil.rmtree(project / "seeds")
    shutil.copytree(seeds_copy, project / "seeds")
    _edit(
        project / "seeds" / "targets.csv",
        ",district,>=,80,,2022-12-31,",
        ",district,>=,abc,,2022-12-31,",
    )
    bad = dataclasses.replace(settings, dbt_project_dir=project)
    with pytest.raises(CatalogError) as error:
        stage_build(bad, "2025-06", "run")
    assert re.search(
        r"targets\.csv line \d+ \(ls_ct04_2022__work_record_online_rate__district\): "
        r"target_value 'abc' is not a number",
        str(error.value),
    )


def test_every_status_pillar_and_group_the_marts_write_has_a_label():
    """The report labels each code from seeds/labels.csv: a code without a label there
    would stop the monthly report."""
    import yaml

    from warehouse import reference

    models = PROJECT_ROOT / "dbt_project" / "models" / "marts" / "progress"
    spec = yaml.safe_load((models / "_progress__models.yml").read_text(encoding="utf-8"))
    progress = next(m for m in spec["models"] if m["name"] == "target_progress")
    status = next(c for c in progress["columns"] if c["name"] == "status")
    accepted = next(t for t in status["data_tests"] if isinstance(t, dict))
    assert set(accepted["accepted_values"]["arguments"]["values"]) == set(
        reference.labels("status")
    )
    pillars = {row["pillar"] for row in read_seed(SEEDS, "indicators")}
    assert pillars <= set(reference.labels("pillar"))
    groups = {row["unit_group"] for row in read_seed(SEEDS, "reporting_calendar")}
    assert groups <= set(reference.labels("unit_group"))


def test_a_province_target_on_a_population_names_the_department_that_reports_it(seeds_copy):
    targets = seeds_copy / "targets.csv"
    assert "household_digital_address_rate__province" in targets.read_text(encoding="utf-8")
    _edit(
        targets,
        ",2025-12-31,STTTT,c) Phát triển xã hội số,Tỷ lệ hộ gia đình",
        ",2025-12-31,,c) Phát triển xã hội số,Tỷ lệ hộ gia đình",
    )
    _edit(targets, ",SCT,", ",SXX,")
    messages = [str(p) for p in validate(seeds_copy)]
    assert any(
        "ls_kh226_2021__household_digital_address_rate__province): a province target on a "
        "population needs its responsible_unit" in m
        for m in messages
    )
    assert any("responsible_unit 'SXX' is not a department of province 20" in m for m in messages)


def test_every_dbt_unit_test_name_fits_a_postgresql_identifier():
    import yaml

    names = [
        test["name"]
        for path in (PROJECT_ROOT / "dbt_project" / "models").rglob("*.yml")
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])
    ]
    assert names and [name for name in names if len(name) > 63] == []  # PostgreSQL's limit
