"""The prose sections journalists quote: 一 总体情况, 五 存在的主要问题及改进情况, 六 其他需要报告的事项."""

from __future__ import annotations

import re

from parsers.document import Document

_HEADING = re.compile(r"^\s*([一二三四五六])\s*[、.．]\s*(.{0,40})$")
_KEYS = {"一": "overview", "五": "problems", "六": "other"}
_FEE = "信息处理费"
_STOPS = "。；;！!\n"


def find_sections(document: Document, text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for block in document.blocks:
        if not isinstance(block, str):
            continue
        m = len(block) <= 40 and _HEADING.match(block)  # the length first: most paragraphs are longer
        if m:
            current = _KEYS.get(m.group(1))
            if current:
                sections.setdefault(current, [])
            continue
        if current:
            sections[current].append(block)
    out = {key: "\n".join(parts).strip() for key, parts in sections.items()}
    fee = " ".join(_sentences_with(_FEE, text))
    if fee:
        out["information_fee"] = fee
    return out


def _sentences_with(word: str, text: str) -> list[str]:
    """Each sentence (up to its 。/；/！ or line end) that mentions `word`, once."""
    found: list[str] = []
    at = text.find(word)
    while at >= 0:
        start = max(text.rfind(stop, 0, at) for stop in _STOPS) + 1
        ends = [e for e in (text.find(stop, at) for stop in _STOPS) if e >= 0]
        end = min(ends) + 1 if ends else len(text)
        sentence = text[start:end].strip()
        if sentence and sentence not in found:
            found.append(sentence)
        at = text.find(word, end)
    return found
