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
    # ── what an import or a sync did (the command line's summary) ──
    "done.dry_run": ("试运行，未写入任何数据：", "dry run, nothing written: "),
    "done.listed": ("{title}（{count}）：", "{title} ({count}):"),
    "done.more": ("  ……另有 {count} 条", "  … and {count} more"),
    "roster.summary": (
        "{prefix}共 {rows} 行：新导入 {imported}，排除 {excluded}，更新 {updated}，未变 {unchanged}，"
        "重新纳入范围 {included}，重新入职 {rejoined}，标为离职 {marked_left}",
        "{prefix}{rows} rows: {imported} imported, {excluded} excluded, {updated} updated, {unchanged} "
        "unchanged, {included} back in scope, {rejoined} rejoined, {marked_left} marked left",
    ),
    "roster.missing": ("不在这份名单中", "missing from this roster"),
    "roster.missing_hint": (
        "不在这份名单中（可用 --mark-missing-left 标为离职）",
        "missing from this roster (use --mark-missing-left)",
    ),
    "roster.kept_title": ("已不在采集范围但保持不变", "out of scope but kept"),
    "sync.summary": (
        "{prefix}共 {rows} 行：变更 {changed}（记录 {steps} 步），未变 {unchanged}，"
        "冲突 {conflicts}，未知 {unknown}",
        "{prefix}{rows} rows: {changed} changed ({steps} steps logged), {unchanged} unchanged, "
        "{conflicts} conflicts, {unknown} unknown",
    ),
    "sync.conflicts_title": ("冲突，未应用", "conflicts, not applied"),
    "sync.unknown_title": ("未知工号", "unknown staff IDs"),
    # ── refusals of a roster import or a status export as a whole ──
    "roster.too_many_missing": (
        "{file}：现有 {current} 条记录中有 {missing} 条（{share}）不在这份名单里，超过了 --mark-missing-left "
        "在不加 --force 时最多标为离职的 {limit}；未写入任何数据（请确认这是完整的名单，或加上 --force）",
        "{file}: {missing} of the {current} current records ({share}) are missing from this roster, "
        "more than the {limit} that --mark-missing-left marks as left without --force; nothing was written "
        "(check that this is the whole roster, or add --force)",
    ),
    "roster.kept": (
        "{staff_id}：已不在采集范围（{rule}），但已经是「{state}」，保持不变",
        "{staff_id}: out of scope ({rule}) but already {state}",
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
    "sync.conflict": (
        "第 {row} 行：{staff_id} 目前是「{current}」，按流程无法变为「{target}」",
        "row {row}: {staff_id} is {current}; no legal path to {target}",
    ),
    "sync.unknown_id": ("第 {row} 行：{staff_id}", "row {row}: {staff_id}"),
    "sync.as_of_name": ("{moment}（文件名中的日期）", "{moment} (the date in its name)"),
    "sync.as_of_option": ("{moment}（--as-of 指定）", "{moment} (--as-of)"),
    "sync.as_of_modified": ("{moment}（文件的修改时间）", "{moment} (its modification time)"),
    # ── the plan (plan check): where a problem is ──
    "plan.problem": ("{file}:{line}:{column}: {severity}: {path}: {message}",
                     "{file}:{line}:{column}: {severity}: {path}: {message}"),
    "plan.error": ("错误", "error"),
    "plan.warning": ("警告", "warning"),
    "plan.has_errors": (
        "{file}：共 {count} 处错误，未做任何操作。",
        "{file}: {count} error(s); nothing done.",
    ),
    "plan.invalid": (
        "{file}：计划有 {count} 处错误，未做任何操作。",
        "{file}: the plan has {count} error(s); nothing was done.",
    ),
    "plan.file_missing": ("计划文件不存在", "the plan file does not exist"),
    "plan.not_utf8": ("计划文件不是 UTF-8 文本", "the plan file is not UTF-8 text"),
    "plan.not_mapping": ("计划必须是「键: 值」的映射", "the plan must be a mapping of keys"),
    # ── the plan: its YAML ──
    "yaml.invalid": ("这不是有效的 YAML：{problem}", "this is not valid YAML: {problem}"),
    "yaml.too_deep": (
        "这里的值嵌套超过了 {depth} 层；计划只需要几层",
        "values are nested more than {depth} levels deep here; a plan needs a few",
    ),
    "yaml.empty": ("文件是空的", "the file is empty"),
    "yaml.key_not_text": ("键必须是普通文字", "a key must be plain text"),
    "yaml.merge_key": (
        "不支持合并键（<<）；请把各个键完整写出",
        "merge keys (<<) are not supported; write the keys out",
    ),
    "yaml.duplicate_key": (
        "键「{key}」重复（第一次出现在第 {first} 行）",
        "duplicate key {key!r} (first given on line {first})",
    ),
    "yaml.alias": (
        "计划中不允许使用别名（*{anchor}）；请把值完整写出",
        "aliases (*{anchor}) are not allowed in a plan; write the value out in full",
    ),
    "yaml.anchor": (
        "计划中不允许使用锚点（&{anchor}）；请把每个值完整写出",
        "anchors (&{anchor}) are not allowed in a plan; write each value out in full",
    ),
    "yaml.tag": (
        "计划中不允许使用 YAML 标签 {tag}（计划只是普通数据；"
        "这类标签会让其他 YAML 工具创建对象或执行代码）；请删除",
        "the YAML tag {tag} is not allowed in a plan (a plan is plain data; tags like this make other YAML "
        "tools build objects or run code); remove it",
    ),
    "yaml.yes_no": (
        "「{text}」在 YAML 1.1 中是布尔值，在 YAML 1.2 中却是文字；"
        "请写 true 或 false，如果指的是文字，请加上引号（'{text}'）",
        "{text!r} means a boolean in YAML 1.1 but text in YAML 1.2; write true or false, or put it in quotes "
        "('{text}') if you mean the text",
    ),
    "yaml.leading_zero": (
        "{text} 看起来是以 0 开头或带进制前缀的数字（YAML 1.1 会把 012345 当作八进制数）；"
        "如果它是工号之类的编号，请加上引号（'{text}'），否则请去掉前缀",
        "{text} looks like a number written with a leading zero or a base prefix (YAML 1.1 reads 012345 as "
        "an octal number); put it in quotes ('{text}') if it is an identifier such as a staff ID, or drop "
        "the prefix",
    ),
    "yaml.base_60": (
        "YAML 1.1 会把 {text} 当作六十进制数；时刻请加引号并把小时写成两位（'{hint}'）",
        "YAML 1.1 reads {text} as a base-60 number; write a time of day in quotes with two-digit hours "
        "('{hint}')",
    ),
    "yaml.not_real_date": ("{text} 不是日历上真实存在的日期", "{text} is not a real calendar date"),
    "yaml.not_datetime": ("{text} 不是 ISO 8601 格式的日期时间", "{text} is not an ISO 8601 datetime"),
    "yaml.no_offset": (
        "{text} 没有时区偏移；请写成例如 {text}+08:00",
        "{text} has no timezone offset; write e.g. {text}+08:00",
    ),
    # ── the plan: types ──
    "type.key_not_allowed": ("「{key}」不是这里允许的键", "{key!r} is not a key allowed here"),
    "type.missing": ("这里必须有 `{key}` 这个键", "the key `{key}` is required here"),
    "type.unknown_key": ("未知的键 `{key}`", "unknown key `{key}`"),
    "type.unknown_key_close": (
        "未知的键 `{key}`；是不是想写 `{close}`？",
        "unknown key `{key}`; did you mean `{close}`?",
    ),
    "type.unknown_key_allowed": (
        "未知的键 `{key}`；这里允许的有：{allowed}",
        "unknown key `{key}`; allowed here: {allowed}",
    ),
    "type.expected": ("这里应为{expected}，实际是{got}", "expected {expected}, got {got}"),
    "type.expected_one_of": ("这里应为 {choices} 之一，实际是「{got}」", "expected {expected}, got {got!r}"),
    "type.not_empty": ("不能为空", "must not be empty"),
    "type.time_of_day": (
        "「{value}」不是按 HH:MM 写的时刻，例如 \"08:30\"",
        "{value!r} is not a time of day written as HH:MM, e.g. \"08:30\"",
    ),
    "type.email": ("「{value}」不是电子邮箱地址", "{value!r} is not an email address"),
    "type.at_least": ("至少应为 {limit}，实际是 {got}", "must be at least {limit}, got {got}"),
    "type.at_most": ("至多应为 {limit}，实际是 {got}", "must be at most {limit}, got {got}"),
    "type.text": ("文字", "text"),
    "type.whole_number": ("整数", "a whole number"),
    "type.number": ("数字", "a number"),
    "type.true_false": (" true 或 false", "true or false"),
    "type.date": ("按 YYYY-MM-DD 写的日期", "a date written as YYYY-MM-DD"),
    "type.mapping": ("映射（「键: 值」的多行）", "a mapping (key: value lines)"),
    "type.list": ("列表", "a list"),
    "got.boolean": ("布尔值 {value}", "the boolean {value}"),
    "got.number": (
        "数字 {value}；如果它是编号，请加上引号",
        "the number {value}; put it in quotes if it is an identifier",
    ),
    "got.date": ("日期 {value}", "the date {value}"),
    "got.mapping": ("一个映射", "a mapping"),
    "got.list": ("一个列表", "a list"),
    "got.text": ("「{value}」", "{value!r}"),
    "got.other": ("{value}", "{value}"),
    # ── the plan: references, timing, cycles, the roster ──
    "plan.unknown_unit": ("未知的单位「{ref}」（已有：{known}）", "unknown unit {ref!r} (known: {known})"),
    "plan.unknown_person": (
        "未知的人员「{ref}」（已有：{known}）",
        "unknown person {ref!r} (known: {known})",
    ),
    "plan.unknown_milestone": (
        "未知的节点「{ref}」（已有：{known}）",
        "unknown milestone {ref!r} (known: {known})",
    ),
    "plan.not_recipient": (
        "「{ref}」既不是 `people` 中的人员，也不是以下角色之一：{roles}",
        "{ref!r} is neither a person of `people` nor one of: {roles}",
    ),
    "plan.timezone": (
        "未知的时区「{zone}」；例如 Asia/Shanghai",
        "unknown timezone {zone!r}; e.g. Asia/Shanghai",
    ),
    "plan.campaign_dates": (
        "采集工作的结束日期（{end}）早于开始日期（{start}）",
        "the campaign ends ({end}) before it starts ({start})",
    ),
    "plan.real_address": (
        "这不是 .example 下的占位地址；请确认这就是要使用的真实地址",
        "this is not a placeholder under .example; make sure it is the real address you mean",
    ),
    "plan.no_collector": (
        "{name} 还没有信息采集员；它的提醒将发给负责人",
        "{name} has no collector (信息采集员) yet; its reminders go to its head",
    ),
    "plan.ladder_order": (
        "催办升级必须一级比一级晚：{after} 个工作日并不晚于上一级的 {previous} 个工作日",
        "escalation levels must come later and later: {after} working days is not after the previous "
        "level's {previous}",
    ),
    "plan.offset_twice": ("同一个提前天数列了两次", "a reminder offset is listed twice"),
    "plan.timing": (
        "`due`（日期；日期未定时写 null）、`after`（相对于另一个节点）和 `monthly` 必须给出且只能给出一个；"
        "现在给出的是：{found}",
        "give exactly one of `due` (a date, or null while the date is to be announced), `after` (relative "
        "to another milestone) or `monthly`; found {found}",
    ),
    "plan.timing_none": ("一个也没有", "none of them"),
    "plan.start_needs_due": (
        "有 `start` 时还需要 `due` 日期，才能构成时间窗口",
        "`start` needs a `due` date to make a window",
    ),
    "plan.window": (
        "时间窗口的结束日期 {due} 早于开始日期 {start}",
        "the window ends on {due}, before it starts on {start}",
    ),
    "plan.after_itself": ("一个节点不能以它自己为基准", "a milestone cannot be due after itself"),
    "plan.monthly_dates": (
        "每月任务的结束日期（{until}）早于开始日期（{start}）",
        "monthly occurrences end ({until}) before they start ({start})",
    ),
    "plan.derived_needs_state": (
        "`completion: derived` 需要用 `teachers_at_least: <状态>` 说明何时算完成",
        "a derived completion needs `teachers_at_least: <state>` to say when it holds",
    ),
    "plan.state_only_derived": (
        "`teachers_at_least` 只在 `completion: derived` 时适用",
        "`teachers_at_least` only applies with `completion: derived`",
    ),
    "plan.cycle": ("依赖关系形成了循环：{chain}", "dependencies form a cycle: {chain}"),
    "plan.sync_column": ("状态导出必须映射 `{name}` 列", "the status export must map the `{name}` column"),
    "plan.retention": (
        "名单映射了 {fields}，但计划没有设置 `retention`：这些数据会一直保存，直到有人手动删除；"
        "请添加例如 `retention: {{days_after_end: 180}}`（见 docs/data-retention.md）",
        "the roster maps {fields} but the plan sets no `retention`: they would be kept until removed by "
        "hand; add e.g. `retention: {{days_after_end: 180}}` (docs/data-retention.md)",
    ),
    "plan.roster_column": ("名单必须映射 `{name}` 列", "the roster must map the `{name}` column"),
    "plan.header_twice": (
        "表头「{header}」已经映射给了 `{other}`",
        "header {header!r} is already mapped to `{other}`",
    ),
    "plan.scope_one_op": (
        "每条范围规则必须有且只能有 at_least、at_most、in、not_in 中的一个",
        "a scope rule needs exactly one of at_least, at_most, in, not_in",
    ),
    "plan.scope_unmapped": (
        "`{field}` 没有在 roster.columns 中映射",
        "`{field}` is not mapped under roster.columns",
    ),
    "plan.scope_text": (
        "`{field}` 是文字；at_least/at_most 需要数字",
        "`{field}` is text; at_least/at_most need a number",
    ),
    # ── the plan: days off ──
    "plan.uncovered_year": (
        "官方节假日日历还没有 {year} 年的数据：目前只把周末当作休息日；"
        "公布后请把当年的节假日和调休上班日写在 calendar.extra_holidays 和 calendar.extra_workdays 下",
        "the official holiday calendar has no data for {year} yet: weekends only are days off; list that "
        "year's holidays and make-up workdays under calendar.extra_holidays and calendar.extra_workdays "
        "once announced",
    ),
    "plan.holiday": (
        "{day}（{weekday}）是节假日，不是工作日",
        "{day} ({weekday}) is a holiday, not a working day",
    ),
    "plan.weekend": (
        "{day}（{weekday}）是周末，不是工作日",
        "{day} ({weekday}) is a weekend day, not a working day",
    ),
    "plan.deadline_off": (
        "截止日期 {day_off}；最后一次工作日提醒在 {earlier} 发出",
        "the deadline {day_off}; its last working-day reminder goes out on {earlier}",
    ),
    "plan.occurrence_off": ("这一次的日期 {day_off}", "the occurrence {day_off}"),
    "plan.reminder_off": (
        "提前 {offset} 天的提醒落在 {day_off}",
        "the reminder {offset} days before falls on {day_off}",
    ),
    "weekday.0": ("星期一", "Monday"),
    "weekday.1": ("星期二", "Tuesday"),
    "weekday.2": ("星期三", "Wednesday"),
    "weekday.3": ("星期四", "Thursday"),
    "weekday.4": ("星期五", "Friday"),
    "weekday.5": ("星期六", "Saturday"),
    "weekday.6": ("星期日", "Sunday"),
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


class WordedValueError(ValueError):
    """A validator's refusal as Words (pydantic keeps the exception, so the plan check can say it in the
    plan's language); str() is the English."""

    def __init__(self, message: Words) -> None:
        self.words = message
        super().__init__(str(message))


def words(message: str, /, **fields: Any) -> Words:
    """The message `message` with its fields; an id not in the catalogue is a programming error."""
    if message not in CATALOGUE:
        raise KeyError(f"no message {message!r} in the catalogue")
    return Words(message, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in fields.items()))


def say(language: str, message: str, /, **fields: Any) -> str:
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
