"""Property-based tests: the number parser round-trips; the reader never crashes."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.parsing import ParseError, parse_number
from ingest.sources.unit_files import read_report
from ingest.template import vn_number

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.integers(min_value=0, max_value=10**12))
def test_whole_numbers_round_trip_through_the_vietnamese_format(number):
    assert parse_number(vn_number(number)) == number
    assert parse_number(str(number)) == number


@FAST
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=9))
def test_one_decimal_numbers_round_trip(whole, tenth):
    number = whole + tenth / 10
    assert abs(parse_number(vn_number(number)) - number) < 1e-6
    assert abs(parse_number(vn_number(number) + "%") - number) < 1e-6


@FAST
@given(st.text(max_size=30))
def test_the_parser_returns_a_number_or_a_clear_error(text):
    try:
        result = parse_number(text)
    except ParseError as error:
        assert "is not a number" in str(error)
    else:
        assert result is None or isinstance(result, float)


def _read(data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"report{suffix}"
        path.write_bytes(data)
        return read_report(path)


@FAST
@given(st.binary(max_size=4000), st.sampled_from([".csv", ".xlsx"]))
def test_the_reader_accepts_or_rejects_random_bytes_without_crashing(data, suffix):
    report = _read(data, suffix)
    assert report.errors, "random bytes are never a valid report"
    assert all(problem.message_vi and problem.message_en for problem in report.problems)


@FAST
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(
                    [
                        "Mã chỉ tiêu",
                        "Tử số",
                        "Mẫu số",
                        "Mã đơn vị",
                        "Kỳ báo cáo",
                        "1.234,5",
                        "work_record_online_rate",
                    ]
                ),
            ),
            max_size=8,
        ),
        max_size=15,
    ),
    st.sampled_from([";", ","]),
)
def test_the_reader_survives_random_tables(rows, delimiter):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    report = _read(buffer.getvalue().encode("utf-8"), ".csv")
    for problem in report.problems:
        assert problem.message_vi and problem.message_en
        assert problem.cell is None or re.fullmatch(r"[A-Z]+[1-9]\d*", problem.cell)
