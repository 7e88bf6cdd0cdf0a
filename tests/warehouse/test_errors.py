"""One error family: every error chiso raises on purpose is a ChisoError, and the CLI prints
it in one place (no traceback); anything else is a bug, printed with its traceback."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from chiso.cli import main
from warehouse.errors import EXIT_BUG, EXIT_USAGE, BilingualError, ChisoError

RUNTIME = ("chiso", "ingest", "expectations", "warehouse")
# not errors: signals a DAG task turns into a skip (nothing new loaded, not due yet)
SIGNALS = {"NothingNew", "NotDueYet"}


def _modules():
    for package in RUNTIME:
        root = importlib.import_module(package)
        yield root
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if info.name.endswith("__main__"):
                continue
            yield importlib.import_module(info.name)


def test_every_error_chiso_defines_is_a_chiso_error():
    defined = {
        (module.__name__, name): value
        for module in _modules()
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
    }
    assert len(defined) > 20
    outside = [
        f"{module}.{name}"
        for (module, name), value in defined.items()
        if not issubclass(value, ChisoError) and name not in SIGNALS
    ]
    assert not outside, f"errors outside the family: {outside}"


def test_a_bilingual_error_says_both_languages_and_its_cell():
    error = BilingualError("không phải là số", "is not a number", cell="C9")
    assert isinstance(error, ChisoError) and isinstance(error, ValueError)
    assert str(error) == "Ô C9: không phải là số; cell C9: is not a number"
    assert (error.vi, error.en) == ("không phải là số", "is not a number")


def test_a_chiso_error_is_printed_once_without_a_traceback(settings, capsys):
    assert main(["snapshot", "diff", "2025-09"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == "error: chiso snapshot diff needs two months: OLDER NEWER\n"


def test_a_bad_setting_is_a_usage_error(settings, monkeypatch, capsys):
    monkeypatch.setenv("CHISO_TIMEZONE", "Asia/Nowhere")
    assert main(["status"]) == EXIT_USAGE
    assert "CHISO_TIMEZONE='Asia/Nowhere': give an IANA time zone" in capsys.readouterr().err


def test_anything_else_is_a_bug_with_its_traceback_and_a_request_to_report_it(
    settings, monkeypatch, capsys
):
    from chiso.cli import publication

    def broken(args):
        raise KeyError("sheet")

    monkeypatch.setattr(publication, "cmd_export", broken)
    assert main(["export", "--out", "x"]) == EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError: 'sheet'" in err
    assert "a bug in chiso" in err and "Please report it" in err


@pytest.mark.parametrize("argv", [["calendar", "remind", "--on", "2025-13-01"]])
def test_a_malformed_day_is_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_USAGE
    assert "give a day as YYYY-MM-DD, got '2025-13-01'" in capsys.readouterr().err
