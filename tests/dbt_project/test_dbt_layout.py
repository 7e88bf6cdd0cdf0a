"""The dbt project's shape, read from its files: marts present what intermediate models
compute, so no model is long or joins much, a mart never reads a source, and every model
names what it reads first, in import CTEs (``name as (select * from {{ ref(...) }})``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "dbt_project" / "models"
MAX_LINES, MAX_JOINS = 150, 7
IMPORT = re.compile(r"^\s+select \* from \{\{ (ref|source)\([^)]*\) \}\}\s*$")
MACRO_ARGUMENT = re.compile(r"\{\{ \w+\((ref|source)\(")  # months_that_differ(source(...))


def problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    code = re.sub(r"--[^\n]*|\{#.*?#\}", "", text, flags=re.S)
    found = []
    if len(text.splitlines()) > MAX_LINES:
        found.append(f"{len(text.splitlines())} lines (at most {MAX_LINES})")
    joins = len(re.findall(r"\bjoin\b", code, flags=re.I))
    if joins > MAX_JOINS:
        found.append(f"{joins} joins (at most {MAX_JOINS})")
    if "marts" in path.relative_to(MODELS).parts and "source(" in code:
        found.append("a mart reads a source (read its staging model)")
    for line in code.splitlines():
        if re.search(r"\b(ref|source)\(", line) and not (
            IMPORT.match(line) or MACRO_ARGUMENT.search(line)
        ):
            found.append(f"reads mid-query: {line.strip()}")
    return found


def test_every_model_is_short_joins_little_and_imports_first():
    wrong = [
        f"{path.relative_to(ROOT)}: {'; '.join(found)}"
        for path in sorted(MODELS.rglob("*.sql"))
        if (found := problems(path))
    ]
    assert wrong == [], "split into intermediate models, import first:\n" + "\n".join(wrong)


def test_the_layout_check_sees_a_long_model_a_mart_on_a_source_and_a_late_ref(tmp_path):
    mart = tmp_path / "marts" / "bad.sql"
    mart.parent.mkdir()
    joins = "\n".join("    inner join b using (k)" for _ in range(8))
    mart.write_text(
        "with a as (\n\n    select * from {{ source('raw', 'x') }}\n\n)\n"
        f"select * from a\n{joins}\n    left join {{{{ ref('y') }}}} as y using (k)\n" + "\n" * 150,
        encoding="utf-8",
    )
    global MODELS
    saved, MODELS = MODELS, tmp_path
    try:
        found = problems(mart)
    finally:
        MODELS = saved
    assert any("lines" in f for f in found) and any("9 joins" in f for f in found)
    assert any("a mart reads a source" in f for f in found)
    assert any("reads mid-query" in f for f in found)


def test_every_mart_is_named_by_the_one_rule():
    """docs/MARTS.md, "Names": a mart that describes things (folders reference/ and
    geography/) is dim_<thing>; every other holds figures, named for them, no prefix. A
    renamed mart's old name is published as a view until its release, and the docs say so."""
    from warehouse.backends.base import RENAMED_MARTS

    marts = {path.stem: path.parent.name for path in (MODELS / "marts").rglob("*.sql")}
    wrong = [
        f"{name} ({folder}/)"
        for name, folder in sorted(marts.items())
        if (folder in ("reference", "geography")) != name.startswith("dim_")
        or re.match(r"(fct|agg|rpt|mart|stg|int|base)_", name)
    ]
    assert wrong == [], "rename by docs/MARTS.md, 'Names':\n" + "\n".join(wrong)
    docs = (ROOT / "docs" / "MARTS.md").read_text(encoding="utf-8")
    for old, new in RENAMED_MARTS.items():
        assert old not in marts and new in marts, (old, new)
        assert f"`{old}` → `{new}`" in docs, old
