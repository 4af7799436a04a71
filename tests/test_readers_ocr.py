"""Scans and images: the table grid rebuilt from the ruling lines, every value right or flagged.

OCR costs ~4 s a page on two cores, so the default run reads one page image (seed-000.page3.jpg: page 3 of
seed-000.scan.pdf, the 150-DPI JPEG inside it); the five whole scanned PDFs (~90 s) are marked `slow`.
"""

import pytest

from parsers import ocr_reader, parse
from parsers.labels import norm
from tests.gold import FIXTURES, SEEDS, cell_count, covered, differences, load_gold

# Page 3 of seed-000: the rows of table 三 from the row cut by the page break (果 / 这一情形…) to "3.其他".
PAGE3_LABELS = [
    "这一情形", "1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及三安全一稳定", "4.保护第三方合法权益",
    "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项",
    "1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确", "1.信访举报投诉类申请",
    "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息",
    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他",
]


@pytest.fixture(scope="module")
def page3():
    return ocr_reader.read((FIXTURES / "seed-000.page3.jpg").read_bytes())


def test_image_page_grid_has_the_official_rows(page3):
    assert page3.form == "image"
    [table] = page3.tables
    assert len(table.rows) == len(PAGE3_LABELS)
    for row, label in zip(table.rows, PAGE3_LABELS, strict=True):
        # group cells ((三)不予公开, merged over eight rows) come once, in their first row
        labels = [c for c in row if not c.isdigit() and c]
        assert norm(label) in norm("".join(labels[-1:]))
    assert norm(table.rows[9][0]) == norm("（四）无法提供")
    assert norm(table.rows[1][0]) == norm("（三）不予公开")


def test_image_page_values_are_right_or_flagged(page3):
    [table] = page3.tables
    wrong = []
    for r, row in enumerate(table.rows[1:], start=1):
        want = ["3", "0", "0", "0", "0", "0", "3"] if "不掌握" in "".join(row) else ["0"] * 7
        values = row[-7:]
        wrong += [(r, len(row) - 7 + i) for i, (got, exp) in enumerate(zip(values, want, strict=True)) if got != exp]
    assert all(cell in table.uncertain for cell in wrong), (wrong, table.uncertain)
    assert len(wrong) <= 2  # and OCR is right almost everywhere
    assert table.rows[0][2:] == [""] * 7  # the cut-off row's value cells are blank, not misread specks
    assert all(reason.startswith("OCR") for reason in table.uncertain.values())


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_scanned_pdf_every_cell_right_or_flagged(seed):
    report = parse((FIXTURES / f"{seed}.scan.pdf").read_bytes(), source=f"{seed}.scan.pdf").to_dict()
    gold = load_gold(seed)
    assert report["form"] == "scan"
    assert report["format"] == gold["format"]
    cells = [d for d in differences(report, gold) if d.split(".")[0] in ("proactive", "applications",
                                                                           "review_litigation")]
    assert [d for d in cells if not covered(d, report)] == []
    assert len(cells) <= 0.03 * cell_count(gold)
