"""The words office staff read when a file or a plan is refused, in Chinese and in English.

A problem is found as a structured value (`Words`: a message id and its fields: file, row,
column, value, a nested reason) where it is found, and put into words only at the edge, in
the plan's language (`say`): the command line and the web pages say the same sentences.
Fields are shown exactly as given in both languages (a file name, a row number, a cell's
value), so that a problem reads the same place in either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("zh", "en")

CATALOGUE: dict[str, tuple[str, str]] = {
    # ── a cell of a roster or a status export ──
    "cell.required": ("此处必须填写", "a value is required here"),
    "cell.id_as_number": (
        "Excel 把这个编号存成了数字，开头的 0 可能已经丢失；请把这一列设为「文本」格式后重新填写",
        "Excel stored this ID as a number, so leading zeros may be lost; "
        "format the column as text (文本) and enter the IDs again",
    ),
    "cell.id_scientific": (
        "Excel 把这个编号变成了科学计数法，部分数字已经丢失；请把这一列设为「文本」格式后重新填写",
        "this ID was turned into scientific notation by Excel; digits are lost",
    ),
    "cell.id_card_as_number": (
        "Excel 把身份证号存成了数字，只保留了 15 位有效数字；请把这一列设为「文本」格式",
        "Excel stored this ID-card number as a number, which keeps only 15 digits; "
        "format the column as text (文本)",
    ),
    "cell.id_card_shape": (
        "身份证号应为 17 位数字加 1 位校验码（0-9 或 X）",
        "an ID-card number has 17 digits and a check digit (0-9 or X)",
    ),
    "cell.id_card_check": (
        "校验码对不上，有数字输错了",
        "the check digit does not match: a digit was mistyped",
    ),
    "cell.date_yes_no": (
        "{value} 是「是/否」类的值，不是日期；请填写日期本身",
        "{value} is a yes/no value, not a date; enter the date itself",
    ),
    "cell.date_out_of_range": ("不是 Excel 能保存的日期", "not a date Excel could store"),
    "cell.date_small_number": (
        "数字 {number} 不像是日期（Excel 把 1 当作 1900-01-01；这里是不是误填了数字或 TRUE？）；"
        "请填写日期本身",
        "the number {number} is not a date anyone means (Excel counts 1 as 1900-01-01; "
        "was a number or TRUE typed here?); enter the date itself",
    ),
    "cell.not_date": ("不是日期；请写成 2016-12-15 这样的格式", "not a date; write it like 2016-12-15"),
    "cell.not_real_date": ("日历上没有这一天", "not a real calendar date"),
    "cell.before_1900": (
        "{day} 早于 1900 年，这里不可能是这个日期；请填写真实的日期",
        "{day} is before 1900, which cannot be right here; enter the real date",
    ),
    "cell.months_whole": ("合同期限应为整数个月", "a contract length is a whole number of months"),
    "cell.months_or_open": (
        "合同期限应为整数个月，或填写「无固定期限」",
        "a contract length is a whole number of months, or 无固定期限",
    ),
    "cell.yes_no": ("请填写「是」或「否」", "write 是 or 否"),
    "cell.gender": ("请填写「男」或「女」", "write 男 or 女"),
    "cell.email": ("不是有效的电子邮箱地址", "not an email address"),
    "cell.phone": ("不是有效的电话号码", "not a phone number"),
    "cell.formula": (
        "{cell} 是公式，但它的计算结果从未保存；请用 Excel 或 WPS 打开文件，让它重新计算并保存后再导入",
        "{cell} is a formula whose value was never computed and saved; open the file in "
        "Excel or WPS, let it calculate, save it and import it again",
    ),
    "cell.unknown_department": ("不是计划中的部门", "unknown department"),
    "cell.unknown_department_close": (
        "不是计划中的部门；最接近的有：{close}",
        "unknown department; closest known: {close}",
    ),
    "cell.duplicate_staff_id": (
        "工号重复（第一次出现在第 {first} 行）",
        "duplicate staff ID (first on row {first})",
    ),
    "cell.unknown_status": ("不是可识别的状态（可识别的有：{known}）", "unknown status (known: {known})"),
    # ── a file refused row by row ──
    "file.row_problem": (
        "{file}：第 {row} 行「{column}」列的值「{value}」：{reason}",
        "{file}: row {row}, column {column}: {value!r}: {reason}",
    ),
    "file.row_problem_empty": (
        "{file}：第 {row} 行「{column}」列为空：{reason}",
        "{file}: row {row}, column {column}: {value!r}: {reason}",
    ),
    "file.rejected": (
        "{file}：共 {count} 处问题，未写入任何数据。",
        "{file}: {count} problem(s); nothing was written.",
    ),
    # ── a file that cannot be read as a table ──
    "file.missing": ("{file}：文件不存在", "{file}: the file does not exist"),
    "file.suffix": (
        "{file}：文件应为 {suffixes} 之一，而不是 {suffix}",
        "{file}: expected one of {suffixes}, not {suffix}",
    ),
    "file.no_suffix": (
        "{file}：文件应为 {suffixes} 之一，而它没有扩展名",
        "{file}: expected one of {suffixes}, not no suffix",
    ),
    "file.bad_byte": (
        "{file}：第 {row} 行有一个既不是 UTF-8 也不是 GBK/GB18030 的字节（按 {meant} 读取时，第 {offset} "
        "字节处的 0x{byte}）；请修改或重新输入这一行，或把文件另存为 UTF-8 或 GBK 编码",
        "{file}: row {row} has a byte that is neither UTF-8 nor GBK/GB18030 (0x{byte} at byte "
        "offset {offset}, reading the file as {meant}); fix or retype that row, or save the file "
        "again as UTF-8 or GBK",
    ),
    "file.not_xlsx": (
        "{file}：不是可读取的 .xlsx 工作簿（{detail}）",
        "{file}: not a readable .xlsx workbook ({detail})",
    ),
    "file.not_xls": (
        "{file}：不是可读取的 .xls 工作簿（{detail}）",
        "{file}: not a readable .xls workbook ({detail})",
    ),
    # ── the header row ──
    "header.place": ("{letter} 列（第 {number} 列）", "{letter} (no. {number})"),
    "header.twice": (
        "{file}：第 {row} 行的表头「{header}」出现在 {count} 列：{places}和{last}；"
        "请只保留其中一列，以免不知道该读哪一列",
        "{file}: row {row}: the header {header} is in {count} columns, {places} and {last}; "
        "keep one of them, so that it is clear which to read",
    ),
    "header.none": (
        "{file}：前 {rows} 行中没有含 {names} 这些列的表头行",
        "{file}: no header row with the columns {names} in the first {rows} rows",
    ),
    "header.missing_close": (
        "{file}：表头行（第 {row} 行）没有「{header}」列；最接近的是 {place}的「{close}」，"
        "如果就是这一列，请把它改名为「{header}」",
        "{file}: the header row (row {row}) has no column {header}; the closest header there is {close} in "
        "column {place}: rename it to {header} if that is the column",
    ),
    "header.missing": (
        "{file}：表头行（第 {row} 行）没有「{header}」列；"
        "请补上这一列，或在计划的 columns 中写上文件实际使用的表头",
        "{file}: the header row (row {row}) has no column {header}; add the column, or map the header "
        "the file uses under the plan's columns",
    ),
    # ── refusals of a roster import or a status export as a whole ──
    "roster.too_many_missing": (
        "{file}：现有 {current} 条记录中有 {missing} 条（{share}）不在这份名单里，超过了 --mark-missing-left "
        "在不加 --force 时最多标为离职的 {limit}；未写入任何数据（请确认这是完整的名单，或加上 --force）",
        "{file}: {missing} of the {current} current records ({share}) are missing from this roster, "
        "more than the {limit} that --mark-missing-left marks as left without --force; nothing was written "
        "(check that this is the whole roster, or add --force)",
    ),
    "sync.no_section": (
        "计划中没有 `sync` 部分，无法知道导出文件中该读哪些列和状态",
        "the plan has no `sync` section saying which columns and statuses to read",
    ),
    "sync.empty": (
        "{file}：导出文件只有表头（第 {row} 行），没有教师数据；未做任何更改（请重新下载导出文件）",
        "{file}: the export has its header (row {row}) but no rows of teachers; nothing was applied "
        "(download the export again)",
    ),
    "sync.stale": (
        "{file} 的数据时间是 {as_of}，早于 {applied} 已导入的 {newest_file}，后者的数据时间是 {newest}。"
        "以较新的导出为准，本次未做任何更改；"
        "如果文件时间不对，请用 --as-of 指定，确需导入较旧的文件请加 --force",
        "{file} is as of {as_of}, older than {newest_file} (applied {applied}), which is as of {newest}: "
        "the newer export stands and nothing was applied (give --as-of if the file's time is wrong, or "
        "--force to apply the older one anyway)",
    ),
    "sync.as_of_name": ("{moment}（文件名中的日期）", "{moment} (the date in its name)"),
    "sync.as_of_option": ("{moment}（--as-of 指定）", "{moment} (--as-of)"),
    "sync.as_of_modified": ("{moment}（文件的修改时间）", "{moment} (its modification time)"),
}

SEPARATOR = {"zh": "、", "en": ", "}
"""How a list field is joined."""


@dataclass(frozen=True)
class Words:
    """A message not yet put into words: its id and fields (values, lists, or nested Words)."""

    id: str
    fields: tuple[tuple[str, Any], ...] = ()

    def say(self, language: str) -> str:
        return say(language, self.id, **dict(self.fields))

    def replaced(self, old: str, new: str) -> Words:
        """The same words with every field equal to `old` (a staged file's path) as `new` (its name)."""
        return Words(self.id, tuple((k, _replaced(v, old, new)) for k, v in self.fields))

    def __str__(self) -> str:
        return self.say("en")


def words(message: str, **fields: Any) -> Words:
    """The message `message` with its fields; an id not in the catalogue is a programming error."""
    if message not in CATALOGUE:
        raise KeyError(f"no message {message!r} in the catalogue")
    return Words(message, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in fields.items()))


def say(language: str, message: str, **fields: Any) -> str:
    """The message `message` in `language` (zh unless en), its fields filled in."""
    language = "en" if language == "en" else "zh"
    template = CATALOGUE[message][1 if language == "en" else 0]
    return template.format(**{k: _shown(v, language) for k, v in fields.items()})


def said(items: Iterable[Words], language: str) -> list[str]:
    return [item.say(language) for item in items]


def _shown(value: Any, language: str) -> Any:
    if isinstance(value, Words):
        return value.say(language)
    if isinstance(value, tuple):
        return SEPARATOR[language].join(str(_shown(v, language)) for v in value)
    return value


def _replaced(value: Any, old: str, new: str) -> Any:
    if isinstance(value, Words):
        return value.replaced(old, new)
    if isinstance(value, str):
        return value.replace(old, new)
    return value
