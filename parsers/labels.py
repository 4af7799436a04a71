"""How the official tables' labels are recognised.

Labels are matched by distinctive words, after normalising (NFKC turns full-width brackets and digits into
ASCII; spaces and quotes go), so `(三)不予 公开`, `（三）不予公开` and a label broken by <br> all read the same.
Matching by words, not by position, is what lets a missing, extra or reordered row be noticed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_DROP = re.compile(r"[\s\"'“”‘’「」『』]+")


@lru_cache(maxsize=8192)
def norm(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text))


# applications (table 三) rows: first match wins, so the specific items come before the group rows.
APPLICATION_ROW_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in [
        ("new_received", r"本年新收"),
        ("carried_over", r"上年结转"),
        ("carried_forward", r"结转下年"),
        ("partially_granted", r"部分公开"),
        ("denied_state_secret", r"国家秘密"),
        ("denied_prohibited_by_law", r"法律行政法规禁止|其他法律行政"),  # real reports misprint it (行政止公开)
        ("denied_security_stability", r"三安全一稳定"),
        ("denied_third_party_rights", r"第三方合法权益"),
        ("denied_internal_affairs", r"内部事务"),
        ("denied_process_info", r"过程性信息"),
        ("denied_enforcement_files", r"行政执法案卷"),
        ("denied_admin_query", r"行政查询"),
        ("unavailable_not_held", r"不掌握"),
        ("unavailable_needs_creation", r"另行制作"),
        ("unavailable_unclear", r"仍不明确"),
        ("rejected_petition", r"信访举报投诉"),
        ("rejected_duplicate", r"重复申请"),
        ("rejected_publication", r"公开出版物"),
        ("rejected_excessive", r"大量反复"),
        ("rejected_confirmation", r"确认或重新出具"),
        ("other_no_correction", r"逾期不补正"),
        ("other_unpaid_fee", r"收费通知|缴纳费用"),
        ("other_other", r"(?:^|\d\.|处理)其他$"),
        ("other", r"其他处理$"),
        ("granted", r"予以公开"),
        ("total_processed", r"\(七\)总计|七、总计|^总计$"),
    ]
)

# table 三 header labels -> column keys
APPLICATION_COLUMNS = {
    "自然人": "natural_person",
    "商业企业": "commercial_enterprise",
    "科研机构": "research_institution",
    "社会公益组织": "social_welfare_org",
    "法律服务机构": "legal_service_org",
    "其他": "other_org",
    "总计": "total",
}
APPLICATION_GROUP = "法人或其他组织"
APPLICATIONS_MARKERS = ("勾稽关系", "申请人情况")

# table 二 rows (both templates)
PROACTIVE_ITEM_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in [
        ("regulations", r"规章(?:\([^)]*\))?$"),  # 规章(县级无此项): a county's note on the label
        ("normative_documents", r"规范性文件$"),
        ("licensing", r"行政许可$"),
        ("other_services", r"其他对外管理服务事项$"),
        ("penalty", r"行政处罚$"),
        ("coercion", r"行政强制$"),
        ("fees", r"行政事业性收费$"),
        ("procurement", r"政府集中采购$"),
    ]
)

# table 二 field headers -> field keys (2021 and 2019 words differ, keys never collide within a format)
PROACTIVE_FIELD_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in [
        ("issued", r"制发"),
        ("repealed", r"废止"),
        ("in_force", r"现行有效"),
        ("amount_10k_yuan", r"收费金额"),
        ("newly_made", r"新制作"),
        ("newly_published", r"新公开"),
        ("total_published", r"对外公开总"),
        ("previous_items", r"上一年项目"),
        ("change", r"增/?减"),
        ("decisions", r"处理决定"),
        ("projects", r"采购项目"),
        ("total_amount", r"采购总金额"),
    ]
)
FIELD_UNITS = {"amount_10k_yuan": "10k_yuan", "total_amount": "yuan"}

# table 四 headers
REVIEW_MARKERS = ("行政复议", "行政诉讼")
REVIEW_OUTCOMES = {
    "结果维持": "upheld",
    "结果纠正": "corrected",
    "其他结果": "other",
    "尚未审结": "pending",
    "总计": "total",
}
SUIT_GROUPS = {"未经复议直接起诉": "suit_direct", "复议后起诉": "suit_after_review"}

# words that only one template has
FORMAT_2019_MARKERS = (
    "新制作数量",
    "新公开数量",
    "对外公开总数量",
    "上一年项目数量",
    "政府集中采购",
    "其他对外管理服务事项",
)
FORMAT_2021_MARKERS = (
    "本年制发件数",
    "本年废止件数",
    "现行有效件数",
    "逾期不补正",
    "本年收费金额",
    "收费通知",
)


def _first_match(patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> Callable[[str], str | None]:
    """label -> the key of the first of `patterns` found in it, cached per label (the same few dozen template
    labels recur in every report; a cache keyed on the patterns too would hash all of them on every call)."""

    @lru_cache(maxsize=4096)
    def key_of(label: str) -> str | None:
        for key, pattern in patterns:
            if pattern.search(label):
                return key
        return None

    return key_of


application_row = _first_match(APPLICATION_ROW_PATTERNS)
proactive_item = _first_match(PROACTIVE_ITEM_PATTERNS)
proactive_field = _first_match(PROACTIVE_FIELD_PATTERNS)
