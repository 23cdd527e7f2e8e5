from __future__ import annotations

from datetime import date, datetime

import pytest

from cuiban.workflow import cells


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42719, date(2016, 12, 15)),  # Excel serial
        (datetime(2016, 12, 15, 0, 0), date(2016, 12, 15)),
        ("2016/12/15", date(2016, 12, 15)),
        ("2016.12.15", date(2016, 12, 15)),
        ("2016-12-15", date(2016, 12, 15)),
        ("２０１６－１２－１５", date(2016, 12, 15)),  # full-width
        ("20161215", date(2016, 12, 15)),
        ("1980年5月", date(1980, 5, 1)),
    ],
)
def test_dates(value: object, expected: date) -> None:
    assert cells.calendar_date(value) == expected


@pytest.mark.parametrize("value", ["2016-13-01", "2016-02-30", "next week", "12/15/2016"])
def test_bad_dates(value: str) -> None:
    with pytest.raises(cells.CellError):
        cells.calendar_date(value)


def test_identifiers_keep_leading_zeros_and_refuse_excel_numbers() -> None:
    assert cells.identifier(" ０１００２３ ") == "010023"
    with pytest.raises(cells.CellError, match="leading zeros"):
        cells.identifier(10023)
    with pytest.raises(cells.CellError, match="scientific notation"):
        cells.identifier("1.00023E+5")


@pytest.mark.parametrize("good", ["11010519491231002X", "11010519491231002x", "440524188001010014"])
def test_id_card_check_digit(good: str) -> None:
    assert cells.id_card(good) == good.upper()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("1101051949123100", "17 digits"),
        (110105194912310020, "15 digits"),
    ],
)
def test_bad_id_cards(bad: object, reason: str) -> None:
    with pytest.raises(cells.CellError, match=reason):
        cells.id_card(bad)


def test_months_yes_no_gender_and_masking() -> None:
    assert cells.months("36") == 36 and cells.months(12.0) == 12 and cells.months("无固定期限") == 999
    assert cells.yes_no("是") == "是" and cells.yes_no("N") == "否"
    assert cells.gender(" 男 ") == "男"
    assert cells.masked("id_card", "11010519491231002X") == "11**************2X"
    assert cells.masked("name", "张三") == "张三"
    assert cells.clean(" 张\r\n三\t ") == "张 三"
