"""1–2 character search through the trigram index (archive/short_words.py): exactly the reports a scan finds.

The index path must agree with the plain scan (instr over title, agency and text) for words anywhere in a column,
at its very end, in a column of one or two characters, in an old version only, and after a report's text changes.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from archive import Archive, search, short_words
from tests.archive_builder import gold_report

# (title, agency, text) of each report; the words below sit in the middle, at the end, or make up a whole column.
REPORTS = {
    "middle": ("湘潭县林业局年报", "湘潭县林业局", "本年度钓鱼执法检查三次，公开信息十二条。"),
    "text_end": ("攸县渔政站年报", "攸县渔政站", "全年受理申请均已办结，未发现钓鱼"),
    "last_char": ("县水利局年报", "县水利局", "附件：河长制巡河记录表鳅"),
    "second_last": ("县农业局年报", "县农业局", "统计数据见附表鲤。"),
    "short_agency": ("某站报告", "渔政", "无。"),  # 渔政 only as the whole agency
    "title_end": ("关于垂钓", "某镇", "正文没有这个词。"),
}
WORDS = ("钓鱼", "钓", "鱼", "鳅", "鲤", "渔政", "垂钓", "无", "县", "没有的词", "本年")


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("short") / "nianbao.db"
    store = Archive(path)
    run_id = store.start_run(portals=["test"], start_urls=[])
    ids = {}
    for name, (title, agency, text) in REPORTS.items():
        url = f"http://www.example.gov.cn/{name}.html"
        sha = store.record_fetch(run_id, url, status=200, body=text.encode(), headers={})
        report = dataclasses.replace(gold_report(0), source=url, title=title, agency=agency, text=text)
        store.store_report(run_id, url, sha, report)
        ids[name] = store.current_version(url)["id"]
    store.commit()
    store.close()
    return path, ids


def found(path, word: str) -> set[int]:
    return {row["id"] for row in search(path, word)}


def scanned(path, word: str, monkeypatch) -> set[int]:
    """What the plain scan finds: every short word counted as common."""
    with monkeypatch.context() as patched:
        patched.setattr(short_words, "COMMON_WORD", 0)
        return found(path, word)


@pytest.mark.parametrize("word", WORDS)
def test_the_index_finds_what_the_scan_finds(archive_path, word, monkeypatch):
    path, _ = archive_path
    assert found(path, word) == scanned(path, word, monkeypatch)


def test_words_at_a_columns_end_or_making_a_whole_column(archive_path):
    path, ids = archive_path
    assert found(path, "钓鱼") == {ids["middle"], ids["text_end"]}  # the second ends its text: no trigram starts there
    assert found(path, "鳅") == {ids["last_char"]}
    assert found(path, "鲤") == {ids["second_last"]}
    assert found(path, "渔政") == {ids["text_end"], ids["short_agency"]}  # the agency "渔政" has no trigram at all
    assert found(path, "垂钓") == {ids["title_end"]}
    assert found(path, "钓") == {ids["middle"], ids["text_end"], ids["title_end"]}
    assert found(path, "钓鱼 渔政") == {ids["text_end"]}
    assert found(path, "钓鱼 执法检查") == {ids["middle"]}  # a short word and a trigram one together


def test_changed_text_changes_what_is_found(tmp_path):
    """A new version without the word, and a report whose text is rewritten in place (what reparse does)."""
    path = tmp_path / "nianbao.db"
    store = Archive(path)
    run_id = store.start_run(portals=["test"], start_urls=[])
    url = "http://www.example.gov.cn/v.html"
    for edit, text in enumerate(("旧版结尾是钓鱼", "新版没有")):
        sha = store.record_fetch(run_id, url, status=200, body=text.encode(), headers={})
        report = dataclasses.replace(gold_report(0), source=url, text=text, applications=copy.deepcopy(
            gold_report(0).applications))
        report.applications["new_received"]["total"] += edit  # a corrected republication: other figures
        assert store.store_report(run_id, url, sha, report) == ("changed" if edit else "new")
    current = store.current_version(url)["id"]
    store.commit()
    assert found(path, "钓鱼") == set()  # only the superseded version had it
    store.db.execute("UPDATE reports SET text = '改写后以钓鱼结尾的钓鱼' WHERE id = ?", [current])
    store.commit()
    assert found(path, "钓鱼") == {current}
    assert store.db.execute("SELECT tail FROM report_tails WHERE report_id = ? AND tail = '钓鱼'",
                            [current]).fetchall() == [("钓鱼",)]
    store.close()
