"""The reports and formats there are (light: the command line lists them without loading the writers)."""

REPORTS = {
    "dept-audit": "附表6_数据审核报表",
    "monthly": "附表4_月报表",
    "teacher-sheet": "附表5_教师信息审核表",
    "working-group": "附表3_工作组名单",
}
"""Report name → the start of its default file name (the seed's form number and title)."""
FORMATS = ("xlsx", "docx", "pdf", "html")
PROVINCE_REPORT = ("province-monthly", "附表4_全省汇总")
"""The province's 附表4 (`cuiban province report`): its template name and the start of its file name.
Not among REPORTS: an institution's `cuiban report` does not write it."""
