from datetime import date, datetime

import pytest

from ingest.parsing import (
    ParseError,
    normalize_label,
    parse_date,
    parse_number,
    parse_period,
)
from warehouse.periods import PeriodError, check_period


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.234,5", 1234.5),
        ("1.234", 1234.0),
        ("1.234.567", 1234567.0),
        ("85,5%", 85.5),
        ("85%", 85.0),
        ("85.5", 85.5),
        ("1,234,567", 1234567.0),
        ("1,234.5", 1234.5),
        (" 2\u00a0154 ", 2154.0),
        (42, 42.0),
        (12.5, 12.5),
        ("", None),
        (None, None),
        ("-", None),
    ],
)
def test_parse_number_reads_vietnamese_and_plain_formats(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "12a", "1..2", True])
def test_parse_number_rejects_non_numbers_in_both_languages(raw):
    with pytest.raises(ParseError) as info:
        parse_number(raw)
    assert "không phải là số" in str(info.value)
    assert "is not a number" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06/2025", "2025-06"),
        ("6/2025", "2025-06"),
        ("T6/2025", "2025-06"),
        ("Tháng 6/2025", "2025-06"),
        ("2025-06", "2025-06"),
        (datetime(2025, 6, 1), "2025-06"),
    ],
)
def test_parse_period(raw, expected):
    assert parse_period(raw) == expected


@pytest.mark.parametrize("raw", ["13/2025", "2025", "", "06-25"])
def test_parse_period_rejects_bad_months(raw):
    with pytest.raises(ParseError, match="period"):
        parse_period(raw)


def test_check_period_is_strict():
    assert check_period("2025-06") == "2025-06"
    for bad in ("2025-6", "2025-13", "06/2025", "2025-06-01"):
        with pytest.raises(PeriodError, match="YYYY-MM"):
            check_period(bad)


def test_a_parse_error_carries_both_languages_apart_even_with_a_semicolon_in_the_cell():
    """The message is typed (vi, en), never one string split on "; " again: a cell value
    holding "; " stays whole in both languages."""
    with pytest.raises(ParseError) as info:
        parse_number("12; 5")
    assert info.value.vi == "'12; 5' không phải là số"
    assert info.value.en == "'12; 5' is not a number"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05/07/2025", date(2025, 7, 5)),
        ("2025-07-05", date(2025, 7, 5)),
        (45843, date(2025, 7, 5)),
        (datetime(2025, 7, 5, 8, 30), date(2025, 7, 5)),
        ("", None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_parse_date_rejects_impossible_dates():
    with pytest.raises(ParseError, match="dd/mm/yyyy"):
        parse_date("31/02/2025")


def test_normalize_label_ignores_accents_case_and_gloss():
    assert normalize_label("Mã đơn vị (unit code)") == "ma don vi"
    assert normalize_label("  MÃ ĐƠN VỊ ") == "ma don vi"
