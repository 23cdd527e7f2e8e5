"""Words for states and kinds in each message language."""

from __future__ import annotations

STATE_LABELS = {
    "zh": {
        "pending": "待开通账号",
        "account_issued": "未填报",
        "filling": "填报中",
        "submitted": "已提交",
        "reviewed": "已审核",
        "returned": "已退回",
        "confirmed": "已确认",
        "reported": "已上报",
        "correction_requested": "更正审批中",
        "excluded": "不在采集范围",
        "left": "已离职",
    },
    "en": {
        "pending": "no account yet",
        "account_issued": "not started",
        "filling": "filling in",
        "submitted": "submitted",
        "reviewed": "reviewed",
        "returned": "returned",
        "confirmed": "confirmed",
        "reported": "reported",
        "correction_requested": "correction requested",
        "excluded": "out of scope",
        "left": "left",
    },
}


def state_label(language: str, state: str) -> str:
    return STATE_LABELS.get(language, STATE_LABELS["en"]).get(state, state)
