"""Title, agency, year, publish date, region and the prose sections."""

from parsers import parse
from tests.gold import FIXTURES


def test_title_split_over_two_lines_is_joined():
    report = parse((FIXTURES / "seed-004.txt").read_bytes())
    assert report.title == "湘潭县人力资源和社会保障局2024年政府信息公开工作年度报告"
    assert report.agency == "湘潭县人力资源和社会保障局"
    assert report.region == "湘潭县"


def test_agencies_and_regions():
    expected = {
        "seed-000": ("湘潭县数据局", "湘潭县", 2024),
        "seed-001": ("攸县人民政府办公室", "攸县", 2024),
        "seed-002": ("湘潭县易俗河镇", "湘潭县", 2024),
        "seed-003": ("湘潭县", "湘潭县", 2020),
    }
    for seed, (agency, region, year) in expected.items():
        report = parse((FIXTURES / f"{seed}.html").read_bytes())
        assert (report.agency, report.region, report.year) == (agency, region, year)


def test_gov_site_meta_gives_title_and_publish_date_and_year_is_the_covered_year():
    page = (
        (FIXTURES / "seed-000.html")
        .read_text(encoding="utf-8")
        .replace(
            "<head>",
            '<head><meta name="ArticleTitle" content="湘潭县数据局2024年政府信息公开工作年度报告">'
            '<meta name="PubDate" content="2025-01-20 09:30"><meta name="ContentSource" content="湘潭县数据局">',
        )
    )
    page = page.replace(
        "<title>湘潭县数据局2024年政府信息公开工作年度报告</title>", "<title>年度报告_湘潭县人民政府</title>"
    )
    report = parse(page.encode("utf-8"))
    assert report.title == "湘潭县数据局2024年政府信息公开工作年度报告"
    assert report.published == "2025-01-20"
    assert report.year == 2024


def test_publish_date_from_page_text_and_site_suffix_stripped_from_title():
    page = (FIXTURES / "seed-002.html").read_text(encoding="utf-8")
    page = page.replace(
        "<title>湘潭县易俗河镇2024年政府信息公开工作年度报告</title>",
        "<title>湘潭县易俗河镇2024年政府信息公开工作年度报告 - 湘潭县人民政府</title>",
    )
    page = page.replace(
        "<h1>湘潭县易俗河镇2024年政府信息公开工作年度报告</h1>", "<div>发布时间：2025年1月26日  来源：易俗河镇</div>"
    )
    report = parse(page.encode("utf-8"))
    assert report.title == "湘潭县易俗河镇2024年政府信息公开工作年度报告"
    assert report.published == "2025-01-26"


def test_sections():
    report = parse((FIXTURES / "seed-000.html").read_bytes())
    assert report.sections["overview"].startswith("2024年，湘潭县数据局认真贯彻执行")
    assert "牵头抓总的作用需进一步强化" in report.sections["problems"]
    assert report.sections["other"] == "信息处理费收费情况：本年度未收取信息处理费。"
    assert report.sections["information_fee"] == "信息处理费收费情况：本年度未收取信息处理费。"
    assert "主动公开政府信息情况" not in report.sections["overview"].splitlines()[-1]
