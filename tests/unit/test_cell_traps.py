"""Cells that look like something they are not: 1904 date numbers, TRUE, serial 1, dates before 1900,
formulas never computed, and TRUE == 1 in the validator's memory of values it has parsed."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cuiban.workflow import cells
from cuiban.workflow.roster import RosterValidator

FORMULA = cells.FormulaWithoutValue("Sheet1!D7", "DATE(1980,5,1)")


def test_a_date_number_counts_from_the_workbooks_epoch() -> None:
    assert cells.calendar_date(27880) == date(1976, 4, 30)
    assert cells.calendar_date(27880, cells.EXCEL_EPOCH_1904) == date(1980, 5, 1)
    assert cells.year_month(27880, cells.EXCEL_EPOCH_1904) == "1980-05"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "TRUE is a yes/no value, not a date"),
        (False, "FALSE is a yes/no value, not a date"),
        (1, "the number 1 is not a date anyone means"),
        (60.0, "the number 60 is not a date anyone means"),
        ("1899-12-31", "1899-12-31 is before 1900"),
        ("1850年3月", "1850-03-01 is before 1900"),
        (datetime(1899, 12, 30), "1899-12-30 is before 1900"),
        (FORMULA, "Sheet1!D7 is a formula whose value was never computed"),
    ],
)
def test_what_is_no_date_is_refused_with_its_reason(value: object, reason: str) -> None:
    with pytest.raises(cells.CellError, match=reason.replace("(", r"\(")):
        cells.calendar_date(value)


def test_a_formula_is_refused_wherever_it_is_used_and_reads_as_its_text() -> None:
    for parse in (cells.identifier, cells.id_card, cells.months, cells.phone):
        with pytest.raises(cells.CellError, match="Sheet1!D7 is a formula"):
            parse(FORMULA)
    assert cells.clean(FORMULA) == "=DATE(1980,5,1)"


def test_true_is_not_remembered_as_1(minimal_plan) -> None:
    plan, _ = minimal_plan
    columns = {"staff_id": 0, "name": 1, "department": 2, "contract_months": 3}
    validator = RosterValidator(plan, columns)
    _, problems = validator.check(2, ["000001", "甲", "甲学院", True])
    assert [p.reason for p in problems] == ["a contract length is a whole number of months, or 无固定期限"]
    record, problems = validator.check(3, ["000002", "乙", "甲学院", 1])
    assert problems == [] and record is not None and record.values["contract_months"] == 1
    _, problems = validator.check(4, ["000003", "丙", "甲学院", True])
    assert len(problems) == 1
