"""Every text and HTML fixture parses to its gold values, cell by cell."""

import pytest

from parsers import parse
from tests.gold import FIXTURES, SEEDS, cell_count, differences, load_gold


@pytest.mark.parametrize("suffix", ["txt", "html", "gbk.html"])
@pytest.mark.parametrize("seed", SEEDS)
def test_fixture_matches_gold(seed, suffix):
    path = FIXTURES / f"{seed}.{suffix}"
    report = parse(path.read_bytes(), source=str(path)).to_dict()
    gold = load_gold(seed)
    assert differences(report, gold) == []
    assert cell_count(gold) > 40  # the comparison really covered the tables
    assert report["flags"] == []
    assert all(check["ok"] is not False for check in report["checks"])


def test_gold_comparison_notices_a_wrong_cell():
    report = parse((FIXTURES / "seed-000.html").read_bytes()).to_dict()
    report["applications"]["unavailable_not_held"]["natural_person"] = 4
    assert differences(report, load_gold("seed-000")) == ["applications.unavailable_not_held.natural_person: 4 != 3"]


def test_missing_table_four_is_null_not_zeros():
    report = parse((FIXTURES / "seed-001.html").read_bytes())
    assert report.review_litigation is None
    assert report.applications["new_received"]["total"] == 14
    review_checks = [c for c in report.checks if c["rule"].endswith("_total") and c["rule"] != "row_total"]
    assert [c["ok"] for c in review_checks] == [None, None, None]
    assert "not in the report" in review_checks[0]["detail"]


def test_every_rule_of_the_spec_is_reported():
    from parsers.schema import rules

    report = parse((FIXTURES / "seed-003.txt").read_bytes())
    assert [c["rule"] for c in report.checks] == list(rules())
    assert all(c["ok"] is True and c["detail"] for c in report.checks)


def test_2019_template_values():
    report = parse((FIXTURES / "seed-003.html").read_bytes())
    assert report.format == "2019"
    assert report.proactive["procurement"] == {"projects": 1106, "total_amount": 472540922.62}
    assert report.proactive["penalty"]["change"] == -3
    assert "other" in report.applications and "other_other" not in report.applications
    assert report.review_litigation["suit_direct_corrected"] == 2
