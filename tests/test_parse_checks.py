"""Reports that break each consistency rule: the parse succeeds, the rule fails with a readable detail."""

from parsers import parse
from tests.gold import FIXTURES

PIPE = (FIXTURES / "seed-001.txt").read_text(encoding="utf-8")
CELLS = (FIXTURES / "seed-003.txt").read_text(encoding="utf-8")


def outcome(report, rule):
    return next(c for c in report.checks if c["rule"] == rule)


def test_row_total_broken():
    text = PIPE.replace("2.重复申请 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |", "2.重复申请 | 1 | 0 | 0 | 0 | 0 | 0 | 2 |")
    report = parse(text.encode())
    check = outcome(report, "row_total")
    assert check["ok"] is False
    assert check["detail"] == "rejected_duplicate: applicants sum to 1, 总计 says 2"
    assert not report.checks_ok


def test_balance_broken():
    text = PIPE.replace(
        "二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "二、上年结转政府信息公开申请数量 | 3 | 0 | 0 | 0 | 0 | 0 | 3 |",
    )
    report = parse(text.encode())
    assert outcome(report, "balance") == {
        "rule": "balance",
        "ok": False,
        "detail": "natural_person: 一+二 = 17 but 三(七)+四 = 14; total: 一+二 = 17 but 三(七)+四 = 14",
    }
    assert outcome(report, "row_total")["ok"] is True


def test_processed_sum_broken():
    text = PIPE.replace("(七)总计 | 14 | 0 | 0 | 0 | 0 | 0 | 14 |", "(七)总计 | 15 | 0 | 0 | 0 | 0 | 0 | 15 |")
    report = parse(text.encode())
    assert outcome(report, "processed_sum")["ok"] is False
    assert "natural_person: items sum to 14, (七)总计 says 15" in outcome(report, "processed_sum")["detail"]
    assert outcome(report, "balance")["ok"] is False


def test_review_and_suit_totals_broken():
    text = CELLS.replace(
        "\t0\n\t0\n\t0\n\t0\n\t0\n\t0\n\t2\n\t0\n\t0\n\t2\n\t0\n\t0\n\t0\n\t0\n\t0",
        "\t1\n\t0\n\t0\n\t0\n\t0\n\t0\n\t2\n\t0\n\t0\n\t3\n\t0\n\t0\n\t0\n\t1\n\t0",
    )
    report = parse(text.encode())
    assert report.review_litigation["review_upheld"] == 1
    assert outcome(report, "review_total")["detail"] == "行政复议: outcomes sum to 1, 总计 says 0"
    assert outcome(report, "suit_direct_total")["detail"] == "未经复议直接起诉: outcomes sum to 2, 总计 says 3"
    assert outcome(report, "suit_after_review_total")["ok"] is False
    assert outcome(report, "row_total")["ok"] is True
