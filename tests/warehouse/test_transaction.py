"""The one way chiso writes statements that must land together (warehouse.transaction)."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from warehouse.transaction import transaction

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def conn():
    connection = duckdb.connect()
    connection.execute("create table t (n integer)")
    yield connection
    connection.close()


def test_the_block_lands_whole(conn):
    with transaction(conn):
        conn.execute("insert into t values (1)")
        conn.execute("insert into t values (2)")
    assert conn.execute("select count(*) from t").fetchone()[0] == 2


@pytest.mark.parametrize("error", [ValueError("bad row"), KeyboardInterrupt()])
def test_any_error_rolls_the_block_back_and_goes_on(conn, error):
    with pytest.raises(type(error)), transaction(conn):
        conn.execute("insert into t values (1)")
        raise error
    assert conn.execute("select count(*) from t").fetchone()[0] == 0
    with transaction(conn):  # the connection is usable again
        conn.execute("insert into t values (3)")
    assert conn.execute("select n from t").fetchall() == [(3,)]


def test_the_blocks_error_is_the_one_raised_when_the_rollback_fails_too():
    class Dead:
        def execute(self, sql):
            if sql == "rollback":
                raise ConnectionError("server closed the connection")

    with pytest.raises(ValueError, match="bad row"), transaction(Dead()):
        raise ValueError("bad row")


def test_no_module_writes_its_own_transaction():
    """Hand-written begin/commit/rollback blocks forget the rollback; the helper does not
    (a read-only snapshot transaction, which ends with its connection, is not a write)."""
    wrong = []
    for package in ("chiso", "ingest", "expectations", "warehouse"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "warehouse" / "transaction.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "execute"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).strip().lower()
                    in ("begin transaction", "commit", "rollback")
                ):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not wrong, "use warehouse.transaction.transaction:\n" + "\n".join(wrong)
