"""Who reports, for which year, published when: read from the title, the 统计期限 sentence and page metadata."""

from __future__ import annotations

import re

from parsers.document import Document

# A page <title> is "<article>_<site>" (or | ｜ - — – between them); a dash between two digits is a year range
# ("2019-2020年"), not a separator.
_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜]+|(?<!\d)[—–-]+|[—–-]+(?!\d))\s*")
_AGENCY_BEFORE_YEAR = re.compile(r"^(?P<agency>.+?)(?:关于)?(?P<year>(?:19|20)\d{2})\s*年度?")
_AGENCY_AFTER_YEAR = re.compile(r"^(?P<year>(?:19|20)\d{2})\s*年度?(?P<agency>.+?)(?:本级)?政府信息公开")
_PERIOD = re.compile(r"(?:统计期限|统计时限|统计期间|期限)[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_PUBLISHED = re.compile(
    r"(?:发布|公开|成文)(?:时间|日期)\s*[:：]?\s*((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"
)
# What every _PUBLISHED match starts with: a text without any of them is not searched (~1 % of a parse).
_PUBLISHED_WORDS = tuple(a + b for a in ("发布", "公开", "成文") for b in ("时间", "日期"))
_ISO = re.compile(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_REGION = re.compile(r"^(.{1,8}?(?:自治县|自治州|县|市|区|旗))")
_AGENCY_NO_YEAR = re.compile(r"^(?P<agency>.+?)(?:本级)?信息公开工作年度报告")
_TITLE_WORDS = ("年度报告", "年报", "工作报告")
# What pages saved as text put before a title: a "标题:" field, or a breadcrumb ending in the article's title.
_LABEL_PREFIX = re.compile(r"^(?:文章标题|标\s*题|题\s*名|名\s*称)\s*[:：]\s*")
_BREADCRUMB = re.compile(r"^.*(?:当前位置|您的位置|首页)\s*[:：]?.*[>»›＞]\s*")


def _clean_title(line: str) -> str:
    """A title line without its "标题:" label or the breadcrumb before it."""
    return _BREADCRUMB.sub("", _LABEL_PREFIX.sub("", line.strip())).strip()


def split_title(title: str) -> list[str]:
    """The parts of a page title: the article's own title first, then the site's name(s)."""
    return [part for part in _TITLE_SPLIT.split(title.strip()) if part]


def find_title(document: Document) -> str | None:
    """The document's own title, else the report title at the top of its text (joined when split over two lines)."""
    if document.title:
        parts = [p for p in split_title(document.title) if any(w in p for w in _TITLE_WORDS)]
        return parts[0].strip() if parts else document.title.strip()
    paragraphs = [_clean_title(b) for b in document.blocks[:12] if isinstance(b, str) and _clean_title(b)]
    for i, line in enumerate(paragraphs):
        if any(w in line for w in _TITLE_WORDS) and len(line) <= 60:
            before = paragraphs[i - 1] if i else ""
            if before and len(before) <= 30 and "。" not in before and _YEAR.match(line):
                return before + line
            return line
    return None


def find_agency(title: str | None, document: Document) -> str | None:
    if title:
        m = _AGENCY_AFTER_YEAR.match(title) or _AGENCY_BEFORE_YEAR.match(title) or _AGENCY_NO_YEAR.match(title)
        if m:
            agency = m.group("agency").strip(' 《》“”"')
            if agency.endswith("政府") and not agency.endswith("人民政府"):
                agency = agency[:-2]  # "X局政府信息公开…": 政府 belongs to the report's name
            if agency and not agency.isdigit():
                return agency
    return document.meta.get("ContentSource") or None


def find_year(title: str | None, text: str) -> int | None:
    """The year the report covers: from 统计期限, else the title; never from the publish date."""
    m = _PERIOD.search(text)
    if m:
        return int(m.group(1))
    m = _YEAR.search(title or "")
    return int(m.group(1)) if m else None


def find_published(document: Document, text: str) -> str | None:
    """Publish date as YYYY-MM-DD: gov-site PubDate meta, else the page's 发布时间 line, else one in the text."""
    m = (
        _ISO.search(document.meta.get("PubDate", ""))
        or _PUBLISHED.search(document.meta.get("Dateline", ""))
        or (any(word in text for word in _PUBLISHED_WORDS) and _PUBLISHED.search(text))
    )
    if not m:
        return None
    year, month, day = (int(g) for g in m.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def find_region(agency: str | None) -> str | None:
    """The county/district the agency belongs to, when its name starts with one (湘潭县数据局 -> 湘潭县)."""
    m = _REGION.match(agency or "")
    return m.group(1) if m else None
